"""Events produced from applied log entries (Nomad's nomad/state/events.go).

`events_from_entry(entry, state, index)` is a pure function of an entry, the state right
after that entry was applied and the entry's index. As in Nomad, the entry's type gives the
event `Type` of every event it produces (a JobRegister's evaluation is a `JobRegistered`
event on the `Evaluation` topic), and each changed object of the jobs, evals, allocs,
deployment and nodes tables gives one event whose payload is the stored object after the
write. Which objects an entry changed is read from the state: the candidates the entry
names (and the jobs/deployments their allocations and evaluations touch) whose
`ModifyIndex` is the entry's index.

Differences from Nomad, by construction: an object deleted by an entry is no longer in the
state, so a deregistered node's payload is a Node carrying only its ID; purged and
garbage-collected jobs, evals and allocs produce no event (Nomad emits none for deletions
of these tables either). Imports only `structs` and this package.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec.structs import replace

from ..structs import Allocation, Node
from . import entries as e
from .store import StateStore

TOPIC_JOB = "Job"
TOPIC_ALLOCATION = "Allocation"
TOPIC_EVALUATION = "Evaluation"
TOPIC_DEPLOYMENT = "Deployment"
TOPIC_NODE = "Node"
TOPICS = (TOPIC_JOB, TOPIC_ALLOCATION, TOPIC_EVALUATION, TOPIC_DEPLOYMENT, TOPIC_NODE)

# entry type -> event Type (Nomad's MsgTypeEvents); entries not listed produce no events
EVENT_TYPES: dict[type, str] = {
    e.JobRegister: "JobRegistered",
    e.JobDeregister: "JobDeregistered",
    e.EvalUpdate: "EvaluationUpdated",
    e.NodeRegister: "NodeRegistration",
    e.NodeDeregister: "NodeDeregistration",
    e.NodeUpdateStatus: "NodeEvent",
    e.NodeUpdateEligibility: "NodeDrain",
    e.NodeUpdateDrain: "NodeDrain",
    e.NodesDrainComplete: "NodeDrain",
    e.AllocClientUpdate: "AllocationUpdated",
    e.AllocUpdateDesiredTransition: "AllocationUpdateDesiredStatus",
    e.ApplyPlanResults: "PlanResult",
    e.DeploymentStatusChange: "DeploymentStatusUpdate",
    e.DeploymentPromotion: "DeploymentPromotion",
    e.DeploymentAllocHealth: "DeploymentAllocHealth",
    e.GCDelete: "NodeDeregistration",  # only its node deletions produce events
}


class Event(msgspec.Struct, kw_only=True, gc=False):
    """One event, with Nomad's JSON field names."""
    Topic: str
    Type: str
    Key: str
    Namespace: str = ""
    FilterKeys: list[str] | None = None
    Index: int = 0
    Payload: dict[str, Any]


class _Changes:
    """Candidate IDs an entry may have changed, per table."""

    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], None] = {}
        self.evals: dict[str, None] = {}
        self.allocs: dict[str, None] = {}
        self.deployments: dict[str, None] = {}
        self.nodes: dict[str, None] = {}
        self.deleted_nodes: dict[str, None] = {}

    def evals_of(self, evals) -> None:
        for ev in evals:
            if ev is not None:
                self.evals[ev.ID] = None


def events_from_entry(entry: e.Entry, state: StateStore, index: int) -> list[Event]:
    """The events of one applied entry (empty for entries Nomad publishes nothing for)."""
    event_type = EVENT_TYPES.get(type(entry))
    if event_type is None:
        return []
    ch = _Changes()
    _collect(entry, state, index, ch)
    return _events(ch, state, index, event_type)


def _collect(entry: e.Entry, st: StateStore, index: int, ch: _Changes) -> None:
    if isinstance(entry, e.JobRegister):
        ch.jobs[(entry.Job.Namespace, entry.Job.ID)] = None
        ch.evals_of((entry.Eval,))
    elif isinstance(entry, e.JobDeregister):
        ch.jobs[(entry.Namespace, entry.JobID)] = None
        ch.evals_of((entry.Eval,))
    elif isinstance(entry, e.EvalUpdate):
        ch.evals_of(entry.Evals)
    elif isinstance(entry, (e.NodeRegister, e.NodeUpdateStatus, e.NodeUpdateEligibility,
                            e.NodeUpdateDrain)):
        ch.nodes[entry.Node.ID if isinstance(entry, e.NodeRegister) else entry.NodeID] = None
        ch.evals_of(entry.Evals)
    elif isinstance(entry, e.NodesDrainComplete):
        ch.nodes.update(dict.fromkeys(entry.NodeIDs))
    elif isinstance(entry, e.NodeDeregister):
        ch.deleted_nodes.update(dict.fromkeys(entry.NodeIDs))
    elif isinstance(entry, e.GCDelete):
        ch.deleted_nodes.update(dict.fromkeys(entry.Nodes))
    elif isinstance(entry, (e.AllocClientUpdate, e.ApplyPlanResults)):
        _collect_allocs(entry, st, ch)
    elif isinstance(entry, e.AllocUpdateDesiredTransition):
        ch.allocs.update(dict.fromkeys(entry.Transitions))
        ch.evals_of(entry.Evals)
    else:  # deployment entries
        _collect_deployment(entry, st, index, ch)
    _touched_by_objects(st, ch)


