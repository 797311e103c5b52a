"""Backends: the revisioned log under the state store (`embedded`; `etcd` for HA).

Imports `structs` and `state`.
"""

from .base import Backend  # noqa: F401
from .embedded import EmbeddedBackend  # noqa: F401
