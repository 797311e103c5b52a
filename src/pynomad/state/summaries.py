"""Recomputing job summaries from allocations (Nomad's StateStore.ReconcileJobSummaries).

A job summary counts a job's allocations by client status per task group; the FSM keeps it
up to date incrementally, and `nomad system reconcile summaries` recomputes it here.
"""

from __future__ import annotations

from ..structs import JobSummary, TaskGroupSummary
from .store import StateStore

# client status -> the TaskGroupSummary field that counts it
_COUNTED_AS = {"pending": "Starting", "running": "Running", "complete": "Complete",
               "failed": "Failed", "lost": "Lost", "unknown": "Unknown"}


def reconcile_job_summaries(state: StateStore, index: int = 0) -> list[JobSummary]:
    """Fresh summaries for every job except periodic and parameterized ones (whose
    summaries count children, not allocations), computed from the allocations of the
    currently registered job. Like Nomad, counts start from zero (`Queued` included: the
    next evaluation of the job sets it again); `CreateIndex` is the job's, `ModifyIndex`
    is `index` (the index the write that stores them is applied at)."""
    out = []
    for (ns, job_id), job in sorted(state.jobs.items()):
        if job.Periodic is not None or job.ParameterizedJob is not None:
            continue
        summary = JobSummary(JobID=job_id, Namespace=ns, CreateIndex=job.CreateIndex,
                             ModifyIndex=index,
                             Summary={tg.Name: TaskGroupSummary() for tg in job.TaskGroups or ()})
        for alloc in state.allocs_by_job_id(ns, job_id):
            # allocations of an earlier job registered under the same ID don't count
            if alloc.Job is None or alloc.Job.CreateIndex != job.CreateIndex:
                continue
            field = _COUNTED_AS.get(alloc.ClientStatus)
            if field is None:
                continue
            tg = summary.Summary.setdefault(alloc.TaskGroup, TaskGroupSummary())
            setattr(tg, field, getattr(tg, field) + 1)
        out.append(summary)
    return out
