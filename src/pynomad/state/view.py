"""Snapshots of the state store for schedulers (Nomad's StateSnapshot).

`StateStore.snapshot()` returns a `StateSnapshot`: a read-only view of the tables a
scheduler reads (the `scheduler.context.State` protocol), frozen at the index it was taken
at, while the FSM keeps applying entries to the live store — possibly at the same time, in
another thread, since schedulers run off the event loop.

Taking one copies nothing. While views are open, the store records in each, before it
changes a row, the row's value as the view saw it (`_Overlay.keep`); a view reads the live
row unless its overlay holds an older one. Node usage is copied on write instead of being
changed in place (once per node and view generation). A worker `refresh()`es its view
between scheduler slices (when the scheduler thread is paused) to see the newest state,
and `close()`s it when the evaluation is done.

Reads are safe against a concurrent writer on another thread because the writer records
the old value before changing the live row, and readers read the live row first and the
overlay second (each dict read or copy is atomic under the GIL).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from ..structs import Allocation, Deployment, Evaluation, Job, Node, NodeUsage

if TYPE_CHECKING:
    from .store import StateStore

ABSENT: Any = object()
"""Marks a row that did not exist when the view was taken."""
_MISSING: Any = object()


class _Overlay:
    """One table's rows as a view saw them, for the rows changed since it was taken."""

    __slots__ = ("old", "by_group")

    def __init__(self) -> None:
        self.old: dict[Hashable, Any] = {}
        self.by_group: dict[Hashable, dict[Hashable, Any]] = {}

    def keep(self, key: Hashable, old: Any, groups: Iterable[Hashable] = ()) -> None:
        """Called by the writer before it changes row `key` (whose value is `old`)."""
        if key in self.old:
            return
        if old is not ABSENT:
            for group in groups:
                self.by_group.setdefault(group, {})[key] = old
        self.old[key] = old

    def row(self, key: Hashable, live: Any) -> Any:
        """The view's value of a row whose live value (read first) is `live`."""
        old = self.old.get(key, _MISSING)
        if old is _MISSING:
            return live
        return None if old is ABSENT else old

    def rows(self, live: list, group: Hashable, key_of: Callable[[Any], Hashable]) -> list:
        """The view's rows of `group`, given the group's live rows (read first)."""
        touched = dict(self.by_group.get(group, ()))
        old = self.old
        out = [r for r in live
               if key_of(r) not in touched and old.get(key_of(r), _MISSING) is not ABSENT]
        out += touched.values()
        return out


def _id(row: Any) -> Hashable:
    return row.ID


ALL = None  # the group of every row (nodes)


class StateSnapshot:
    """A read-only view of the store at `latest_index`; see the module docstring."""

    def __init__(self, store: "StateStore") -> None:
        self._store = store
        self.latest_index = store.latest_index
        self._reset()

    def _reset(self) -> None:
        self.jobs = _Overlay()
        self.nodes = _Overlay()
        self.allocs = _Overlay()
        self.evals = _Overlay()
        self.deployments = _Overlay()
        self.usage = _Overlay()

    def refresh(self) -> None:
        """See the newest state from now on (only while no scheduler reads this view)."""
        self._store._view_refreshed()
        self.latest_index = self._store.latest_index
        self._reset()

    def close(self) -> None:
        self._store._view_closed(self)

    def __enter__(self) -> "StateSnapshot":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the scheduler's reads (scheduler.context.State) -------------------------------------
    def job_by_id(self, namespace: str, job_id: str) -> Job | None:
        key = (namespace, job_id)
        return self.jobs.row(key, self._store.jobs.get(key))

    def node_by_id(self, node_id: str) -> Node | None:
        return self.nodes.row(node_id, self._store.nodes.get(node_id))

    def nodes_list(self) -> list[Node]:
        return self.nodes.rows(list(self._store.nodes.values()), ALL, _id)

    def alloc_by_id(self, alloc_id: str) -> Allocation | None:
        return self.allocs.row(alloc_id, self._store.allocs.get(alloc_id))

    def allocs_by_job_id(self, namespace: str, job_id: str) -> list[Allocation]:
        key = (namespace, job_id)
        live = list(self._store.allocs_by_job.get(key, {}).values())
        return self.allocs.rows(live, ("job", key), _id)

    def allocs_by_node_id(self, node_id: str) -> list[Allocation]:
        live = list(self._store.allocs_by_node.get(node_id, {}).values())
        return self.allocs.rows(live, ("node", node_id), _id)

    def eval_by_id(self, eval_id: str) -> Evaluation | None:
        return self.evals.row(eval_id, self._store.evals.get(eval_id))

    def node_usage(self, node_id: str) -> NodeUsage | None:
        return self.usage.row(node_id, self._store.usage_by_node.get(node_id))

    def latest_deployment_by_job_id(self, namespace: str, job_id: str) -> Deployment | None:
        key = (namespace, job_id)
        live = list(self._store.deployments_by_job.get(key, {}).values())
        deps = self.deployments.rows(live, key, _id)
        return max(deps, key=lambda d: d.CreateIndex) if deps else None
