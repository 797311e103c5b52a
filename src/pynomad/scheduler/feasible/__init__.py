"""Feasibility steps of the placement chain, one per file (Nomad's feasible.go).

- `source`: the nodes a selection visits (shuffled for service and batch jobs).
- `wrapper`: job and group checks memoized per computed node class, then per-node checks.
- Checkers, each `check(node) -> reason | None`: `constraint`, `driver`, `device`,
  `network` (class-cached); `host_volume`, `distinct_hosts`, `distinct_property`
  (per node).
- `nodes`: datacenter and node pool filters applied before the chain.
- `operators`: the constraint language; `propertyset`: allocation counts per property value.
"""

from .host_volume import HOST_VOLUMES_FILTER, host_volume_requests  # noqa: F401
from .operators import (check_constraint, constraint_string, meets_constraint,  # noqa: F401
                        resolve_target)
