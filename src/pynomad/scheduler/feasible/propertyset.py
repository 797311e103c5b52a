"""Property sets (Nomad's propertyset.go): how many of a job's allocations use each value of
a node property, counting existing allocations, the plan's placements and its stops.

Used by `distinct_property` (a limit per value) and `spread` (counts per value). Built once
per evaluation from the job's allocations, then kept current incrementally through the
EvalContext's placement/stop notifications, so a lookup is O(1).
"""

from __future__ import annotations

from ...structs import Allocation, Constraint, Job, Node
from ..context import EvalContext
from .operators import resolve_target

IMPLICIT_TARGET = "*"


def get_property(node: Node | None, attribute: str) -> tuple[str | None, bool]:
    if node is None or not attribute:
        return None, False
    return resolve_target(attribute, node)


class PropertySet:
    """Counts of allocations per (targeted) property value for one job, optionally one group."""

    def __init__(self, ctx: EvalContext, job: Job, attribute: str, task_group: str = "",
                 allowed: int = 0, targets: set[str] | None = None, error: str = "") -> None:
        self.ctx = ctx
        self.namespace = job.Namespace or "default"
        self.job_id = job.ID
        self.attribute = attribute
        self.task_group = task_group
        self.allowed = allowed
        self.targets = targets or set()
        self.error = error
        self.existing: dict[str, int] = {}
        self.proposed: dict[str, int] = {}
        self.cleared: dict[str, int] = {}
        self._existing_ids: set[str] = set()
        self._combined: dict[str, int] | None = None
        self._min_max: tuple[int, int] | None = None
        self._values: dict[str, tuple[str | None, bool]] = {}
        self.version = 0
        if not error:
            self._populate()
            ctx.subscribe(self)

    # -- building ------------------------------------------------------------------------
    def _populate(self) -> None:
        state = self.ctx.state
        for a in state.allocs_by_job_id(self.namespace, self.job_id):
            if self._matches(a, filter_terminal=True):
                self._existing_ids.add(a.ID)
                self._count(self.existing, a, +1)
        for allocs in self.ctx.plan.NodeUpdate.values():
            for a in allocs:
                self.stopped(a)
        for allocs in self.ctx.plan.NodeAllocation.values():
            for a in allocs:
                self.placed(a)

    def _matches(self, alloc: Allocation, filter_terminal: bool) -> bool:
        if alloc.JobID != self.job_id or (alloc.Namespace or "default") != self.namespace:
            return False
        if filter_terminal and alloc.terminal():
            return False
        return not self.task_group or alloc.TaskGroup == self.task_group

    def _count(self, counts: dict[str, int], alloc: Allocation, delta: int) -> bool:
        node = self.ctx.state.node_by_id(alloc.NodeID)
        value, ok = self.value_of(node) if node is not None else (None, False)
        if not ok:
            return False
        key = self.targeted(value)
        counts[key] = counts.get(key, 0) + delta
        self._combined = self._min_max = None
        self.version += 1
        return True

    def value_of(self, node: Node) -> tuple[str | None, bool]:
        """The node's value of the attribute (memoized: nodes don't change in an eval)."""
        got = self._values.get(node.ID)
        if got is None:
            got = self._values[node.ID] = get_property(node, self.attribute)
        return got

    # -- plan notifications (PlanListener) -------------------------------------------------
    def placed(self, alloc: Allocation) -> None:
        if alloc.ID in self._existing_ids or not self._matches(alloc, filter_terminal=True):
            return
        self._count(self.proposed, alloc, +1)

    def stopped(self, alloc: Allocation) -> None:
        if self._matches(alloc, filter_terminal=False):
            self._count(self.cleared, alloc, +1)

    # -- queries -------------------------------------------------------------------------
    def targeted(self, value: str) -> str:
        """Values not named by a spread target are counted together as `*`."""
        if not self.targets or value in self.targets:
            return value
        return IMPLICIT_TARGET

    def combined(self) -> dict[str, int]:
        """Existing + proposed − cleared per value (Nomad's GetCombinedUseMap)."""
        if self._combined is not None:
            return self._combined
        out = dict(self.existing)
        for value, n in self.proposed.items():
            out[value] = out.get(value, 0) + n
        for value, n in self.cleared.items():
            if value not in out:
                continue
            if n > 1 and value in self.proposed:
                n -= 1  # a stop whose value is re-used by a placement (PopulateProposed)
            out[value] = max(out[value] - n, 0)
        self._combined = out
        return out

    def min_max(self) -> tuple[int, int]:
        """Smallest and largest combined counts, as Nomad's evenSpreadScoreBoost finds them
        (a zero count never holds the minimum or maximum once another value is seen)."""
        if self._min_max is None:
            lo = hi = 0
            for n in self.combined().values():
                if lo == 0 or n < lo:
                    lo = n
                if hi == 0 or n > hi:
                    hi = n
            self._min_max = (lo, hi)
        return self._min_max

    def used_count(self, node: Node) -> tuple[str, str, int]:
        """(targeted value, error message, allocations using the node's value)."""
        if self.error:
            return "", self.error, 0
        value, ok = self.value_of(node)
        if not ok:
            return value or "", f'missing property "{self.attribute}"', 0
        key = self.targeted(value)
        return key, "", self.count_of(key)

    def count_of(self, key: str) -> int:
        """The combined count of one (targeted) value, without building the whole map."""
        if key not in self.existing and key not in self.proposed:
            return 0
        n = self.existing.get(key, 0) + self.proposed.get(key, 0)
        cleared = self.cleared.get(key, 0)
        if cleared > 1 and key in self.proposed:
            cleared -= 1
        return max(n - cleared, 0)

    def satisfies_distinct(self, node: Node) -> str | None:
        """None when the node's value is used fewer than `allowed` times, else the reason."""
        value, error, used = self.used_count(node)
        if error:
            return error
        if used < self.allowed:
            return None
        return f"distinct_property: {self.attribute}={value} used by {used} allocs"


def distinct_property_set(ctx: EvalContext, job: Job, c: Constraint,
                          task_group: str = "") -> PropertySet:
    """A property set for a `distinct_property` constraint (RTarget = limit, default 1)."""
    allowed, error = 1, ""
    if c.RTarget:
        try:
            allowed = int(c.RTarget)
            if allowed < 0:
                raise ValueError
        except ValueError:
            error = (f'failed to convert RTarget "{c.RTarget}" to uint64: strconv.ParseUint: '
                     f'parsing "{c.RTarget}": invalid syntax')
    return PropertySet(ctx, job, c.LTarget, task_group, allowed=allowed, error=error)
