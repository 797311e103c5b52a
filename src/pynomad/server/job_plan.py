"""`POST /v1/job/:id/plan` (Nomad's Job.Plan): a scheduler dry run that commits nothing.

The submitted job is laid over the current state (`PlanState`); the job's scheduler runs
against that view; its first plan is kept and reported as full success to let the
scheduler finish (so the outcome's failed placements and follow-up evals are known), and
nothing is applied. The reply carries the job diff annotated with the desired updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from ..structs import (EVAL_STATUS_PENDING, TRIGGER_JOB_REGISTER, Evaluation, Job, Plan,
                       PlanResult, generate_uuid, to_builtins)
from .periodic import next_launch
from .errors import BadRequest
from .job_endpoint import prepare_job, spec_changed
from .jobdiff import annotate, job_diff

if TYPE_CHECKING:
    from .server import Server

MAX_DRY_RUN_ROUNDS = 10
DESIRED_KEYS = ("Ignore", "Place", "Migrate", "Stop", "InPlaceUpdate", "DestructiveUpdate",
                "Canary", "Preemptions")


class PlanState:
    """The state as the scheduler would see it if `job` were registered."""

    def __init__(self, base, job: Job) -> None:
        self._base = base
        self._job = job
        self.latest_index = base.latest_index

    def job_by_id(self, namespace: str, job_id: str) -> Job | None:
        if (namespace, job_id) == (self._job.Namespace, self._job.ID):
            return self._job
        return self._base.job_by_id(namespace, job_id)

    def __getattr__(self, name):
        return getattr(self._base, name)


def planned_job(old: Job | None, job: Job, latest_index: int) -> Job:
    """The submitted job with the indexes it would get if registered now."""
    if old is not None and not spec_changed(old, job):
        return old
    planned = msgspec.structs.replace(job)
    planned.Version = (old.Version or 0) + 1 if old is not None else 0
    planned.CreateIndex = old.CreateIndex if old is not None else latest_index + 1
    planned.JobModifyIndex = planned.ModifyIndex = latest_index + 1
    planned.Status = old.Status if old is not None else "pending"
    return planned


def dry_run(state, job: Job, make_scheduler) -> tuple[Plan | None, object]:
    """Run the job's scheduler without applying anything: (first plan, outcome)."""
    ev = Evaluation(ID=generate_uuid(), Namespace=job.Namespace, Priority=job.Priority or 50,
                    Type=job.Type, TriggeredBy=TRIGGER_JOB_REGISTER, JobID=job.ID,
                    JobModifyIndex=job.JobModifyIndex or 0, Status=EVAL_STATUS_PENDING,
                    AnnotatePlan=True)
    gen = make_scheduler(job.Type, state).process(ev)
    first: Plan | None = None
    try:
        plan = next(gen)
        for _ in range(MAX_DRY_RUN_ROUNDS):
            if first is None:
                first = plan
            plan = gen.send(PlanResult(NodeUpdate=dict(plan.NodeUpdate),
                                       NodeAllocation=dict(plan.NodeAllocation),
                                       NodePreemptions=dict(plan.NodePreemptions)))
        gen.close()
        return first, None
    except StopIteration as stop:
        return first, stop.value


def desired_updates(state, job: Job, plan: Plan | None, now: int) -> dict[str, dict[str, int]]:
    """Per-group Place/Stop/... counts: the reconciler's for service and batch jobs, else
    derived from the plan."""
    if job.Type in ("service", "batch"):
        try:
            from ..scheduler.reconcile import AllocReconciler

            allocs = state.allocs_by_job_id(job.Namespace, job.ID)
            nodes = {a.NodeID: state.node_by_id(a.NodeID) for a in allocs}
            desired = AllocReconciler(job, job.ID, job.Type == "batch", allocs, nodes,
                                      now).compute().desired
            return {g: {k: int(v.get(k, 0)) for k in DESIRED_KEYS} for g, v in desired.items()}
        except Exception:  # the reconciler's interface may move; fall back to the plan
            pass
    return _desired_from_plan(state, job, plan)


def _desired_from_plan(state, job: Job, plan: Plan | None) -> dict[str, dict[str, int]]:
    out = {tg.Name: dict.fromkeys(DESIRED_KEYS, 0) for tg in job.TaskGroups or ()}

    def bump(group: str, key: str) -> None:
        out.setdefault(group, dict.fromkeys(DESIRED_KEYS, 0))[key] += 1

    touched: set[str] = set()
    replaced: set[str] = set()
    for allocs in (plan.NodeAllocation.values() if plan else ()):
        for a in allocs:
            touched.add(a.ID)
            if state.alloc_by_id(a.ID) is not None:
                bump(a.TaskGroup, "InPlaceUpdate")
            elif a.PreviousAllocation:
                replaced.add(a.PreviousAllocation)
                bump(a.TaskGroup, "DestructiveUpdate")
            else:
                bump(a.TaskGroup, "Place")
    for allocs in (plan.NodeUpdate.values() if plan else ()):
        for a in allocs:
            touched.add(a.ID)
            if a.ID not in replaced:
                bump(a.TaskGroup, "Stop")
    for a in state.allocs_by_job_id(job.Namespace, job.ID):
        if not a.terminal() and a.ID not in touched:
            bump(a.TaskGroup, "Ignore")
    return out


async def plan_job(server: "Server", job: Job, diff: bool) -> dict:
    if job is None or not job.ID:
        raise BadRequest("Job ID hasn't been provided")
    prepare_job(job, server.config.region)
    job.Stop = bool(job.Stop)
    if job.Type not in ("service", "batch", "system", "sysbatch"):
        raise BadRequest(f"Invalid job type: {job.Type!r}")
    st = server.state
    old = st.job_by_id(job.Namespace, job.ID)
    now = server.clock.now_ns()
    planned = planned_job(old, job, st.latest_index)
    view = PlanState(st, planned)
    plan, outcome = dry_run(view, planned, server.new_scheduler)
    desired = desired_updates(view, planned, plan, now)
    reply: dict = {
        "Annotations": {"DesiredTGUpdates": desired, "PreemptedAllocs": None},
        "FailedTGAllocs": None, "CreatedEvals": None,
        "JobModifyIndex": old.JobModifyIndex or 0 if old is not None else 0,
        "NextPeriodicLaunch": "0001-01-01T00:00:00Z", "Warnings": "",
        "Index": old.JobModifyIndex or 0 if old is not None else 0, "Diff": None,
    }
    if outcome is not None:
        failed = getattr(outcome.eval, "FailedTGAllocs", None)
        reply["FailedTGAllocs"] = to_builtins(failed) if failed else None
        created = getattr(outcome, "create_evals", None) or []
        reply["CreatedEvals"] = to_builtins(created) or None
    if diff:
        old_view = to_builtins(old) if old is not None else None
        reply["Diff"] = annotate(job_diff(old_view, to_builtins(job), True), desired)
    if job.Periodic is not None and job.Periodic.Enabled is not False:
        reply["NextPeriodicLaunch"] = _next_launch(job, now)
    return reply


def _next_launch(job: Job, now: int) -> str:
    """The periodic dispatcher's next launch after `now` (every spec, time zone and
    cron flavour it understands), in RFC 3339."""
    import datetime

    try:
        nxt = next_launch(job.Periodic, now)
    except ValueError:
        nxt = None
    if nxt is None:
        return "0001-01-01T00:00:00Z"
    return datetime.datetime.fromtimestamp(nxt / 1e9, tz=datetime.timezone.utc).isoformat() \
        .replace("+00:00", "Z")
