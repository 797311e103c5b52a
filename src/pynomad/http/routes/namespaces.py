"""/v1/namespaces, /v1/namespace[/:name] (GET, POST/PUT, DELETE)."""

from __future__ import annotations

from aiohttp import web

from ...server.errors import BadRequest
from ...structs.acl import Namespace
from ...structs import to_builtins
from ..common import AGENT, decode_body, query_options, reply


def reply_empty(index: int) -> web.Response:
    """A write's answer: no body, the index in X-Nomad-Index (as Nomad does)."""
    return web.Response(status=200, headers={"X-Nomad-Index": str(max(index, 1))})


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/namespaces")
    async def list_namespaces(request):
        server, q = request.app[AGENT].server, query_options(request)
        index = await server.watcher.wait(("namespaces",), q.index, q.wait)
        return reply(request, to_builtins(server.namespaces.list(q.prefix)), index)

    @r.get("/v1/namespace/{name}")
    async def get_namespace(request):
        server, q = request.app[AGENT].server, query_options(request)
        index = await server.watcher.wait(("namespaces",), q.index, q.wait)
        return reply(request, to_builtins(server.namespaces.get(request.match_info["name"])),
                     index)

    @r.route("PUT", "/v1/namespace")
    @r.post("/v1/namespace")
    async def create_namespace(request):
        return await _upsert(request, "")

    @r.route("PUT", "/v1/namespace/{name}")
    @r.post("/v1/namespace/{name}")
    async def update_namespace(request):
        return await _upsert(request, request.match_info["name"])

    @r.delete("/v1/namespace/{name}")
    async def delete_namespace(request):
        server = request.app[AGENT].server
        index = await server.namespaces.delete([request.match_info["name"]])
        return reply_empty(index)


async def _upsert(request, name: str) -> web.Response:
    ns = await decode_body(request, Namespace)
    if name and ns.Name != name:
        raise BadRequest("Namespace name does not match request path")
    index = await request.app[AGENT].server.namespaces.upsert([ns])
    return reply_empty(index)
