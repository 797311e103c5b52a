"""/v1/job/:id/periodic/force and /v1/job/:id/dispatch: launching child jobs."""

from __future__ import annotations

from aiohttp import web

from ...server.dispatch import decode_payload
from ...server.errors import BadRequest
from ...structs import Base
from ..common import AGENT, decode_body, query_options, reply


class JobDispatchRequest(Base, forbid_unknown_fields=False):
    JobID: str = ""
    Payload: str | None = None
    Meta: dict[str, str] | None = None
    IdPrefixTemplate: str = ""
    IdempotencyToken: str = ""


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.route("PUT", "/v1/job/{id}/periodic/force")
    @r.post("/v1/job/{id}/periodic/force")
    async def periodic_force(request):
        q = query_options(request)
        out = await request.app[AGENT].server.periodic.force(q.namespace,
                                                               request.match_info["id"])
        return reply(request, out, out["Index"])

    @r.route("PUT", "/v1/job/{id}/dispatch")
    @r.post("/v1/job/{id}/dispatch")
    async def dispatch(request):
        q, job_id = query_options(request), request.match_info["id"]
        req = await decode_body(request, JobDispatchRequest)
        if req.JobID and req.JobID != job_id:
            raise BadRequest("Job ID does not match")
        token = request.query.get("idempotency_token") or req.IdempotencyToken
        out = await request.app[AGENT].server.dispatcher.dispatch(
            q.namespace, job_id, decode_payload(req.Payload), req.Meta,
            req.IdPrefixTemplate, token)
        return reply(request, out, out["Index"])
