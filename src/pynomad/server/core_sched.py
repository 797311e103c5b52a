"""Garbage collection of terminal evaluations, allocations, dead jobs, down nodes and
finished deployments (Nomad's core_sched.go).

`plan_gc` is pure: it picks what to delete given the state and cutoff indexes. `CoreGC` is
the leader duty running it every 5 minutes with Nomad's thresholds, turned into indexes by
a `TimeTable` (which index the state had at which time), and `nomad system gc` runs it at
once with no threshold.
"""

from __future__ import annotations

import bisect
import logging
from typing import TYPE_CHECKING

from ..state import StateStore
from ..state import entries as e
from ..state.fsm import JOB_STATUS_DEAD

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.server")

GC_INTERVAL_S = 300.0
EVAL_GC_THRESHOLD_S = 3600.0
BATCH_EVAL_GC_THRESHOLD_S = 24 * 3600.0
JOB_GC_THRESHOLD_S = 4 * 3600.0
NODE_GC_THRESHOLD_S = 24 * 3600.0
DEPLOYMENT_GC_THRESHOLD_S = 3600.0
TIMETABLE_LIMIT_S = 72 * 3600.0


class TimeTable:
    """Nomad's TimeTable: the state's index witnessed over time, to turn "older than a
    threshold" into "modified at or before index N"."""

    def __init__(self, limit_s: float = TIMETABLE_LIMIT_S) -> None:
        self.limit_ns = int(limit_s * 1e9)
        self._times: list[int] = []
        self._indexes: list[int] = []

    def witness(self, index: int, now_ns: int) -> None:
        if self._indexes and index <= self._indexes[-1]:
            return
        self._times.append(now_ns)
        self._indexes.append(index)
        drop = bisect.bisect_left(self._times, now_ns - self.limit_ns)
        del self._times[:drop], self._indexes[:drop]

    def nearest_index(self, when_ns: int) -> int:
        """The last index witnessed at or before `when_ns` (0: none that old)."""
        i = bisect.bisect_right(self._times, when_ns)
        return self._indexes[i - 1] if i else 0


class CoreGC:
    """The leader's periodic garbage collection."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.timetable = TimeTable()

    def entry(self, now_ns: int) -> e.GCDelete:
        """What is older than Nomad's thresholds, as one delete entry."""
        def cutoff(threshold_s: float) -> int:
            return self.timetable.nearest_index(now_ns - int(threshold_s * 1e9))
        return plan_gc(self.server.state, cutoff(EVAL_GC_THRESHOLD_S), cutoff(JOB_GC_THRESHOLD_S),
                       cutoff(NODE_GC_THRESHOLD_S), cutoff(DEPLOYMENT_GC_THRESHOLD_S),
                       cutoff(BATCH_EVAL_GC_THRESHOLD_S))

    async def collect(self, entry: e.GCDelete) -> None:
        if entry.Evals or entry.Allocs or entry.Jobs or entry.Nodes or entry.Deployments:
            await self.server.commit(entry, leader_only=True)

    async def force(self) -> None:
        """`nomad system gc`: collect everything terminal now, regardless of age."""
        idx = self.server.state.latest_index
        await self.collect(plan_gc(self.server.state, idx, idx, idx, idx))

    async def run(self) -> None:
        srv = self.server
        while True:
            self.timetable.witness(srv.state.latest_index, srv.clock.now_ns())
            try:
                await self.collect(self.entry(srv.clock.now_ns()))
            except Exception:
                log.exception("core garbage collection failed")
            await srv.clock.sleep(GC_INTERVAL_S)


def plan_gc(state: StateStore, eval_cutoff_index: int, job_cutoff_index: int,
            node_cutoff_index: int, deployment_cutoff_index: int,
            batch_eval_cutoff_index: int | None = None) -> e.GCDelete:
    """Objects last modified at or before the cutoff indexes that are safe to delete
    (evaluations of batch jobs: at or before `batch_eval_cutoff_index`, by default the
    same as the others)."""
    if batch_eval_cutoff_index is None:
        batch_eval_cutoff_index = eval_cutoff_index
    evals, allocs, jobs, nodes = [], [], [], []
    for (ns, job_id), job in state.jobs.items():
        if job.Status != JOB_STATUS_DEAD or job.ModifyIndex > job_cutoff_index:
            continue
        if not (job.Stop or job.Type == "batch"):
            continue
        job_allocs = state.allocs_by_job_id(ns, job_id)
        job_evals = state.evals_by_job_id(ns, job_id)
        if all(a.terminal() for a in job_allocs) and all(ev.terminal() for ev in job_evals):
            jobs.append((ns, job_id))
            allocs += [a.ID for a in job_allocs]
            evals += [ev.ID for ev in job_evals]
    gone = set(evals)
    for ev in state.evals.values():
        cutoff = batch_eval_cutoff_index if ev.Type == "batch" else eval_cutoff_index
        if ev.ID in gone or not ev.terminal() or ev.ModifyIndex > cutoff:
            continue
        ev_allocs = state.allocs_by_eval(ev.ID)
        if all(a.terminal() for a in ev_allocs) and _job_gone_or_done(state, ev):
            evals.append(ev.ID)
            allocs += [a.ID for a in ev_allocs if a.terminal()]
    for node in state.nodes.values():
        if node.Status == "down" and node.ModifyIndex <= node_cutoff_index \
                and not any(not a.terminal() for a in state.allocs_by_node_id(node.ID)):
            nodes.append(node.ID)
    deleted = set(allocs)
    deployments = [d.ID for d in state.deployments.values()
                   if not d.active() and d.ModifyIndex <= deployment_cutoff_index
                   and all(a.terminal() or a.ID in deleted for a in state.allocs_by_deployment(d))]
    return e.GCDelete(Evals=evals, Allocs=sorted(deleted), Jobs=jobs, Nodes=nodes,
                      Deployments=deployments)


def _job_gone_or_done(state: StateStore, ev) -> bool:
    job = state.job_by_id(ev.Namespace, ev.JobID)
    return job is None or job.Stop or job.Status == JOB_STATUS_DEAD or job.Type != "batch"
