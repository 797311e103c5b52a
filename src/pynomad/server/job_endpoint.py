"""Job endpoints: register (with versions), deregister, validate, evaluate, scale."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from ..state import entries as e
from ..structs.submission import MAX_SOURCE_BYTES, JobSubmission
from ..structs import (EVAL_STATUS_PENDING, TRIGGER_JOB_DEREGISTER, TRIGGER_JOB_REGISTER,
                       DesiredTransition, Evaluation, Job, ValidationError, canonicalize, generate_uuid,
                       validate_job)
from .errors import BadRequest, Conflict, Forbidden, NotFound

if TYPE_CHECKING:
    from .server import Server

JOB_REGISTRATION_DISABLED = ("Job registration, dispatch, and scale are disabled by the "
                             "scheduler configuration")

# Nomad's structs.JobTrackedScalingEvents: scaling events kept per task group.
JOB_TRACKED_SCALING_EVENTS = 20


class ScalingEvent(msgspec.Struct, kw_only=True):
    """Nomad's structs.ScalingEvent: one scaling action (or error) on a task group."""
    Time: int = 0
    Count: int | None = None
    PreviousCount: int = 0
    Error: bool = False
    Message: str = ""
    Meta: dict[str, Any] | None = None
    EvalID: str | None = None
    CreateIndex: int = 0


_NON_SPEC_FIELDS = ("Status", "StatusDescription", "Stable", "Version", "SubmitTime",
                    "CreateIndex", "ModifyIndex", "JobModifyIndex")


def spec_changed(old: Job, new: Job) -> bool:
    """Whether `new` differs from `old` in anything but server-managed fields."""
    def key(j: Job) -> bytes:
        return msgspec.msgpack.encode(msgspec.structs.replace(j, **{f: None for f in _NON_SPEC_FIELDS}))
    return key(old) != key(new)


def prepare_job(job: Job, region: str) -> Job:
    """Canonicalize and validate a submitted job; BadRequest with Nomad's message if invalid."""
    canonicalize(job, region)
    try:
        validate_job(job)
    except ValidationError as err:
        raise BadRequest(str(err).rstrip("\n")) from None
    return job


class JobEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server
        # (namespace, job ID) -> (the job's CreateIndex, {group: events, newest first}).
        # Nomad keeps these in its `scaling_event` state table; here they live in memory
        # on the server that took the request (lost on restart, not replicated).
        self.scaling_events: dict[tuple[str, str], tuple[int, dict[str, list[ScalingEvent]]]] = {}

    def _new_eval(self, job: Job, trigger: str, job_modify_index: int) -> Evaluation:
        return Evaluation(ID=generate_uuid(), Namespace=job.Namespace, Priority=job.Priority,
                          Type=job.Type, TriggeredBy=trigger, JobID=job.ID,
                          JobModifyIndex=job_modify_index, Status=EVAL_STATUS_PENDING)

    async def register(self, job: Job, enforce_index: bool = False,
                       job_modify_index: int = 0,
                       submission: JobSubmission | None = None) -> dict:
        srv = self.server
        if srv.operator.scheduler_config().RejectJobRegistration:
            raise Forbidden(JOB_REGISTRATION_DISABLED)
        prepare_job(job, srv.config.region)
        if srv.state.namespace_by_name(job.Namespace) is None:
            raise BadRequest(f"job {_goq(job.ID)} is in nonexistent namespace "
                             f"{_goq(job.Namespace)}")
        existing = srv.state.job_by_id(job.Namespace, job.ID)
        if enforce_index:
            current = existing.JobModifyIndex if existing else 0
            if current != job_modify_index:
                raise Conflict(f"Enforcing job modify index {job_modify_index}: job exists with "
                               f"conflicting job modify index: {current}" if existing else
                               f"Enforcing job modify index {job_modify_index}: job does not exist")
        job.Stop = bool(job.Stop)
        changed = existing is None or spec_changed(existing, job)
        ev = None
        if job.Periodic is None and job.ParameterizedJob is None:
            # applying the entry sets the eval's JobModifyIndex (the job's new one)
            ev = self._new_eval(job, TRIGGER_JOB_REGISTER,
                                0 if changed else existing.JobModifyIndex or 0)
        if changed:
            job.Status = None
            if submission is not None and len(submission.Source) > MAX_SOURCE_BYTES:
                submission = None  # as Nomad: sources over 1 MiB are not kept
            index = await srv.commit(e.JobRegister(Job=job, Eval=ev, Submission=submission))
            modify_index = index
        else:
            modify_index = existing.JobModifyIndex
            index = await srv.commit(e.EvalUpdate(Evals=[ev])) if ev else srv.state.latest_index
        return {"EvalID": ev.ID if ev else "", "EvalCreateIndex": index if ev else 0,
                "JobModifyIndex": modify_index, "Warnings": "", "Index": index,
                "LastContact": 0, "KnownLeader": True}

    async def revert(self, namespace: str, job_id: str, version: int,
                     enforce_prior_version: int | None = None) -> dict:
        """Register an older version's specification again, as a new version."""
        state = self.server.state
        current = state.job_by_id(namespace, job_id)
        if current is None:
            raise NotFound("job not found")
        if version == current.Version:
            raise BadRequest("can't revert to current version")
        if enforce_prior_version is not None and current.Version != enforce_prior_version:
            raise BadRequest(f"current job has version {current.Version}; enforcing version "
                             f"{enforce_prior_version}")
        old = next((j for j in state.job_versions_of(namespace, job_id) if j.Version == version),
                   None)
        if old is None:
            raise NotFound(f"job {job_id!r} in namespace {namespace!r} at version {version} "
                           "not found")
        return await self.register(msgspec.structs.replace(old, Stable=False))

    async def set_stability(self, namespace: str, job_id: str, version: int,
                            stable: bool) -> dict:
        state = self.server.state
        if not any(j.Version == version for j in state.job_versions_of(namespace, job_id)):
            raise NotFound(f"job {job_id!r} in namespace {namespace!r} at version {version} "
                           "not found")
        index = await self.server.commit(e.JobStability(Namespace=namespace, JobID=job_id,
                                                        Version=version, Stable=stable))
        return {"Index": index}

    async def deregister(self, namespace: str, job_id: str, purge: bool = False) -> dict:
        srv = self.server
        job = srv.state.job_by_id(namespace, job_id)
        if job is None:
            raise NotFound("job not found")
        ev = self._new_eval(job, TRIGGER_JOB_DEREGISTER, 0)
        index = await srv.commit(e.JobDeregister(Namespace=namespace, JobID=job_id,
                                                 Purge=purge, Eval=ev))
        return {"EvalID": ev.ID, "EvalCreateIndex": index, "JobModifyIndex": index,
                "Index": index, "LastContact": 0, "KnownLeader": True}

    async def evaluate(self, namespace: str, job_id: str, force_reschedule: bool = False) -> dict:
        srv = self.server
        job = srv.state.job_by_id(namespace, job_id)
        if job is None:
            raise NotFound("job not found")
        if job.Periodic is not None or job.ParameterizedJob is not None:
            raise BadRequest("can't evaluate periodic or parameterized job")
        ev = self._new_eval(job, "job-register", job.JobModifyIndex or 0)
        if force_reschedule:
            # Nomad's EvalOptions.ForceReschedule: failed allocs reschedule now.
            failed = {a.ID: DesiredTransition(ForceReschedule=True)
                      for a in srv.state.allocs_by_job_id(namespace, job_id)
                      if a.ClientStatus == "failed" and not a.DesiredTransition.ForceReschedule}
            if failed:
                index = await srv.commit(e.AllocUpdateDesiredTransition(Transitions=failed,
                                                                        Evals=[ev]))
                return {"EvalID": ev.ID, "EvalCreateIndex": index,
                        "JobModifyIndex": job.JobModifyIndex, "Index": index}
        index = await srv.commit_evals([ev])
        return {"EvalID": ev.ID, "EvalCreateIndex": index, "JobModifyIndex": job.JobModifyIndex,
                "Index": index}

    # -- scaling (Nomad's Job.Scale and Job.ScaleStatus) ---------------------------------
    async def scale(self, namespace: str, job_id: str, target: dict[str, str] | None,
                    count: int | None, message: str = "", error: bool = False,
                    meta: dict[str, Any] | None = None, job_modify_index: int = 0) -> dict:
        """Set a task group's count (registering the job as a new version and evaluating
        it) and record a scaling event; without a count, only record the event."""
        srv = self.server
        if srv.operator.scheduler_config().RejectJobRegistration:
            raise Forbidden(JOB_REGISTRATION_DISABLED)
        group_name = _validate_scale_request(namespace, job_id, target or {}, count, error)
        current = srv.state.job_by_id(namespace, job_id)
        if current is None:
            raise NotFound(f'job "{job_id}" not found')
        if current.Type == "system":
            raise BadRequest('cannot scale jobs of type "system"')
        job = msgspec.msgpack.decode(msgspec.msgpack.encode(current), type=Job)
        group = next((tg for tg in job.TaskGroups or () if tg.Name == group_name), None)
        if group is None:
            raise BadRequest(f'task group "{group_name}" specified for scaling does not '
                             "exist in job")
        event = ScalingEvent(Time=srv.clock.now_ns(), Count=count, PreviousCount=group.Count or 0,
                             Error=error, Message=message, Meta=meta)
        if count is None:
            out = {"EvalID": "", "EvalCreateIndex": 0, "JobModifyIndex": current.ModifyIndex,
                   "Warnings": "", "Index": srv.state.latest_index, "LastContact": 0,
                   "KnownLeader": True}
        else:
            _pin_scaling_min(group)
            _check_scaling_bounds(group, count)
            dep = srv.state.latest_deployment_by_job_id(namespace, job_id)
            if dep is not None and dep.active() and dep.JobCreateIndex == current.CreateIndex:
                raise BadRequest("job scaling blocked due to active deployment")
            group.Count = count
            job.SubmitTime = event.Time
            job.Stable = False
            # as Nomad: a JobModifyIndex of zero means "don't enforce"
            out = await self.register(job, enforce_index=job_modify_index > 0,
                                      job_modify_index=job_modify_index)
            event.EvalID = out["EvalID"] or None
        event.CreateIndex = out["Index"]
        self._record_scaling_event(current, group_name, event)
        return out

    def _record_scaling_event(self, job: Job, group: str, event: ScalingEvent) -> None:
        state = self.server.state
        for key, (create_index, _) in list(self.scaling_events.items()):
            gone = state.job_by_id(*key)
            if gone is None or gone.CreateIndex != create_index:
                del self.scaling_events[key]
        key = (job.Namespace, job.ID)
        _, groups = self.scaling_events.setdefault(key, (job.CreateIndex, {}))
        groups[group] = ([event] + groups.get(group, []))[:JOB_TRACKED_SCALING_EVENTS]

    def scaling_events_of(self, job: Job) -> dict[str, list[ScalingEvent]]:
        """The job's scaling events by group, newest first (none from an earlier job that
        had the same ID)."""
        entry = self.scaling_events.get((job.Namespace, job.ID))
        if entry is None or entry[0] != job.CreateIndex:
            return {}
        return entry[1]

    def scale_status(self, namespace: str, job_id: str) -> dict:
        """Nomad's JobScaleStatus: desired counts, placed/running/healthy allocations and
        the recent scaling events of each task group."""
        state = self.server.state
        job = state.job_by_id(namespace, job_id)
        if job is None:
            raise NotFound("job not found")
        events = self.scaling_events_of(job)
        groups: dict[str, dict] = {
            tg.Name: {"Desired": tg.Count or 0, "Placed": 0, "Running": 0, "Healthy": 0,
                      "Unhealthy": 0,
                      "Events": msgspec.to_builtins(events[tg.Name]) if events.get(tg.Name)
                      else None}
            for tg in job.TaskGroups or ()}
        for alloc in state.allocs_by_job_id(namespace, job_id):
            if alloc.Job is not None and alloc.Job.CreateIndex != job.CreateIndex:
                continue  # an earlier job registered under the same ID
            health = alloc.DeploymentStatus
            if (health is not None and health.Canary) or alloc.terminal():
                continue
            tg = groups.get(alloc.TaskGroup)
            if tg is None:
                continue
            tg["Placed"] += 1
            if alloc.ClientStatus == "running":
                tg["Running"] += 1
            if health is not None and health.Healthy is True:
                tg["Healthy"] += 1
            elif health is not None and health.Healthy is False:
                tg["Unhealthy"] += 1
        return {"JobID": job.ID, "Namespace": job.Namespace, "JobCreateIndex": job.CreateIndex,
                "JobModifyIndex": job.ModifyIndex, "JobStopped": bool(job.Stop),
                "TaskGroups": groups}


