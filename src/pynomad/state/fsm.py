"""The finite state machine: applies log entries to the StateStore, in index order.

Mirrors Nomad's FSM: job register/deregister with versions, evals, node status, plan
results, client alloc updates, job summaries and the derived job status. Everything an
entry implies is decided here, from the entry and the state alone, so every server (and
every restart) computes the same state: the evaluation a job (de)registration carries gets
the job's modify index; a successful evaluation cancels the job's blocked ones.

On the leader, applying drives the leader's duties through `leader` (`LeaderHooks`):
upserted evaluations go to the eval broker or the blocked-evals tracker, as Nomad's FSM
hands them to its broker.
"""

from __future__ import annotations

import sys
from typing import Protocol

from msgspec.structs import replace

from ..structs import (ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_FAILED, ALLOC_CLIENT_LOST,
                       ALLOC_CLIENT_PENDING, ALLOC_CLIENT_RUNNING, ALLOC_CLIENT_UNKNOWN,
                       ALLOC_DESIRED_STOP, EVAL_STATUS_BLOCKED, EVAL_STATUS_CANCELED,
                       EVAL_STATUS_COMPLETE, Allocation, Evaluation, Job, JobSummary, NodeEvent,
                       TaskGroupSummary, compute_class)
from ..helper.goformat import format_rfc3339
from . import entries as e
from .fsm_acl import ACLFSMMixin
from .fsm_deployment import DeploymentFSMMixin, merge_client_health
from .fsm_keyring import KeyringFSMMixin
from .fsm_operator import OperatorFSMMixin
from .fsm_services import ServicesFSMMixin
from .fsm_variables import VariablesFSMMixin
from .snapshot import decode_state, dump_state, replace_state
from .store import TABLES, JobKey, StateStore, node_allocs_key
from .summaries import reconcile_job_summaries

JOB_TRACKED_VERSIONS = 6
JOB_STATUS_PENDING = "pending"
JOB_STATUS_RUNNING = "running"
JOB_STATUS_DEAD = "dead"

_CHILD_FIELD = {JOB_STATUS_PENDING: "Pending", JOB_STATUS_RUNNING: "Running",
                JOB_STATUS_DEAD: "Dead"}
_SUMMARY_FIELD = {
    ALLOC_CLIENT_PENDING: "Starting", ALLOC_CLIENT_RUNNING: "Running",
    ALLOC_CLIENT_COMPLETE: "Complete", ALLOC_CLIENT_FAILED: "Failed",
    ALLOC_CLIENT_LOST: "Lost", ALLOC_CLIENT_UNKNOWN: "Unknown",
}


class LeaderHooks(Protocol):
    """The leader's duties the FSM drives (Nomad's evalBroker/blockedEvals in its FSM)."""

    def evals_upserted(self, evals: list[Evaluation]) -> None:
        """Evaluations an entry wrote: pending ones to the broker, blocked ones tracked,
        a job's successful one untracks the job's blocked evaluation."""


