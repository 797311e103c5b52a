"""/v1/operator/snapshot (GET save, PUT/POST restore)."""

from __future__ import annotations

from aiohttp import web

from ..common import AGENT


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/operator/snapshot")
    async def save(request):
        data, index = request.app[AGENT].server.snapshots.save()
        return web.Response(body=data, content_type="application/x-gzip",
                            headers={"X-Nomad-Index": str(max(index, 1)),
                                     "X-Nomad-KnownLeader": "true",
                                     "X-Nomad-LastContact": "0"})

    @r.route("PUT", "/v1/operator/snapshot")
    @r.post("/v1/operator/snapshot")
    async def restore(request):
        data = await request.read()
        index = await request.app[AGENT].server.snapshots.restore(data)
        return web.Response(body=b"", content_type="text/plain",
                            headers={"X-Nomad-Index": str(index)})
