"""The plan applier (Nomad's plan_apply.go): the single serialization point for placements.

Each plan is re-checked node by node against the latest state; nodes whose proposed
allocations no longer fit are dropped (a partial commit, with a RefreshIndex telling the
scheduler to refresh and retry); the rest is committed as one log entry.
"""

from __future__ import annotations

from msgspec.structs import replace

from ..state import StateStore
from ..state import entries as e
from ..structs import NODE_INELIGIBLE, NODE_STATUS_READY, Plan, PlanResult, allocs_fit


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
    node = state.node_by_id(node_id)
    existing = {a.ID: a for a in state.allocs_by_node_id(node_id) if not a.terminal()}
    if all(a.ID in existing or a.terminal() for a in placed):
        return True, ""  # in-place updates fit wherever the allocs already are
    if node is None:
        return False, "node does not exist"
    if node.Status != NODE_STATUS_READY:
        return False, "node is not ready for placements"
    if node.SchedulingEligibility == NODE_INELIGIBLE:
        return False, "node is not eligible"
    if node.DrainStrategy is not None:
        return False, "node is draining"
    for a in plan.NodeUpdate.get(node_id, ()):
        existing.pop(a.ID, None)
    for a in plan.NodePreemptions.get(node_id, ()):
        existing.pop(a.ID, None)
    for a in placed:
        existing[a.ID] = a
    return allocs_fit(node, existing.values())


def result_entry(plan: Plan, result: PlanResult, now: int) -> e.ApplyPlanResults:
    """The log entry committing a plan result; allocs travel without their job copy."""
    stopped = [e.AllocStop(ID=a.ID, DesiredDescription=a.DesiredDescription,
                           ClientStatus=a.ClientStatus if a.ClientStatus == "lost" else "")
               for allocs in list(result.NodeUpdate.values()) + list(result.NodePreemptions.values())
               for a in allocs]
    updated = [replace(a, Job=None) for allocs in result.NodeAllocation.values() for a in allocs]
    return e.ApplyPlanResults(Time=now, Job=plan.Job, AllocsUpdated=updated,
                              AllocsStopped=stopped, EvalID=plan.EvalID)