class FSM(OperatorFSMMixin, DeploymentFSMMixin, ACLFSMMixin, VariablesFSMMixin,
          ServicesFSMMixin, KeyringFSMMixin):
    """Applies entries; collects which tables and jobs each entry touched."""

    def __init__(self, state: StateStore) -> None:
        self.state = state
        self._tables: set[str] = set()
        self._dirty_jobs: set[JobKey] = set()
        self._evals: list[Evaluation] = []
        self._index = 0
        # fn(entry, index) after each applied entry (the server's event broker), or None
        self.on_applied = None
        # the leader's duties while this server leads, else None
        self.leader: LeaderHooks | None = None

    def apply(self, entry: e.Entry, index: int) -> None:
        self._index = index
        self._tables = set()
        self._dirty_jobs = set()
        self._evals = []
        handler = getattr(self, "_apply_" + type(entry).__name__)
        handler(entry)
        for key in self._dirty_jobs:
            self._refresh_job_status(key)
        self.state.notify(index, self._tables)
        if self.on_applied is not None:
            self.on_applied(entry, index)
        if self.leader is not None and self._evals:
            self.leader.evals_upserted(self._evals)

    # -- snapshots ----------------------------------------------------------------------
    def snapshot(self) -> tuple[int, bytes]:
        """The whole state, encoded (`state.snapshot`), and its index."""
        index = self.state.latest_index
        return index, dump_state(self.state, index)

    def restore(self, data: bytes, index: int) -> None:
        """Replace the whole state by `data` at `index` (a snapshot restore) and wake every
        watcher; the StateStore object is kept (everything holds it). SnapshotError (state
        untouched) if `data` does not decode."""
        fresh, _ = decode_state(data)
        old_nodes = set(self.state.nodes)
        replace_state(self.state, fresh, index)
        self.state.notify(index, set(TABLES) | {node_allocs_key(n) for n in
                                                 old_nodes | set(self.state.nodes)})

    # -- jobs ---------------------------------------------------------------------------
    def _apply_JobRegister(self, entry: e.JobRegister) -> None:
        self._upsert_job(entry.Job, entry.Time)
        if entry.Submission is not None:
            self._store_submission(entry.Job, entry.Submission)
        if entry.Eval is not None:
            entry.Eval.JobModifyIndex = self._index
            self._upsert_eval(entry.Eval, entry.Time)

    def _upsert_job(self, job: Job, now: int) -> None:
        st, idx = self.state, self._index
        key = (job.Namespace, job.ID)
        existing = st.jobs.get(key)
        job.ModifyIndex = idx
        job.JobModifyIndex = idx
        if existing is not None:
            job.CreateIndex = existing.CreateIndex
            job.Version = (existing.Version or 0) + 1
        else:
            job.CreateIndex = idx
            job.Version = 0
        job.SubmitTime = job.SubmitTime or now
        job.Status = job.Status or JOB_STATUS_PENDING
        self._count_child(job, existing.Status if existing is not None else None, job.Status)
        st.put_job(job)
        versions = st.job_versions.setdefault(key, [])
        versions.append(job)
        del versions[:-JOB_TRACKED_VERSIONS]
        self._ensure_summary(job)
        self._tables |= {"jobs", "job_versions", "job_summary"}
        self._dirty_jobs.add(key)

    def _store_submission(self, job: Job, sub) -> None:
        """Keep the job's source for its newest tracked versions only."""
        st = self.state
        sub.Namespace, sub.JobID = job.Namespace, job.ID
        sub.Version, sub.JobIndex = job.Version or 0, self._index
        st.job_submissions[(job.Namespace, job.ID, sub.Version)] = sub
        oldest = sub.Version - JOB_TRACKED_VERSIONS
        for key in [k for k in st.job_submissions
                    if k[:2] == (job.Namespace, job.ID) and k[2] <= oldest]:
            del st.job_submissions[key]

    def _ensure_summary(self, job: Job) -> None:
        key = (job.Namespace, job.ID)
        summary = self.state.job_summaries.get(key)
        if summary is None:
            summary = JobSummary(JobID=job.ID, Namespace=job.Namespace, CreateIndex=self._index)
            self.state.job_summaries[key] = summary
        for tg in job.TaskGroups or ():
            summary.Summary.setdefault(tg.Name, TaskGroupSummary())
        summary.ModifyIndex = self._index

    def _apply_JobDeregister(self, entry: e.JobDeregister) -> None:
        st = self.state
        key = (entry.Namespace, entry.JobID)
        job = st.jobs.get(key)
        if job is not None:
            if entry.Purge:
                self._count_child(job, job.Status, None)
                st.delete_job(key)
                for k in [k for k in st.job_submissions if k[:2] == key]:
                    del st.job_submissions[k]
                st.job_versions.pop(key, None)
                st.job_summaries.pop(key, None)
                self._tables |= {"jobs", "job_versions", "job_summary"}
            elif not job.Stop:
                stopped = replace(job, Stop=True, SubmitTime=entry.Time)
                self._upsert_job(stopped, entry.Time)
        if entry.Eval is not None:
            entry.Eval.JobModifyIndex = self._index
            self._upsert_eval(entry.Eval, entry.Time)

    def _refresh_job_status(self, key: JobKey) -> None:
        job = self.state.jobs.get(key)
        if job is None:
            return
        status = self._job_status(job)
        if status != job.Status:
            self._count_child(job, job.Status, status)
            updated = replace(job, Status=status, ModifyIndex=self._index)
            versions = self.state.job_versions.get(key)
            if versions and versions[-1] is job:
                versions[-1] = updated
            self.state.put_job(updated)
            self._tables.add("jobs")

    def _count_child(self, job: Job, old: str | None, new: str | None) -> None:
        """A periodic or dispatched child's status moves in its parent's summary
        (`Children`: Pending/Running/Dead)."""
        if not job.ParentID or old == new:
            return
        summary = self.state.job_summaries.get((job.Namespace, job.ParentID))
        if summary is None:
            return
        children = summary.Children
        if old in _CHILD_FIELD and getattr(children, _CHILD_FIELD[old]) > 0:
            setattr(children, _CHILD_FIELD[old], getattr(children, _CHILD_FIELD[old]) - 1)
        if new in _CHILD_FIELD:
            setattr(children, _CHILD_FIELD[new], getattr(children, _CHILD_FIELD[new]) + 1)
        summary.ModifyIndex = self._index
        self._tables.add("job_summary")

    def _job_status(self, job: Job) -> str:
        st = self.state
        if job.Type == "system" or job.Periodic is not None or job.ParameterizedJob is not None:
            return JOB_STATUS_DEAD if job.Stop else JOB_STATUS_RUNNING
        allocs = st.allocs_by_job.get((job.Namespace, job.ID), {})
        if any(not a.terminal() for a in allocs.values()):
            return JOB_STATUS_RUNNING
        evals = st.evals_by_job.get((job.Namespace, job.ID), {})
        if any(not ev.terminal() for ev in evals.values()):
            return JOB_STATUS_PENDING
        return JOB_STATUS_DEAD if (allocs or evals) else JOB_STATUS_PENDING

    # -- evals --------------------------------------------------------------------------
    def _apply_EvalUpdate(self, entry: e.EvalUpdate) -> None:
        for ev in entry.Evals:
            self._upsert_eval(ev, entry.Time)

    def _upsert_eval(self, ev: Evaluation, now: int) -> None:
        st = self.state
        existing = st.evals.get(ev.ID)
        ev.CreateIndex = existing.CreateIndex if existing else self._index
        ev.CreateTime = existing.CreateTime if existing else (ev.CreateTime or now)
        ev.ModifyIndex = self._index
        ev.ModifyTime = now
        st.put_eval(ev)
        self._evals.append(ev)
        self._tables.add("evals")
        self._dirty_jobs.add((ev.Namespace, ev.JobID))
        if ev.Status == EVAL_STATUS_COMPLETE and not ev.FailedTGAllocs:
            self._cancel_blocked(ev, now)
        if ev.QueuedAllocations is not None and ev.terminal():
            summary = st.job_summaries.get((ev.Namespace, ev.JobID))
            if summary is not None:
                for tg, queued in ev.QueuedAllocations.items():
                    summary.Summary.setdefault(tg, TaskGroupSummary()).Queued = queued
                summary.ModifyIndex = self._index
                self._tables.add("job_summary")

    def _cancel_blocked(self, done: Evaluation, now: int) -> None:
        """A successful evaluation of a job cancels the job's blocked evaluations (Nomad's
        nestedUpsertEval): nothing is left for them to place, be the job changed, stopped
        or purged."""
        for ev in self.state.evals_by_job_id(done.Namespace, done.JobID):
            if ev.Status == EVAL_STATUS_BLOCKED and ev.ID != done.ID:
                canceled = replace(ev, Status=EVAL_STATUS_CANCELED, ModifyIndex=self._index,
                                   ModifyTime=now,
                                   StatusDescription=f'evaluation "{done.ID}" successful')
                self.state.put_eval(canceled)

    # -- nodes --------------------------------------------------------------------------
    def _apply_NodeRegister(self, entry: e.NodeRegister) -> None:
        st = self.state
        node = entry.Node
        existing = st.nodes.get(node.ID)
        node.ComputedClass = compute_class(node)
        node.CreateIndex = existing.CreateIndex if existing else self._index
        node.ModifyIndex = self._index
        node.StatusUpdatedAt = entry.Time // 1_000_000_000
        if existing is not None:
            node.Events = existing.Events
            node.SchedulingEligibility = existing.SchedulingEligibility
            node.Drain, node.DrainStrategy = existing.Drain, existing.DrainStrategy
            node.LastDrain = existing.LastDrain
        else:
            node.Events = [NodeEvent(Message="Node registered", Subsystem="Cluster",
                                     Timestamp=format_rfc3339(entry.Time), CreateIndex=self._index)]
        st.put_node(node)
        self._tables.add("nodes")
        for ev in entry.Evals:
            self._upsert_eval(ev, entry.Time)

    def _apply_NodeUpdateStatus(self, entry: e.NodeUpdateStatus) -> None:
        st = self.state
        node = st.nodes.get(entry.NodeID)
        if node is not None:
            updated = replace(node, Status=entry.Status, ModifyIndex=self._index,
                              StatusUpdatedAt=entry.Time // 1_000_000_000)
            if node.Status != entry.Status:
                event = NodeEvent(Message=f"Node status changed to {entry.Status}"
                                  if entry.Status != "ready" else "Node heartbeat received",
                                  Subsystem="Cluster", Timestamp=format_rfc3339(entry.Time),
                                  CreateIndex=self._index)
                updated.Events = ((node.Events or []) + [event])[-10:]
            st.put_node(updated)
            self._tables.add("nodes")
            if entry.Status == "down":
                self._drop_node_services(node.ID)
        for ev in entry.Evals:
            self._upsert_eval(ev, entry.Time)

    def _apply_NodeDeregister(self, entry: e.NodeDeregister) -> None:
        for node_id in entry.NodeIDs:
            self.state.delete_node(node_id)
        self._tables.add("nodes")

    # -- allocs -------------------------------------------------------------------------
    def _apply_ApplyPlanResults(self, entry: e.ApplyPlanResults) -> None:
        st = self.state
        if entry.Deployment is not None:
            self._upsert_deployment(entry.Deployment)
        for stop in entry.AllocsStopped:
            existing = st.allocs.get(stop.ID)
            if existing is None:
                continue
            updated = replace(existing, DesiredStatus=stop.DesiredStatus or ALLOC_DESIRED_STOP,
                              DesiredDescription=stop.DesiredDescription,
                              PreemptedByAllocation=stop.PreemptedByAllocation
                              or existing.PreemptedByAllocation)
            if stop.ClientStatus:
                updated.ClientStatus = stop.ClientStatus
            self._put_alloc(updated, entry.Time, server_change=True)
        for alloc in entry.AllocsUpdated:
            alloc.Job = entry.Job
            self._put_alloc(alloc, entry.Time, server_change=True)
        for update in entry.DeploymentUpdates:
            self._apply_deployment_update(update)
        for ev in entry.Evals:
            self._upsert_eval(ev, entry.Time)

    def _apply_AllocClientUpdate(self, entry: e.AllocClientUpdate) -> None:
        st = self.state
        for upd in entry.Allocs:
            existing = st.allocs.get(upd.ID)
            if existing is None:
                continue
            updated = replace(existing, ClientStatus=sys.intern(upd.ClientStatus),
                              ClientDescription=upd.ClientDescription,
                              TaskStates=upd.TaskStates or existing.TaskStates,
                              DeploymentStatus=merge_client_health(
                                  existing.DeploymentStatus, upd.DeploymentStatus, self._index),
                              NetworkStatus=upd.NetworkStatus or existing.NetworkStatus)
            self._put_alloc(updated, entry.Time, server_change=False)
            if updated.client_terminal():
                self._drop_alloc_services(updated.ID)
        for ev in entry.Evals:
            self._upsert_eval(ev, entry.Time)

    def _put_alloc(self, alloc: Allocation, now: int, server_change: bool) -> None:
        st = self.state
        existing = st.allocs.get(alloc.ID)
        if existing is None:
            alloc.CreateIndex = self._index
            alloc.CreateTime = alloc.CreateTime or now
            self._link_previous(alloc, now)
        else:
            alloc.CreateIndex = existing.CreateIndex
            alloc.CreateTime = existing.CreateTime
        alloc.ModifyIndex = self._index
        alloc.ModifyTime = now
        if server_change or existing is None:
            alloc.AllocModifyIndex = self._index
            self._tables.add(node_allocs_key(alloc.NodeID))
        self._track_deployment_alloc(existing, alloc)
        st.put_alloc(alloc)
        self._update_summary(existing, alloc)
        self._tables.add("allocs")
        self._dirty_jobs.add((alloc.Namespace, alloc.JobID))

    def _link_previous(self, alloc: Allocation, now: int) -> None:
        prev = self.state.allocs.get(alloc.PreviousAllocation) if alloc.PreviousAllocation else None
        if prev is not None:
            linked = replace(prev, NextAllocation=alloc.ID, ModifyIndex=self._index,
                             AllocModifyIndex=self._index, ModifyTime=now)
            self.state.put_alloc(linked)

    def _update_summary(self, old: Allocation | None, new: Allocation) -> None:
        summary = self.state.job_summaries.get((new.Namespace, new.JobID))
        if summary is None:
            return
        tg = summary.Summary.setdefault(new.TaskGroup, TaskGroupSummary())
        if old is None:
            if tg.Queued > 0:
                tg.Queued -= 1
        elif old.ClientStatus == new.ClientStatus:
            return
        else:
            field = _SUMMARY_FIELD.get(old.ClientStatus)
            if field and getattr(tg, field) > 0:
                setattr(tg, field, getattr(tg, field) - 1)
        field = _SUMMARY_FIELD.get(new.ClientStatus)
        if field:
            setattr(tg, field, getattr(tg, field) + 1)
        summary.ModifyIndex = self._index
        self._tables.add("job_summary")

    def _apply_JobSummariesReconcile(self, entry: e.JobSummariesReconcile) -> None:
        for summary in reconcile_job_summaries(self.state, self._index):
            self.state.job_summaries[(summary.Namespace, summary.JobID)] = summary
        self._tables.add("job_summary")

    # -- garbage collection -----------------------------------------------------------
    def _apply_GCDelete(self, entry: e.GCDelete) -> None:
        st = self.state
        for eval_id in entry.Evals:
            st.delete_eval(eval_id)
        for alloc_id in entry.Allocs:
            st.delete_alloc(alloc_id)
        for deployment_id in entry.Deployments:
            st.delete_deployment(deployment_id)
        for ns, job_id in entry.Jobs:
            job = st.delete_job((ns, job_id))
            if job is not None:
                self._count_child(job, job.Status, None)
            st.job_versions.pop((ns, job_id), None)
            st.job_summaries.pop((ns, job_id), None)
        for node_id in entry.Nodes:
            st.delete_node(node_id)
        self._tables |= {"evals", "allocs", "jobs", "job_summary", "nodes", "deployment"}
