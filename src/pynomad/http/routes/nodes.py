"""/v1/nodes, /v1/node/:id, /v1/node/:id/allocations."""

from __future__ import annotations

from aiohttp import web

from ...server.errors import NotFound
from ...structs import to_builtins
from ..common import prefix_match, query_options, reply
from ..stubs import node_stub, node_view


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/nodes")
    async def list_nodes(request):
        agent, q = request.app["agent"], query_options(request)
        index = await agent.server.watcher.wait(("nodes",), q.index, q.wait)
        nodes = prefix_match(sorted(agent.server.state.nodes_list(), key=lambda n: n.ID), q.prefix)
        with_res = request.query.get("resources") == "true"
        return reply(request, [node_stub(n, with_res) for n in nodes], index)

    @r.get("/v1/node/{id}")
    async def get_node(request):
        agent, q = request.app["agent"], query_options(request)
        index = await agent.server.watcher.wait(("nodes",), q.index, q.wait)
        node = agent.server.state.node_by_id(request.match_info["id"])
        if node is None:
            raise NotFound("node not found")
        return reply(request, node_view(node), index)

    @r.get("/v1/node/{id}/allocations")
    async def node_allocs(request):
        agent, q = request.app["agent"], query_options(request)
        index = await agent.server.watcher.wait(("allocs",), q.index, q.wait)
        if agent.server.state.node_by_id(request.match_info["id"]) is None:
            raise NotFound("node not found")
        allocs = agent.server.state.allocs_by_node_id(request.match_info["id"])
        return reply(request, to_builtins(sorted(allocs, key=lambda a: a.CreateIndex)), index)
