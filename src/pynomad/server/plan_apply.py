"""The plan applier (Nomad's plan_apply.go): the single serialization point for placements.

Each plan is re-checked node by node against the latest state; nodes whose proposed
allocations no longer fit are dropped (a partial commit, with a RefreshIndex telling the
scheduler to refresh and retry); the rest is committed as one log entry.
"""

from __future__ import annotations

from msgspec.structs import replace

from ..scheduler.plan_fit import plan_exclusive_fit
from ..state import StateStore
from ..state import entries as e
from ..structs import NODE_INELIGIBLE, NODE_STATUS_READY, NodeUsage, Plan, PlanResult, fits


def evaluate_plan(state: StateStore, plan: Plan) -> PlanResult:
    """Which parts of the plan still fit. Pure: reads state, writes nothing."""
    result = PlanResult(NodeUpdate=dict(plan.NodeUpdate),
                        NodePreemptions=dict(plan.NodePreemptions))
    partial = False
    for node_id, placed in plan.NodeAllocation.items():
        ok, _reason = _evaluate_node(state, plan, node_id, placed)
        if ok:
            result.NodeAllocation[node_id] = placed
        elif plan.AllAtOnce:
            return PlanResult(RefreshIndex=state.table_index("nodes", "allocs"))
        else:
            partial = True
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
