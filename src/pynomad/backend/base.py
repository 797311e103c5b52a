"""The backend interface: a revisioned log of state entries.

A backend orders and stores entries; each committed entry gets the next index (the
cluster's `X-Nomad-Index`) and is applied to the state store through the FSM.
"""

from __future__ import annotations

import abc

from ..state import StateStore
from ..state.entries import Entry


class Backend(abc.ABC):
    """A revisioned log. `commit` returns the entry's index once it is durable and applied."""

    @abc.abstractmethod
    def restore(self) -> int:
        """Load whatever is stored into the state; return the last index."""

    @abc.abstractmethod
    async def commit(self, entry: Entry) -> int:
        """Make `entry` durable, apply it to the state, return its index."""

    def install(self, source: StateStore, index: int) -> None:
        """Replace the whole state with `source` at `index` (snapshot restore)."""
        raise NotImplementedError("this backend cannot restore snapshots")

    @abc.abstractmethod
    def close(self) -> None:
        """Flush and release resources."""

    @property
    @abc.abstractmethod
    def is_leader(self) -> bool:
        """Whether this server may make leader-only writes."""
