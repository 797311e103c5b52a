"""Backends: the replicated, revisioned log under the state store (see `base.py` for the
interface). `create_backend` picks one by name: `embedded` (a single server) is built in;
other implementations (`etcd` for HA servers) register themselves in `BACKENDS`.

Imports `helper`, `structs` and `state`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .base import (Backend, BackendError, Leadership, Member, NotLeaderError,  # noqa: F401
                   StateMachine)
from .embedded import EmbeddedBackend

BACKENDS: dict[str, Callable[..., Backend]] = {"embedded": EmbeddedBackend}
"""Backend constructors by name. Each takes keyword arguments: `data_dir` (str | None),
`node_name` (str), `address` (this server's RPC address) and its own `options`."""


def create_backend(kind: str = "embedded", *, data_dir: str | None = None,
                   node_name: str = "server", address: str = "",
                   options: dict[str, Any] | None = None) -> Backend:
    """The backend the agent configuration asks for; BackendError for an unknown kind."""
    factory = BACKENDS.get(kind)
    if factory is None:
        raise BackendError(f"unknown server backend {kind!r} (known: {', '.join(sorted(BACKENDS))})")
    return factory(data_dir=data_dir, node_name=node_name, address=address, **(options or {}))
