"""/v1/deployments, /v1/deployment/:id and its actions, /v1/job/:id/deployment[s]."""

from __future__ import annotations

import re

from aiohttp import web

from ...server.errors import BadRequest, NotFound
from ...structs import Base, Deployment, to_builtins
from ..common import AGENT, decode_body, query_options, reply
from ..stubs import alloc_stub

_HEX = re.compile(r"^[0-9a-fA-F]*$")


class DeploymentPauseRequest(Base, forbid_unknown_fields=False):
    DeploymentID: str = ""
    Pause: bool = False


class DeploymentPromoteRequest(Base, forbid_unknown_fields=False):
    DeploymentID: str = ""
    All: bool = False
    Groups: list[str] | None = None


class DeploymentFailRequest(Base, forbid_unknown_fields=False):
    DeploymentID: str = ""


class DeploymentAllocHealthRequest(Base, forbid_unknown_fields=False):
    DeploymentID: str = ""
    HealthyAllocationIDs: list[str] | None = None
    UnhealthyAllocationIDs: list[str] | None = None


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    setup_reads(r)
    setup_writes(r)
    setup_job_reads(r)


def setup_reads(r: web.RouteTableDef) -> None:
    @r.get("/v1/deployments")
    async def list_deployments(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("deployment",), q.index, q.wait)
        deps = [d for d in agent.server.state.deployments.values()
                if q.namespace in ("*", d.Namespace)]
        if q.prefix:
            id_prefix = _id_prefix(q.prefix)
            deps = sorted((d for d in deps if d.ID.replace("-", "").startswith(id_prefix)),
                          key=lambda d: d.ID)
        else:
            deps.sort(key=lambda d: (d.CreateIndex, d.ID))
        if request.query.get("reverse") == "true":
            deps.reverse()
        deps, next_token = _paginate(request, deps, by_id=bool(q.prefix))
        resp = reply(request, to_builtins(deps), index)
        if next_token:
            resp.headers["X-Nomad-NextToken"] = next_token
        return resp

    @r.get("/v1/deployment/{id}")
    async def get_deployment(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("deployment",), q.index, q.wait)
        dep = agent.server.state.deployment_by_id(request.match_info["id"])
        if dep is None:
            raise NotFound("deployment not found")
        return reply(request, to_builtins(dep), index)

    @r.get("/v1/deployment/allocations/{id}")
    async def deployment_allocs(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("allocs",), q.index, q.wait)
        dep = agent.server.state.deployment_by_id(request.match_info["id"])
        allocs = agent.server.state.allocs_by_deployment(dep) if dep is not None else []
        allocs = sorted(allocs, key=lambda a: (a.CreateIndex, a.ID))
        return reply(request, [alloc_stub(a) for a in allocs], index)


def setup_writes(r: web.RouteTableDef) -> None:
    @r.route("PUT", "/v1/deployment/pause/{id}")
    @r.post("/v1/deployment/pause/{id}")
    async def pause(request):
        dep_id = request.match_info["id"]
        req = await decode_body(request, DeploymentPauseRequest)
        _check_id(req.DeploymentID, dep_id)
        out = await request.app[AGENT].server.deployments.pause(dep_id, req.Pause)
        return reply(request, out, out.get("Index"))

    @r.route("PUT", "/v1/deployment/promote/{id}")
    @r.post("/v1/deployment/promote/{id}")
    async def promote(request):
        dep_id = request.match_info["id"]
        req = await decode_body(request, DeploymentPromoteRequest)
        _check_id(req.DeploymentID, dep_id)
        out = await request.app[AGENT].server.deployments.promote(dep_id, req.All,
                                                                    list(req.Groups or []))
        return reply(request, out, out.get("Index"))

    @r.route("PUT", "/v1/deployment/fail/{id}")
    @r.post("/v1/deployment/fail/{id}")
    async def fail(request):
        # Nomad takes the ID from the path alone; a body, when sent, must agree with it.
        dep_id = request.match_info["id"]
        if (await request.read()).strip():
            req = await decode_body(request, DeploymentFailRequest)
            if req.DeploymentID and req.DeploymentID != dep_id:
                raise BadRequest("Deployment ID does not match")
        out = await request.app[AGENT].server.deployments.fail(dep_id)
        return reply(request, out, out.get("Index"))

    @r.route("PUT", "/v1/deployment/allocation-health/{id}")
    @r.post("/v1/deployment/allocation-health/{id}")
    async def alloc_health(request):
        dep_id = request.match_info["id"]
        req = await decode_body(request, DeploymentAllocHealthRequest)
        _check_id(req.DeploymentID, dep_id)
        out = await request.app[AGENT].server.deployments.set_alloc_health(
            dep_id, list(req.HealthyAllocationIDs or []), list(req.UnhealthyAllocationIDs or []))
        return reply(request, out, out.get("Index"))


