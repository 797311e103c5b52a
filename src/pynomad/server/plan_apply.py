"""The plan applier (Nomad's plan_apply.go): the single serialization point for placements.

Each plan is re-checked node by node against the latest state; nodes whose proposed
allocations no longer fit are dropped (a partial commit, with a RefreshIndex telling the
scheduler to refresh and retry); the rest is committed. A large plan is checked and
committed in slices of about `ENTRY_ALLOCS` allocations (`evaluate_steps`,
`result_entries`), so that the event loop serves other requests in between.
"""

from __future__ import annotations

from collections.abc import Generator

from msgspec.structs import replace

from ..scheduler.plan_fit import plan_exclusive_fit
from ..state import StateStore
from ..state import entries as e
from ..structs import NODE_INELIGIBLE, NODE_STATUS_READY, NodeUsage, Plan, PlanResult, fits


ENTRY_ALLOCS = 250
"""About how many allocations one slice of plan checking, and one log entry, holds."""


def evaluate_plan(state: StateStore, plan: Plan) -> PlanResult:
    """Which parts of the plan still fit. Pure: reads state, writes nothing."""
    steps = evaluate_steps(state, plan)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def evaluate_steps(state: StateStore, plan: Plan) -> Generator[None, None, PlanResult]:
    """`evaluate_plan` in slices: yields after about every `ENTRY_ALLOCS` allocations
    checked; returns the result."""
    result = PlanResult(NodeUpdate=dict(plan.NodeUpdate),
                        NodePreemptions=dict(plan.NodePreemptions))
    partial = False
    checked = 0
    for node_id, placed in plan.NodeAllocation.items():
        ok, _reason = _evaluate_node(state, plan, node_id, placed)
        if ok:
            result.NodeAllocation[node_id] = placed
        elif plan.AllAtOnce:
            return PlanResult(RefreshIndex=state.table_index("nodes", "allocs"))
        else:
            partial = True
        checked += len(placed)
        if checked >= ENTRY_ALLOCS:
            checked = 0
            yield
    if partial:
        result.RefreshIndex = state.table_index("nodes", "allocs")
    return result


def _evaluate_node(state: StateStore, plan: Plan, node_id: str, placed) -> tuple[bool, str]:
    new = [a for a in placed if state.alloc_by_id(a.ID) is None]
    if not new:
        return True, ""  # in-place and attribute updates fit wherever the allocs already are
    node = state.node_by_id(node_id)
    if node is None:
        return False, "node does not exist"
    if node.Status != NODE_STATUS_READY:
        return False, "node is not ready for placements"
    if node.SchedulingEligibility == NODE_INELIGIBLE:
        return False, "node is not eligible"
    if node.DrainStrategy is not None:
        return False, "node is draining"
    base = state.node_usage(node_id)
    used = base.copy() if base is not None else NodeUsage()
    for a in (*plan.NodeUpdate.get(node_id, ()), *plan.NodePreemptions.get(node_id, ())):
        live = state.alloc_by_id(a.ID)
        if live is not None and not live.terminal() and live.NodeID == node_id:
            used.remove(live)
    for a in new:
        before = len(used.ports)
        ports = a.AllocatedResources.Shared.Ports if a.AllocatedResources and \
            a.AllocatedResources.Shared else None
        used.add(a)
        if ports and len(used.ports) - before != len(ports):
            return False, "network: port collision"
    ok, reason = fits(node, used)
    return plan_exclusive_fit(state, plan, node, new) if ok else (ok, reason)


def result_entries(plan: Plan, result: PlanResult, now: int,
                   limit: int = ENTRY_ALLOCS) -> list[e.ApplyPlanResults]:
    """The log entries committing a plan result, each with the allocations of whole nodes
    up to about `limit`: the first carries the stops, the deployment and its updates, every
    one the plan's job and evaluation."""
    first = result_entry(plan, replace(result, NodeAllocation={}), now)
    entries, batch, size = [first], {}, 0
    for node_id, allocs in result.NodeAllocation.items():
        if size and size + len(allocs) > limit:
            entries.append(_allocs_entry(plan, batch, now))
            batch, size = {}, 0
        batch[node_id] = allocs
        size += len(allocs)
    if batch:
        if len(entries) == 1 and size <= limit:
            first.AllocsUpdated = _updated(batch)
        else:
            entries.append(_allocs_entry(plan, batch, now))
    return entries


def _updated(node_allocs) -> list:
    return [replace(a, Job=None) for allocs in node_allocs.values() for a in allocs]


def _allocs_entry(plan: Plan, node_allocs, now: int) -> e.ApplyPlanResults:
    return e.ApplyPlanResults(Time=now, Job=plan.Job, AllocsUpdated=_updated(node_allocs),
                              EvalID=plan.EvalID)


def result_entry(plan: Plan, result: PlanResult, now: int) -> e.ApplyPlanResults:
    """The log entry committing a plan result; allocs travel without their job copy."""
    stopped = [e.AllocStop(ID=a.ID, DesiredDescription=a.DesiredDescription,
                           ClientStatus=a.ClientStatus if a.ClientStatus == "lost" else "")
               for allocs in result.NodeUpdate.values() for a in allocs]
    stopped += [e.AllocStop(ID=a.ID, DesiredDescription=a.DesiredDescription,
                            DesiredStatus="evict", PreemptedByAllocation=a.PreemptedByAllocation)
                for allocs in result.NodePreemptions.values() for a in allocs]
    updated = [replace(a, Job=None) for allocs in result.NodeAllocation.values() for a in allocs]
    return e.ApplyPlanResults(Time=now, Job=plan.Job, AllocsUpdated=updated,
                              AllocsStopped=stopped, EvalID=plan.EvalID,
                              Deployment=plan.Deployment,
                              DeploymentUpdates=list(plan.DeploymentUpdates))
