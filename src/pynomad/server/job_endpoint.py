"""Job endpoints: register (with versions), deregister, validate, evaluate."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
            ev = self._new_eval(job, TRIGGER_JOB_REGISTER, 0)
        if changed:
            job.Status = None
            if submission is not None and len(submission.Source) > MAX_SOURCE_BYTES:
                submission = None  # as Nomad: sources over 1 MiB are not kept
            index = await srv.commit(e.JobRegister(Job=job, Eval=ev, Submission=submission))
            modify_index = index
        else:
            modify_index = existing.JobModifyIndex
            index = await srv.commit(e.EvalUpdate(Evals=[ev])) if ev else srv.state.latest_index
        if ev is not None:
            ev.JobModifyIndex = modify_index
            srv.broker.enqueue(ev)
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
        ev.JobModifyIndex = index
        srv.broker.enqueue(ev)
        srv.blocked.untrack(namespace, job_id)
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
                srv.broker.enqueue(ev)
                return {"EvalID": ev.ID, "EvalCreateIndex": index,
                        "JobModifyIndex": job.JobModifyIndex, "Index": index}
        index = await srv.commit_evals([ev])
        return {"EvalID": ev.ID, "EvalCreateIndex": index, "JobModifyIndex": job.JobModifyIndex,
                "Index": index}
