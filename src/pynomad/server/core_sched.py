"""Garbage collection of terminal evaluations, allocations, dead jobs, down nodes and
finished deployments.

`plan_gc` is pure: it picks what to delete given the state and a threshold time.
"""

from __future__ import annotations

from ..state import StateStore
from ..state import entries as e
from ..state.fsm import JOB_STATUS_DEAD


def plan_gc(state: StateStore, eval_cutoff_index: int, job_cutoff_index: int,
            node_cutoff_index: int, deployment_cutoff_index: int) -> e.GCDelete:
    """Objects last modified at or before the cutoff indexes that are safe to delete."""
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
        if ev.ID in gone or not ev.terminal() or ev.ModifyIndex > eval_cutoff_index:
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
