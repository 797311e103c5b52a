"""List stubs: the trimmed objects Nomad returns from list endpoints."""

from __future__ import annotations

from ..state import StateStore
from ..structs import Allocation, Job, Node, to_builtins


def job_stub(state: StateStore, job: Job) -> dict:
    summary = state.job_summary(job.Namespace, job.ID)
    return {
        "ID": job.ID, "ParentID": job.ParentID or "", "Name": job.Name,
        "Namespace": job.Namespace, "Datacenters": job.Datacenters, "NodePool": job.NodePool,
        "Multiregion": job.Multiregion, "Type": job.Type, "Priority": job.Priority,
        "Periodic": job.Periodic is not None, "ParameterizedJob": job.ParameterizedJob is not None,
        "Stop": bool(job.Stop), "Status": job.Status, "StatusDescription": job.StatusDescription or "",
        "JobSummary": to_builtins(summary) if summary else None,
        "CreateIndex": job.CreateIndex, "ModifyIndex": job.ModifyIndex,
        "JobModifyIndex": job.JobModifyIndex, "SubmitTime": job.SubmitTime, "Meta": job.Meta,
    }


def alloc_stub(a: Allocation, with_resources: bool = False, task_states: bool = True) -> dict:
    job = a.Job
    return {
        "ID": a.ID, "EvalID": a.EvalID, "Name": a.Name, "Namespace": a.Namespace,
        "NodeID": a.NodeID, "NodeName": a.NodeName, "JobID": a.JobID,
        "JobType": job.Type if job else "", "JobVersion": job.Version if job else 0,
        "TaskGroup": a.TaskGroup,
        "AllocatedResources": to_builtins(a.AllocatedResources) if with_resources else None,
        "DesiredStatus": a.DesiredStatus, "DesiredDescription": a.DesiredDescription,
        "ClientStatus": a.ClientStatus, "ClientDescription": a.ClientDescription,
        "DesiredTransition": to_builtins(a.DesiredTransition),
        "TaskStates": to_builtins(a.TaskStates) if task_states else None,
        "DeploymentStatus": to_builtins(a.DeploymentStatus),
        "FollowupEvalID": a.FollowupEvalID, "NextAllocation": a.NextAllocation,
        "RescheduleTracker": to_builtins(a.RescheduleTracker),
        "PreemptedAllocations": a.PreemptedAllocations,
        "PreemptedByAllocation": a.PreemptedByAllocation,
        "CreateIndex": a.CreateIndex, "ModifyIndex": a.ModifyIndex,
        "CreateTime": a.CreateTime, "ModifyTime": a.ModifyTime,
    }


def node_stub(n: Node, with_resources: bool = False) -> dict:
    stub = {
        "Address": n.HTTPAddr.rsplit(":", 1)[0] if n.HTTPAddr else "",
        "ID": n.ID, "Attributes": {k: v for k, v in n.Attributes.items()
                                   if k in ("os.name", "kernel.name", "nomad.version")},
        "Datacenter": n.Datacenter, "Name": n.Name, "NodeClass": n.NodeClass,
        "NodePool": n.NodePool, "Version": n.Attributes.get("nomad.version", ""),
        "Drain": n.Drain, "SchedulingEligibility": n.SchedulingEligibility,
        "Status": n.Status, "StatusDescription": n.StatusDescription,
        "Drivers": to_builtins(n.Drivers), "HostVolumes": n.HostVolumes,
        "HostNetworks": n.HostNetworks, "LastDrain": n.LastDrain,
        "CreateIndex": n.CreateIndex, "ModifyIndex": n.ModifyIndex,
    }
    if with_resources:
        stub["NodeResources"] = to_builtins(n.NodeResources)
        stub["ReservedResources"] = to_builtins(n.ReservedResources)
    return stub


def node_view(n: Node) -> dict:
    """A full node without its secret."""
    out = to_builtins(n)
    out["SecretID"] = ""
    return out