def setup_job_reads(r: web.RouteTableDef) -> None:
    @r.get("/v1/job/{id}/deployments")
    async def job_deployments(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("deployment",), q.index, q.wait)
        st, job_id = agent.server.state, request.match_info["id"]
        deps = st.deployments_by_job_id(q.namespace, job_id)
        if request.query.get("all", "false").lower() not in ("true", "1"):
            # like Nomad: hide deployments of an earlier job registered under the same ID
            job = st.job_by_id(q.namespace, job_id)
            if job is not None:
                deps = [d for d in deps if d.JobCreateIndex == job.CreateIndex]
        return reply(request, to_builtins(deps), index)

    @r.get("/v1/job/{id}/deployment")
    async def job_latest_deployment(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("deployment",), q.index, q.wait)
        dep = agent.server.state.latest_deployment_by_job_id(q.namespace, request.match_info["id"])
        # Nomad replies 200 with JSON null when the job has no deployment
        return reply(request, to_builtins(dep) if dep is not None else None, index)


def _check_id(body_id: str, path_id: str) -> None:
    if not body_id:
        raise BadRequest("DeploymentID must be specified")
    if body_id != path_id:
        raise BadRequest("Deployment ID does not match")


def _id_prefix(prefix: str) -> str:
    """An ID prefix as Nomad's UUID index reads it: hyphens dropped, even-length hex."""
    if len(prefix) > 36:
        raise BadRequest(f"Invalid UUID length. UUID have 36 characters; got {len(prefix)}")
    sanitized = prefix.replace("-", "")
    if len(prefix) - len(sanitized) > 4:
        raise BadRequest(f'UUID should have maximum of 4 "-"; got {len(prefix) - len(sanitized)}')
    if len(sanitized) % 2:
        raise BadRequest("Input (without hyphens) must be even length")
    if not _HEX.match(sanitized):
        raise BadRequest(f"Invalid UUID prefix: {prefix}")
    return sanitized.lower()


def _token(d: Deployment, by_id: bool) -> tuple:
    return (d.ID,) if by_id else (d.CreateIndex, d.ID)


def _paginate(request, deps: list[Deployment], by_id: bool) -> tuple[list[Deployment], str]:
    """Nomad's `per_page` / `next_token` paging; tokens are `ID` or `CreateIndex.ID`."""
    query = request.query
    start = query.get("next_token", "")
    if start:
        seek = _parse_token(start, by_id)
        reverse = query.get("reverse") == "true"
        deps = [d for d in deps
                if (_token(d, by_id) <= seek if reverse else _token(d, by_id) >= seek)]
    per_page = query.get("per_page", "")
    if not per_page:
        return deps, ""
    try:
        n = int(per_page)
    except ValueError:
        raise BadRequest(f"Invalid per_page: {per_page}") from None
    if n <= 0 or len(deps) <= n:
        return deps, ""
    nxt = deps[n]
    return deps[:n], nxt.ID if by_id else f"{nxt.CreateIndex}.{nxt.ID}"


def _parse_token(token: str, by_id: bool) -> tuple:
    if by_id:
        return (token,)
    index, _, dep_id = token.partition(".")
    try:
        return (int(index), dep_id)
    except ValueError:
        raise BadRequest(f"Invalid next_token: {token}") from None
