"""/v1/system/reconcile/summaries (`nomad system reconcile summaries`)."""

from __future__ import annotations

from aiohttp import web

from ...server.system_endpoint import reconcile_summaries
from ..common import AGENT, reply


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.route("PUT", "/v1/system/reconcile/summaries")
    @r.post("/v1/system/reconcile/summaries")
    async def reconcile(request):
        out = await reconcile_summaries(request.app[AGENT].server)
        return reply(request, None, out["Index"])