def _collect_allocs(entry, st: StateStore, ch: _Changes) -> None:
    ch.evals_of(entry.Evals)
    if isinstance(entry, e.AllocClientUpdate):
        ch.allocs.update(dict.fromkeys(a.ID for a in entry.Allocs))
        return
    if entry.Deployment is not None:
        ch.deployments[entry.Deployment.ID] = None
    for update in entry.DeploymentUpdates:
        ch.deployments[update.DeploymentID] = None
    for stop in entry.AllocsStopped:
        ch.allocs[stop.ID] = None
    for alloc in entry.AllocsUpdated:
        ch.allocs[alloc.ID] = None
        if alloc.PreviousAllocation:  # linked to its replacement (NextAllocation)
            ch.allocs[alloc.PreviousAllocation] = None


def _collect_deployment(entry, st: StateStore, index: int, ch: _Changes) -> None:
    if isinstance(entry, e.DeploymentStatusChange):
        ch.deployments[entry.Update.DeploymentID] = None
    else:
        ch.deployments[entry.DeploymentID] = None
    if isinstance(entry, e.DeploymentAllocHealth):
        ch.allocs.update(dict.fromkeys(entry.HealthyAllocationIDs))
        ch.allocs.update(dict.fromkeys(entry.UnhealthyAllocationIDs))
        if entry.Update is not None:
            ch.deployments[entry.Update.DeploymentID] = None
    elif isinstance(entry, e.DeploymentPromotion):
        d = st.deployments.get(entry.DeploymentID)
        if d is not None:
            ch.allocs.update(dict.fromkeys(a.ID for a in st.allocs_by_deployment(d)
                                           if a.ModifyIndex == index))
    job = getattr(entry, "Job", None)
    if job is not None:
        ch.jobs[(job.Namespace, job.ID)] = None
    ch.evals_of((entry.Eval,))


def _touched_by_objects(st: StateStore, ch: _Changes) -> None:
    """Allocations and evaluations may change their job's status and their deployment's
    counters (or a deployment its job's stability) in the same entry."""
    for alloc_id in ch.allocs:
        alloc = st.allocs.get(alloc_id)
        if alloc is not None:
            ch.jobs[(alloc.Namespace, alloc.JobID)] = None
            if alloc.DeploymentID:
                ch.deployments[alloc.DeploymentID] = None
    for eval_id in ch.evals:
        ev = st.evals.get(eval_id)
        if ev is not None:
            ch.jobs[(ev.Namespace, ev.JobID)] = None
    for d_id in ch.deployments:
        d = st.deployments.get(d_id)
        if d is not None:
            ch.jobs[(d.Namespace, d.JobID)] = None


def _events(ch: _Changes, st: StateStore, index: int, typ: str) -> list[Event]:
    out: list[Event] = []
    for node_id in ch.nodes:
        node = st.nodes.get(node_id)
        if node is not None and node.ModifyIndex == index:
            out.append(_node_event(node, typ, index))
    for node_id in ch.deleted_nodes:
        if node_id not in st.nodes:
            out.append(_node_event(Node(ID=node_id), typ, index))
    for key in ch.jobs:
        job = st.jobs.get(key)
        if job is not None and job.ModifyIndex == index:
            out.append(Event(Topic=TOPIC_JOB, Type=typ, Key=job.ID, Namespace=job.Namespace,
                             Index=index, Payload={"Job": job}))
    for d_id in ch.deployments:
        d = st.deployments.get(d_id)
        if d is not None and d.ModifyIndex == index:
            out.append(Event(Topic=TOPIC_DEPLOYMENT, Type=typ, Key=d.ID, Namespace=d.Namespace,
                             FilterKeys=[d.JobID], Index=index, Payload={"Deployment": d}))
    for alloc_id in ch.allocs:
        alloc = st.allocs.get(alloc_id)
        if alloc is not None and alloc.ModifyIndex == index:
            out.append(_alloc_event(alloc, typ, index))
    for eval_id in ch.evals:
        ev = st.evals.get(eval_id)
        if ev is not None and ev.ModifyIndex == index:
            out.append(Event(Topic=TOPIC_EVALUATION, Type=typ, Key=ev.ID,
                             Namespace=ev.Namespace, FilterKeys=[ev.JobID, ev.DeploymentID],
                             Index=index, Payload={"Evaluation": ev}))
    return out


def _alloc_event(alloc: Allocation, typ: str, index: int) -> Event:
    stripped = replace(alloc, Job=None) if alloc.Job is not None else alloc
    return Event(Topic=TOPIC_ALLOCATION, Type=typ, Key=alloc.ID, Namespace=alloc.Namespace,
                 FilterKeys=[alloc.JobID, alloc.DeploymentID], Index=index,
                 Payload={"Allocation": stripped})


def _node_event(node: Node, typ: str, index: int) -> Event:
    sanitized = replace(node, SecretID="") if node.SecretID else node
    return Event(Topic=TOPIC_NODE, Type=typ, Key=node.ID, Index=index,
                 Payload={"Node": sanitized})
