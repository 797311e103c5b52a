"""/v1/services (GET), /v1/service/:name (GET) and /v1/service/:name/:id (DELETE): Nomad's
native service discovery (api-docs/services.mdx). ACLs: `read-job` to read (the list is
filtered per namespace), `submit-job` to delete (acl_enforce.RULES).
"""

from __future__ import annotations

from aiohttp import web

from ...server.services_endpoint import TABLE, services_endpoint
from ..common import AGENT, query_options, reply


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/services")
    async def list_services(request):
        server, q = request.app[AGENT].server, query_options(request)
        index = await server.watcher.wait((TABLE,), q.index, q.wait)
        return reply(request, services_endpoint(server).list(q.namespace), index)

    @r.get("/v1/service/{name}")
    async def get_service(request):
        server, q = request.app[AGENT].server, query_options(request)
        index = await server.watcher.wait((TABLE,), q.index, q.wait)
        regs = services_endpoint(server).get(q.namespace, request.match_info["name"],
                                             request.query.get("tag", ""))
        return reply(request, [reg.to_dict() for reg in regs], index)

    @r.delete("/v1/service/{name}/{id}")
    async def delete_service(request):
        server, q = request.app[AGENT].server, query_options(request)
        index = await services_endpoint(server).delete_by_id(
            q.namespace, request.match_info["name"], request.match_info["id"])
        return reply(request, None, index)
