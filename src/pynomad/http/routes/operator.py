"""/v1/operator/scheduler/configuration (GET, PUT/POST with `?cas=`)."""

from __future__ import annotations

from aiohttp import web

from ...server.errors import BadRequest
from ...structs.operator import SchedulerConfiguration
from ..common import AGENT, decode_body, reply


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/operator/scheduler/configuration")
    async def get_config(request):
        out = request.app[AGENT].server.operator.get_scheduler_config()
        return reply(request, out, out["Index"])

    @r.route("PUT", "/v1/operator/scheduler/configuration")
    @r.post("/v1/operator/scheduler/configuration")
    async def set_config(request):
        cas = None
        if "cas" in request.query:
            try:
                cas = int(request.query["cas"])
                if cas < 0:
                    raise ValueError
            except ValueError:
                raise BadRequest(f"Error parsing cas value: {request.query['cas']!r}") from None
        cfg = await decode_body(request, SchedulerConfiguration)
        out = await request.app[AGENT].server.operator.set_scheduler_config(cfg, cas)
        return reply(request, out, out["Index"])
