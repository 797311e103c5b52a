"""/v1/jobs, /v1/job/:id and its sub-resources, /v1/jobs/parse, /v1/validate/job."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from ...server.errors import BadRequest, NotFound
from ...server.job_endpoint import prepare_job
from ...server.jobdiff import job_diff
from ...structs import Base, Job, JobSubmission, ValidationError, canonicalize, to_builtins, validate_job
from ...structs.api_convert import from_api
from ..common import AGENT, decode_body, prefix_match, query_options, reply
from ..stubs import alloc_stub, job_stub


class JobRegisterRequest(Base):
    Job: Job
    EnforceIndex: bool = False
    JobModifyIndex: int = 0
    PolicyOverride: bool = False
    PreserveCounts: bool = False
    EvalPriority: int = 0
    Region: str | None = None
    Namespace: str | None = None
    SecretID: str | None = None
    IdempotencyToken: str | None = None
    Submission: Any = None


class EvalOptions(Base, forbid_unknown_fields=False):
    ForceReschedule: bool = False


class JobEvaluateRequest(Base, forbid_unknown_fields=False):
    JobID: str = ""
    EvalOptions: EvalOptions | None = None


class JobRevertRequest(Base, forbid_unknown_fields=False):
    JobID: str = ""
    JobVersion: int = 0
    EnforcePriorVersion: int | None = None


class JobStabilityRequest(Base, forbid_unknown_fields=False):
    JobID: str = ""
    JobVersion: int = 0
    Stable: bool = False


class JobPlanRequest(Base, forbid_unknown_fields=False):
    Job: Job | None = None
    Diff: bool = False
    PolicyOverride: bool = False
    Region: str | None = None
    Namespace: str | None = None


class ScalingRequest(Base, forbid_unknown_fields=False):
    """api.ScalingRequest (the body of POST /v1/job/:id/scale)."""
    Count: int | None = None
    Target: dict[str, str] | None = None
    Message: str = ""
    Error: bool = False
    Meta: dict[str, Any] | None = None
    PolicyOverride: bool = False
    EnforceIndex: bool = False
    JobModifyIndex: int = 0


class JobsParseRequest(Base):
    JobHCL: str
    Canonicalize: bool = False
    HCLv1: bool = False
    Variables: str | None = None
    Region: str | None = None
    Namespace: str | None = None


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/jobs")
    async def list_jobs(request):
        agent = request.app[AGENT]
        st, q = agent.server.state, query_options(request)
        index = await agent.server.watcher.wait(("jobs", "job_summary"), q.index, q.wait)
        jobs = prefix_match(st.jobs_by_namespace(q.namespace), q.prefix)
        return reply(request, [job_stub(st, j) for j in jobs], index)

    @r.route("PUT", "/v1/jobs")
    @r.post("/v1/jobs")
    async def register(request):
        return await _register(request, None)

    @r.post("/v1/jobs/parse")
    async def parse(request):
        req = await decode_body(request, JobsParseRequest)
        if req.HCLv1:
            raise BadRequest("HCLv1 job files are not supported; use HCL2")
        from ...jobspec import JobspecError, parse_job

        try:
            job = parse_job(req.JobHCL, "input.hcl", variables=_parse_vars(req.Variables),
                            allow_fs=False)
        except JobspecError as err:
            raise BadRequest(str(err)) from None
        if req.Canonicalize:
            job = to_builtins(canonicalize(_convert_job(job), request.app[AGENT].server.config.region))
        return reply(request, job)

    @r.route("PUT", "/v1/validate/job")
    @r.post("/v1/validate/job")
    async def validate(request):
        req = await decode_body(request, JobRegisterRequest)
        job = from_api(canonicalize(req.Job, request.app[AGENT].server.config.region))
        errors: list[str] = []
        try:
            validate_job(job)
        except ValidationError as err:
            errors = err.errors
        from ...structs import format_errors

        return reply(request, {"DriverConfigValidated": True, "ValidationErrors": errors,
                               "Error": format_errors(errors) if errors else "",
                               "Warnings": ""})

    @r.get("/v1/job/{id}")
    async def get_job(request):
        agent = request.app[AGENT]
        q = query_options(request)
        index = await agent.server.watcher.wait(("jobs",), q.index, q.wait)
        return reply(request, to_builtins(_job(request)), index)

    @r.route("PUT", "/v1/job/{id}")
    @r.post("/v1/job/{id}")
    async def register_one(request):
        return await _register(request, request.match_info["id"])

    @r.delete("/v1/job/{id}")
    async def deregister(request):
        q = query_options(request)
        purge = request.query.get("purge", "false").lower() in ("true", "1")
        out = await request.app[AGENT].server.jobs.deregister(q.namespace, request.match_info["id"], purge)
        return reply(request, out, out["Index"])

    @r.get("/v1/job/{id}/allocations")
    async def job_allocs(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("allocs",), q.index, q.wait)
        allocs = agent.server.state.allocs_by_job_id(q.namespace, request.match_info["id"])
        if request.query.get("all", "false") != "true":
            job = agent.server.state.job_by_id(q.namespace, request.match_info["id"])
            allocs = [a for a in allocs if job is None or a.Job is None
                      or a.Job.CreateIndex == job.CreateIndex]
        allocs.sort(key=lambda a: a.CreateIndex, reverse=True)
        return reply(request, [alloc_stub(a) for a in allocs], index)

    @r.get("/v1/job/{id}/evaluations")
    async def job_evals(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("evals",), q.index, q.wait)
        evals = agent.server.state.evals_by_job_id(q.namespace, request.match_info["id"])
        evals.sort(key=lambda ev: ev.CreateIndex, reverse=True)
        return reply(request, to_builtins(evals), index)

    @r.get("/v1/job/{id}/summary")
    async def job_summary(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("job_summary",), q.index, q.wait)
        summary = agent.server.state.job_summary(q.namespace, request.match_info["id"])
        if summary is None:
            raise NotFound("job not found")
        return reply(request, to_builtins(summary), index)

    @r.get("/v1/job/{id}/versions")
    async def job_versions(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("job_versions",), q.index, q.wait)
        versions = agent.server.state.job_versions_of(q.namespace, request.match_info["id"])
        if not versions:
            raise NotFound("job versions not found")
        out = to_builtins(versions)
        diffs = None
        if request.query.get("diffs", "").lower() in ("1", "true"):
            diffs = [job_diff(out[i + 1], out[i], True) for i in range(len(out) - 1)]
        return reply(request, {"Versions": out, "Diffs": diffs}, index)

    @r.get("/v1/job/{id}/submission")
    async def job_submission(request):
        q = query_options(request)
        try:
            version = int(request.query["version"])
        except (KeyError, ValueError):
            raise BadRequest("version must be set to an integer") from None
        index = await request.app[AGENT].server.watcher.wait(("jobs",), q.index, q.wait)
        sub = request.app[AGENT].server.state.job_submission(q.namespace, request.match_info["id"],
                                                              version)
        if sub is None:
            raise NotFound("job source not found")
        return reply(request, to_builtins(sub), index)

    @r.route("PUT", "/v1/job/{id}/evaluate")
    @r.post("/v1/job/{id}/evaluate")
    async def evaluate(request):
        q = query_options(request)
        force = False
        if (await request.read()).strip():
            req = await decode_body(request, JobEvaluateRequest)
            force = bool(req.EvalOptions and req.EvalOptions.ForceReschedule)
        out = await request.app[AGENT].server.jobs.evaluate(
            q.namespace, request.match_info["id"], force)
        return reply(request, out, out["Index"])

    @r.route("PUT", "/v1/job/{id}/revert")
    @r.post("/v1/job/{id}/revert")
    async def revert(request):
        q, job_id = query_options(request), request.match_info["id"]
        req = await decode_body(request, JobRevertRequest)
        _check_job_id(req.JobID, job_id)
        out = await request.app[AGENT].server.jobs.revert(
            q.namespace, job_id, req.JobVersion, req.EnforcePriorVersion)
        return reply(request, out, out["Index"])

    @r.route("PUT", "/v1/job/{id}/stable")
    @r.post("/v1/job/{id}/stable")
    async def stable(request):
        q, job_id = query_options(request), request.match_info["id"]
        req = await decode_body(request, JobStabilityRequest)
        _check_job_id(req.JobID, job_id)
        out = await request.app[AGENT].server.jobs.set_stability(
            q.namespace, job_id, req.JobVersion, req.Stable)
        return reply(request, out, out["Index"])

    @r.get("/v1/job/{id}/scale")
    async def scale_status(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("jobs", "allocs"), q.index, q.wait)
        out = agent.server.jobs.scale_status(q.namespace, request.match_info["id"])
        return reply(request, out, index)

    @r.route("PUT", "/v1/job/{id}/scale")
    @r.post("/v1/job/{id}/scale")
    async def scale(request):
        q, job_id = query_options(request), request.match_info["id"]
        req = await decode_body(request, ScalingRequest)
        out = await request.app[AGENT].server.jobs.scale(
            q.namespace, job_id, req.Target, req.Count, req.Message, req.Error, req.Meta,
            req.JobModifyIndex)
        return reply(request, out, out["Index"])

    @r.route("PUT", "/v1/job/{id}/plan")
    @r.post("/v1/job/{id}/plan")
    async def plan(request):
        from ...server.job_plan import plan_job

        req = await decode_body(request, JobPlanRequest)
        job = req.Job
        if job is None:
            raise BadRequest("Job must be specified")
        if not job.ID:
            raise BadRequest("Job ID hasn't been provided")
        if job.ID != request.match_info["id"]:
            raise BadRequest("Job ID does not match")
        if not job.Namespace:
            job.Namespace = req.Namespace or query_options(request).namespace
        from_api(canonicalize(job, request.app[AGENT].server.config.region))
        out = await plan_job(request.app[AGENT].server, job, req.Diff)
        return reply(request, out, out["Index"])


def _submission(data) -> JobSubmission | None:
    if not isinstance(data, dict) or not data.get("Source"):
        return None
    try:
        return msgspec.convert(data, JobSubmission)
    except msgspec.ValidationError as err:
        raise BadRequest(f"Failed to decode job submission: {err}") from None


def _job(request) -> Job:
    q = query_options(request)
    job = request.app[AGENT].server.state.job_by_id(q.namespace, request.match_info["id"])
    if job is None:
        raise NotFound("job not found")
    return job


def _convert_job(data: dict) -> Job:
    try:
        return msgspec.convert(data, Job)
    except msgspec.ValidationError as err:
        raise BadRequest(f"Failed to decode job: {err}") from None


def _parse_vars(text: str | None) -> dict[str, str]:
    out = {}
    for line in (text or "").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip('"')
    return out


async def _register(request, path_id: str | None):
    req = await decode_body(request, JobRegisterRequest)
    job = req.Job
    if not job.ID:
        raise BadRequest("Job ID hasn't been provided")
    if path_id is not None and job.ID != path_id:
        raise BadRequest("Job ID does not match name")
    q = query_options(request)
    if not job.Namespace:
        job.Namespace = req.Namespace or q.namespace
    server = request.app[AGENT].server
    from_api(canonicalize(job, server.config.region))
    prepare_job(job, server.config.region)
    out = await server.jobs.register(job, req.EnforceIndex, req.JobModifyIndex,
                                     _submission(req.Submission))
    return reply(request, out, out["Index"])


def _check_job_id(body_id: str, path_id: str) -> None:
    if not body_id:
        raise BadRequest("JobID must be specified")
    if body_id != path_id:
        raise BadRequest("Job ID does not match")
