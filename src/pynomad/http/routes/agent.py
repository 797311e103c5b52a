"""/v1/agent/self|servers|health|version, /v1/system/gc, /v1/metrics."""

from __future__ import annotations

import time

from aiohttp import web

from ... import __version__
from ..common import AGENT, reply


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/agent/self")
    async def agent_self(request):
        return reply(request, request.app[AGENT].self_info())

    @r.get("/v1/agent/servers")
    async def servers(request):
        return reply(request, request.app[AGENT].client_servers())

    @r.get("/v1/agent/health")
    async def health(request):
        agent = request.app[AGENT]
        out = {}
        if agent.client is not None:
            out["client"] = {"ok": True, "message": "ok"}
        if agent.server is not None:
            out["server"] = {"ok": True, "message": "ok"}
        return reply(request, out)

    @r.route("PUT", "/v1/system/gc")
    @r.post("/v1/system/gc")
    async def system_gc(request):
        await request.app[AGENT].server.force_gc()
        return reply(request, None)

    @r.get("/v1/metrics")
    async def metrics(request):
        agent = request.app[AGENT]
        gauges = agent.metrics_gauges()
        if request.query.get("format") == "prometheus":
            lines = []
            for name, value in gauges.items():
                metric = name.replace(".", "_")
                lines += [f"# TYPE {metric} gauge", f"{metric} {value}"]
            return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")
        now = time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime())
        return reply(request, {"Timestamp": now, "Counters": [], "Samples": [], "Points": [],
                               "Gauges": [{"Name": k, "Value": v, "Labels": {}}
                                          for k, v in gauges.items()]})

    @r.get("/v1/agent/version")
    async def version(request):
        return reply(request, {"Version": __version__})
