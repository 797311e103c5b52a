"""Whole-state snapshots (msgpack), with each alloc's job stored once per version."""

from __future__ import annotations

import msgspec

from ..structs import (Allocation, Deployment, Evaluation, Job, JobSubmission, JobSummary, Node,
                       enc_hook)
from .acl_objects import ACLPolicy, ACLToken, Namespace
from .operator import SchedulerConfiguration
from .services import ServiceRegistration
from .store import StateStore
from .variables import Variable


class _Snapshot(msgspec.Struct):
    Index: int
    Versions: list[Job]
    Current: list[tuple[str, str, int]]
    Summaries: list[JobSummary]
    Nodes: list[Node]
    Evals: list[Evaluation]
    Allocs: list[Allocation]
    AllocJobVersions: list[int]
    Submissions: list[JobSubmission] = []
    SchedulerConfig: SchedulerConfiguration | None = None
    Deployments: list[Deployment] = []
    Namespaces: list[Namespace] = []
    ACLPolicies: list[ACLPolicy] = []
    ACLTokens: list[ACLToken] = []
    ACLBootstrapIndex: int = 0
    Variables: list[Variable] = []
    Services: list[ServiceRegistration] = []


def dump_state(state: StateStore, index: int) -> bytes:
    allocs, versions = [], []
    for a in state.allocs.values():
        versions.append(a.Job.Version if a.Job is not None else -1)
        allocs.append(msgspec.structs.replace(a, Job=None))
    all_versions = {id(j): j for vs in state.job_versions.values() for j in vs}
    for a in state.allocs.values():
        if a.Job is not None:
            all_versions.setdefault(id(a.Job), a.Job)
    snap = _Snapshot(
        Index=index,
        Versions=list(all_versions.values()),
        Current=[(ns, jid, j.Version) for (ns, jid), j in state.jobs.items()],
        Summaries=list(state.job_summaries.values()),
        Nodes=list(state.nodes.values()),
        Evals=list(state.evals.values()),
        Allocs=allocs,
        AllocJobVersions=versions,
        Submissions=list(state.job_submissions.values()),
        SchedulerConfig=state.scheduler_config,
        Deployments=list(state.deployments.values()),
        Namespaces=list(state.namespaces.values()),
        ACLPolicies=list(state.acl_policies.values()),
        ACLTokens=list(state.acl_tokens.values()),
        ACLBootstrapIndex=state.acl_bootstrap_index,
        Variables=list(state.variables.values()),
        Services=list(state.service_registrations.values()),
    )
    return msgspec.msgpack.encode(snap, enc_hook=enc_hook)


def load_state(state: StateStore, data: bytes) -> int:
    snap = msgspec.msgpack.decode(data, type=_Snapshot)
    by_version = {(j.Namespace, j.ID, j.Version): j for j in snap.Versions}
    for ns, jid, version in snap.Current:
        state.jobs[(ns, jid)] = by_version[(ns, jid, version)]
    for j in sorted(snap.Versions, key=lambda j: j.Version or 0):
        if (j.Namespace, j.ID) in state.jobs:
            state.job_versions.setdefault((j.Namespace, j.ID), []).append(j)
    for s in snap.Summaries:
        state.job_summaries[(s.Namespace, s.JobID)] = s
    for n in snap.Nodes:
        state.nodes[n.ID] = n
    for ev in snap.Evals:
        state.put_eval(ev)
    for d in snap.Deployments:
        state.put_deployment(d)
    for a, version in zip(snap.Allocs, snap.AllocJobVersions):
        a.Job = by_version.get((a.Namespace, a.JobID, version))
        state.put_alloc(a)
    state.scheduler_config = snap.SchedulerConfig
    for sub in snap.Submissions:
        state.job_submissions[(sub.Namespace, sub.JobID, sub.Version)] = sub
    for ns in snap.Namespaces:
        state.namespaces[ns.Name] = ns
    for pol in snap.ACLPolicies:
        state.acl_policies[pol.Name] = pol
    for token in snap.ACLTokens:
        state.put_token(token)
    state.acl_bootstrap_index = snap.ACLBootstrapIndex
    for var in snap.Variables:
        state.variables[(var.Namespace, var.Path)] = var
    for reg in snap.Services:
        state.service_registrations[reg.ID] = reg
    state.latest_index = snap.Index
    for t in state.indexes:
        state.indexes[t] = snap.Index
    return snap.Index
