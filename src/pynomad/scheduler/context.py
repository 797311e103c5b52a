"""Per-evaluation context: the state view, the plan being built and proposed node usage.

Everything a placement needs about "what the plan already changed" is kept incrementally
here: per-node usage and job/group collision counts, per-job preemption counts, and change
notifications to listeners (the property sets behind `distinct_property` and `spread`), so
no placement ever re-scans all allocations.
"""

from __future__ import annotations

import random
from typing import Protocol

from ..structs import (Allocation, AllocMetric, Deployment, Evaluation, Job, Node, NodeUsage,
                       Plan, node_capacity)
from ..structs.node import compute_class
from .metrics import TopScores

ELIGIBLE = "eligible"
INELIGIBLE = "ineligible"
ESCAPED = "escaped"
UNKNOWN = "unknown"


class State(Protocol):
    """The read-only view of cluster state a scheduler needs (see `state.StateStore`)."""

    latest_index: int

    def job_by_id(self, namespace: str, job_id: str) -> Job | None: ...
    def node_by_id(self, node_id: str) -> Node | None: ...
    def nodes_list(self): ...
    def allocs_by_job_id(self, namespace: str, job_id: str) -> list[Allocation]: ...
    def allocs_by_node_id(self, node_id: str) -> list[Allocation]: ...
    def eval_by_id(self, eval_id: str) -> Evaluation | None: ...
    def alloc_by_id(self, alloc_id: str) -> Allocation | None: ...
    def node_usage(self, node_id: str) -> NodeUsage | None: ...
    def latest_deployment_by_job_id(self, namespace: str, job_id: str) -> Deployment | None: ...


class PlanListener(Protocol):
    def placed(self, alloc: Allocation) -> None: ...
    def stopped(self, alloc: Allocation) -> None: ...


class EvalEligibility:
    """Nomad's EvalEligibility: feasibility per computed node class, for the job and for
    each task group, plus which of them escaped the class cache."""

    def __init__(self) -> None:
        self.job: dict[str, str] = {}
        self.groups: dict[str, dict[str, str]] = {}
        self.job_escaped = False
        self.tg_escaped: dict[str, bool] = {}

    def set_job(self, job_escaped: bool, tg_escaped: dict[str, bool]) -> None:
        self.job_escaped = job_escaped
        self.tg_escaped = dict(tg_escaped)

    def has_escaped(self) -> bool:
        return self.job_escaped or any(self.tg_escaped.values())

    def job_status(self, cls: str) -> str:
        if self.job_escaped:
            return ESCAPED
        return self.job.get(cls, UNKNOWN)

    def tg_status(self, tg: str, cls: str) -> str:
        if self.tg_escaped.get(tg):
            return ESCAPED
        return self.groups.get(tg, {}).get(cls, UNKNOWN)

    def set_job_eligibility(self, eligible: bool, cls: str) -> None:
        self.job[cls] = ELIGIBLE if eligible else INELIGIBLE

    def set_tg_eligibility(self, eligible: bool, tg: str, cls: str) -> None:
        self.groups.setdefault(tg, {})[cls] = ELIGIBLE if eligible else INELIGIBLE

    def classes(self) -> dict[str, bool]:
        """GetClasses: a class is eligible if any group found it so, unless the job didn't."""
        out: dict[str, bool] = {}
        for classes in self.groups.values():
            for cls, status in classes.items():
                if status == ELIGIBLE:
                    out[cls] = True
                elif status == INELIGIBLE:
                    out.setdefault(cls, False)
        for cls, status in self.job.items():
            if status == ELIGIBLE:
                out.setdefault(cls, True)
            elif status == INELIGIBLE:
                out[cls] = False
        return out

    def reset(self) -> None:
        self.job.clear()
        self.groups.clear()


class SelectOptions:
    """What one selection asks beyond its task group (Nomad's SelectOptions)."""

    __slots__ = ("penalty_nodes", "evict", "alloc_name")

    def __init__(self, penalty_nodes=frozenset(), evict: bool = False,
                 alloc_name: str = "") -> None:
        self.penalty_nodes = penalty_nodes  # nodes where the replaced allocation failed
        self.evict = evict                  # lower-priority allocations may be preempted
        self.alloc_name = alloc_name        # the allocation placed (per-alloc volumes)


