"""Per-evaluation context: the state view, the plan being built and proposed node usage."""

from __future__ import annotations

import random
from typing import Protocol

from ..structs import Allocation, Comparable, Evaluation, Job, Node, Plan


class State(Protocol):
    """The read-only view of cluster state a scheduler needs (see `state.StateStore`)."""

    latest_index: int

    def job_by_id(self, namespace: str, job_id: str) -> Job | None: ...
    def node_by_id(self, node_id: str) -> Node | None: ...
    def nodes_list(self): ...
    def allocs_by_job_id(self, namespace: str, job_id: str) -> list[Allocation]: ...
    def allocs_by_node_id(self, node_id: str) -> list[Allocation]: ...
    def eval_by_id(self, eval_id: str) -> Evaluation | None: ...


class EvalContext:
    """Tracks what the plan changes on each node so placements see each other."""

    def __init__(self, state: State, plan: Plan, rng: random.Random | None = None) -> None:
        self.state = state
        self.plan = plan
        self.rng = rng or random.Random()
        self._usage: dict[str, Comparable] = {}
        self._collisions: dict[str, dict[tuple[str, str], int]] = {}
        self.class_cache: dict[tuple[str, str], bool] = {}

    def proposed_allocs(self, node_id: str) -> list[Allocation]:
        """Existing live allocs on the node, minus the plan's stops, plus its placements."""
        stopped = {a.ID for a in self.plan.NodeUpdate.get(node_id, ())}
        stopped |= {a.ID for a in self.plan.NodePreemptions.get(node_id, ())}
        live = [a for a in self.state.allocs_by_node_id(node_id)
                if not a.terminal() and a.ID not in stopped]
        return live + list(self.plan.NodeAllocation.get(node_id, ()))

    def usage(self, node_id: str) -> Comparable:
        used = self._usage.get(node_id)
        if used is None:
            used = Comparable()
            counts: dict[tuple[str, str], int] = {}
            for a in self.proposed_allocs(node_id):
                used.add_alloc(a)
                key = (a.JobID, a.TaskGroup)
                counts[key] = counts.get(key, 0) + 1
            self._usage[node_id] = used
            self._collisions[node_id] = counts
        return used

    def collisions(self, node_id: str, job_id: str, tg: str) -> int:
        self.usage(node_id)
        return self._collisions[node_id].get((job_id, tg), 0)

    def job_allocs_on(self, node_id: str, job_id: str) -> int:
        self.usage(node_id)
        return sum(n for (j, _), n in self._collisions[node_id].items() if j == job_id)

    def add_placement(self, alloc: Allocation) -> None:
        self.plan.append_alloc(alloc)
        used = self.usage(alloc.NodeID)
        used.add_alloc(alloc)
        counts = self._collisions[alloc.NodeID]
        key = (alloc.JobID, alloc.TaskGroup)
        counts[key] = counts.get(key, 0) + 1

    def invalidate(self, node_id: str) -> None:
        self._usage.pop(node_id, None)
        self._collisions.pop(node_id, None)
