"""FSM handlers for operator actions: scheduler configuration, node eligibility and drain,
drainer completions and alloc desired transitions (Nomad's fsm.go applyNodeDrainUpdate,
applyNodeEligibilityUpdate, applyBatchDrainUpdate, applyAllocUpdateDesiredTransition,
applySchedulerConfigUpdate). Mixed into `FSM`, whose helpers (`_put_alloc`, `_upsert_eval`,
`_index`, `_tables`) these use.
"""

from __future__ import annotations

from ..helper.goformat import format_rfc3339

import msgspec
from msgspec.structs import replace

from ..structs import NODE_ELIGIBLE, NODE_INELIGIBLE, Node, NodeEvent
from . import entries as e

DRAIN_STATUS_DRAINING = "draining"
DRAIN_STATUS_COMPLETE = "complete"
DRAIN_STATUS_CANCELED = "canceled"
MAX_NODE_EVENTS = 10


class OperatorFSMMixin:
    # -- scheduler configuration --------------------------------------------------------
    def _apply_SchedulerConfigUpdate(self, entry: e.SchedulerConfigUpdate) -> None:
        st = self.state
        existing = st.scheduler_config
        if entry.OnlyIfMissing and existing is not None:
            return
        if entry.CAS and (existing is None or existing.ModifyIndex != entry.CASIndex):
            return
        cfg = msgspec.structs.replace(entry.Config)
        cfg.CreateIndex = existing.CreateIndex if existing is not None else self._index
        cfg.ModifyIndex = self._index
        st.scheduler_config = cfg
        self._tables.add("scheduler_config")

    # -- nodes --------------------------------------------------------------------------
    def _node_changed(self, node: Node, updated: Node, event: NodeEvent | None, now: int) -> None:
        updated.ModifyIndex = self._index
        updated.Drain = updated.DrainStrategy is not None
        if event is not None:
            ev = replace(event, CreateIndex=self._index,
                         Timestamp=event.Timestamp or format_rfc3339(now, nano=False))
            updated.Events = ((node.Events or []) + [ev])[-MAX_NODE_EVENTS:]
        self.state.put_node(updated)
        self._tables.add("nodes")

    def _apply_NodeUpdateEligibility(self, entry: e.NodeUpdateEligibility) -> None:
        node = self.state.nodes.get(entry.NodeID)
        if node is not None:
            # A draining node cannot become eligible (the endpoint refuses it too).
            if not (entry.Eligibility == NODE_ELIGIBLE and node.DrainStrategy is not None):
                self._node_changed(node, replace(node, SchedulingEligibility=entry.Eligibility),
                                   entry.Event, entry.Time)
        for ev in entry.Evals:
            self._upsert_eval(ev, entry.Time)

    def _apply_NodeUpdateDrain(self, entry: e.NodeUpdateDrain) -> None:
        node = self.state.nodes.get(entry.NodeID)
        if node is not None:
            updated = self._drain_update(node, entry.DrainStrategy, entry.MarkEligible,
                                         entry.Meta, False, entry.Time)
            self._node_changed(node, updated, entry.Event, entry.Time)
        for ev in entry.Evals:
            self._upsert_eval(ev, entry.Time)

    def _apply_NodesDrainComplete(self, entry: e.NodesDrainComplete) -> None:
        for node_id in entry.NodeIDs:
            node = self.state.nodes.get(node_id)
            if node is None or node.DrainStrategy is None:
                continue
            updated = self._drain_update(node, None, False, None, True, entry.Time)
            self._node_changed(node, updated, entry.Event, entry.Time)

    def _drain_update(self, node: Node, drain, mark_eligible: bool, meta, completed: bool,
                      now: int) -> Node:
        """Nomad's updateNodeDrainImpl: strategy, eligibility and LastDrain metadata."""
        updated = replace(node, DrainStrategy=drain)
        if drain is not None:
            updated.SchedulingEligibility = NODE_INELIGIBLE
        elif mark_eligible:
            updated.SchedulingEligibility = NODE_ELIGIBLE
        stamp = format_rfc3339(now, nano=False)
        last = dict(node.LastDrain or {})
        if node.DrainStrategy is None and drain is not None:
            last = {"StartedAt": stamp, "UpdatedAt": stamp, "Status": DRAIN_STATUS_DRAINING,
                    "AccessorID": "", "Meta": meta}
        elif node.DrainStrategy is not None and drain is None:
            last["UpdatedAt"] = stamp
            last["Status"] = DRAIN_STATUS_COMPLETE if completed else DRAIN_STATUS_CANCELED
        elif node.DrainStrategy is not None:
            last["UpdatedAt"] = stamp
            if meta is not None:
                last["Meta"] = meta
        else:
            return updated
        updated.LastDrain = last
        return updated

    # -- allocs -------------------------------------------------------------------------
    def _apply_AllocUpdateDesiredTransition(self, entry: e.AllocUpdateDesiredTransition) -> None:
        st = self.state
        for alloc_id, transition in entry.Transitions.items():
            existing = st.allocs.get(alloc_id)
            if existing is None:
                continue
            merged = replace(existing.DesiredTransition)
            for name in transition.__struct_fields__:
                value = getattr(transition, name)
                if value is not None:
                    setattr(merged, name, value)
            self._put_alloc(replace(existing, DesiredTransition=merged), entry.Time,
                            server_change=False)
        for ev in entry.Evals:
            self._upsert_eval(ev, entry.Time)