class EvalContext:
    """Tracks what the plan changes on each node so placements see each other, and the
    metric and options of the selection under way."""

    def __init__(self, state: State, plan: Plan, rng: random.Random | None = None) -> None:
        self.state = state
        self.plan = plan
        self.rng = rng or random.Random()
        self.eligibility = EvalEligibility()
        self.metrics = AllocMetric()
        self.top_scores = TopScores()
        self.options = SelectOptions()
        self._usage: dict[str, NodeUsage] = {}
        self._preempted: dict[tuple[str, str, str], int] = {}
        self._classes: dict[str, str] = {}
        self._capacities: dict[str, tuple[int, int, int]] = {}
        self._listeners: list[PlanListener] = []

    def begin_select(self, metric: AllocMetric, options: SelectOptions) -> None:
        """Nomad's ctx.Reset(): a selection records into its own metric."""
        self.metrics = metric
        self.top_scores = TopScores()
        self.options = options

    # -- proposed allocations per node ---------------------------------------------------
    def proposed_allocs(self, node_id: str) -> list[Allocation]:
        """Existing non-terminal allocs on the node, minus the plan's stops and preemptions,
        with the plan's placements (which replace in-place updated allocs of the same ID)."""
        gone = {a.ID for a in self.plan.NodeUpdate.get(node_id, ())}
        gone.update(a.ID for a in self.plan.NodePreemptions.get(node_id, ()))
        out = {a.ID: a for a in self.state.allocs_by_node_id(node_id)
               if not a.terminal() and a.ID not in gone}
        for a in self.plan.NodeAllocation.get(node_id, ()):
            out[a.ID] = a
        return list(out.values())

    def usage(self, node_id: str) -> NodeUsage:
        """The node's usage as this plan leaves it: the state's incremental usage, minus the
        plan's stops and preemptions, plus its new placements. Cached per node."""
        used = self._usage.get(node_id)
        if used is None:
            base = self.state.node_usage(node_id)
            used = base.copy() if base is not None else NodeUsage()
            for a in (*self.plan.NodeUpdate.get(node_id, ()),
                      *self.plan.NodePreemptions.get(node_id, ())):
                live = self.state.alloc_by_id(a.ID)
                if live is not None and not live.terminal():
                    used.remove(live)
            for a in self.plan.NodeAllocation.get(node_id, ()):
                existing = self.state.alloc_by_id(a.ID)
                if existing is None or existing.terminal():
                    used.add(a)
            self._usage[node_id] = used
        return used

    def collisions(self, node_id: str, namespace: str, job_id: str, tg: str) -> int:
        return self.usage(node_id).counts.get((namespace, job_id, tg), 0)

    def job_allocs_on(self, node_id: str, namespace: str, job_id: str) -> int:
        return sum(n for (ns, j, _), n in self.usage(node_id).counts.items()
                   if j == job_id and ns == namespace)

    def capacity(self, node: Node) -> tuple[int, int, int]:
        """Schedulable cpu, memory and disk of the node (cached: nodes don't change)."""
        cap = self._capacities.get(node.ID)
        if cap is None:
            cap = self._capacities[node.ID] = node_capacity(node)
        return cap

    def node_class(self, node: Node) -> str:
        """The node's computed class (computed here when the node lacks one)."""
        if node.ComputedClass:
            return node.ComputedClass
        cls = self._classes.get(node.ID)
        if cls is None:
            cls = self._classes[node.ID] = compute_class(node)
        return cls

    # -- plan changes --------------------------------------------------------------------
    def subscribe(self, listener: PlanListener) -> None:
        self._listeners.append(listener)

    def add_placement(self, alloc: Allocation) -> None:
        """A new allocation (fresh ID) placed by this plan."""
        self.plan.append_alloc(alloc)
        if alloc.NodeID in self._usage:
            self._usage[alloc.NodeID].add(alloc)
        for listener in self._listeners:
            listener.placed(alloc)

    def update_in_place(self, alloc: Allocation) -> None:
        """An existing allocation updated in place: it replaces itself on its node."""
        self.plan.append_alloc(alloc)
        self.invalidate(alloc.NodeID)

    def stop(self, alloc: Allocation, desc: str, client_status: str = "") -> None:
        self.plan.append_stopped(alloc, desc, client_status)
        self.invalidate(alloc.NodeID)
        for listener in self._listeners:
            listener.stopped(alloc)

    def preempt(self, alloc: Allocation, by_alloc_id: str) -> None:
        """Nomad's Plan.AppendPreemptedAlloc: evict `alloc` to make room for `by_alloc_id`."""
        evicted = Allocation(
            ID=alloc.ID, Namespace=alloc.Namespace, JobID=alloc.JobID, NodeID=alloc.NodeID,
            TaskGroup=alloc.TaskGroup, DesiredStatus="evict",
            DesiredDescription=f"Preempted by alloc ID {by_alloc_id}",
            PreemptedByAllocation=by_alloc_id, AllocatedResources=alloc.AllocatedResources,
            ClientStatus=alloc.ClientStatus)
        self.plan.NodePreemptions.setdefault(alloc.NodeID, []).append(evicted)
        key = (alloc.Namespace, alloc.JobID, alloc.TaskGroup)
        self._preempted[key] = self._preempted.get(key, 0) + 1
        self.invalidate(alloc.NodeID)

    def preempted_count(self, alloc: Allocation) -> int:
        return self._preempted.get((alloc.Namespace, alloc.JobID, alloc.TaskGroup), 0)

    def invalidate(self, node_id: str) -> None:
        self._usage.pop(node_id, None)