def _validate_scale_request(namespace: str, job_id: str, target: dict[str, str],
                            count: int | None, error: bool) -> str:
    """Nomad's JobScaleRequest.Validate; returns the target group's name."""
    if target.get("Namespace") and target["Namespace"] != namespace:
        raise BadRequest("namespace in payload did not match header")
    if target.get("Job") and target["Job"] != job_id:
        raise BadRequest("job ID in payload did not match URL")
    group = target.get("Group") or ""
    if not group:
        raise BadRequest("missing task group name for scaling action")
    if count is not None:
        if count < 0:
            raise BadRequest("scaling action count can't be negative")
        if error:
            raise BadRequest("scaling action should not contain count if error is true")
        if count >= 2 ** 63:
            raise BadRequest(f"new scaling count is too large for TaskGroup.Count (int): {count}")
    return group


def _pin_scaling_min(group) -> None:
    """A scaling block without `min` takes the group's count as its minimum, as Nomad's
    API canonicalization does when the job is submitted; keep it across scale actions."""
    if isinstance(group.Scaling, dict) and group.Scaling.get("Min") is None:
        group.Scaling = {**group.Scaling, "Min": group.Count or 0}


def _check_scaling_bounds(group, count: int) -> None:
    policy = group.Scaling if isinstance(group.Scaling, dict) else None
    if policy is None:
        return
    low, high = policy.get("Min"), policy.get("Max")
    if low is not None and count < int(low):
        raise BadRequest(f"group count was less than scaling policy minimum: {count} < {low}")
    if high is not None and int(high) < count:
        raise BadRequest(f"group count was greater than scaling policy maximum: {count} > {high}")


def _goq(text: str) -> str:
    """Go's %q for plain strings."""
    return msgspec.json.encode(text).decode()
