"""/v1/nodes, /v1/node/:id, /v1/node/:id/allocations; eligibility, drain, evaluate."""

from __future__ import annotations

from aiohttp import web

from ...server.errors import NotFound
from ...structs import Base, DrainStrategy, to_builtins
from ..common import AGENT, decode_body, prefix_match, query_options, reply
from ..stubs import node_stub, node_view


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    setup_operator_actions(r)

    @r.get("/v1/nodes")
    async def list_nodes(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("nodes",), q.index, q.wait)
        nodes = prefix_match(sorted(agent.server.state.nodes_list(), key=lambda n: n.ID), q.prefix)
        with_res = request.query.get("resources") == "true"
        return reply(request, [node_stub(n, with_res) for n in nodes], index)

    @r.get("/v1/node/{id}")
    async def get_node(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("nodes",), q.index, q.wait)
        node = agent.server.state.node_by_id(request.match_info["id"])
        if node is None:
            raise NotFound("node not found")
        return reply(request, node_view(node), index)

    @r.get("/v1/node/{id}/allocations")
    async def node_allocs(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("allocs",), q.index, q.wait)
        if agent.server.state.node_by_id(request.match_info["id"]) is None:
            raise NotFound("node not found")
        allocs = agent.server.state.allocs_by_node_id(request.match_info["id"])
        return reply(request, to_builtins(sorted(allocs, key=lambda a: a.CreateIndex)), index)


class EligibilityRequest(Base, forbid_unknown_fields=False):
    NodeID: str = ""
    Eligibility: str = ""


class DrainSpec(Base, forbid_unknown_fields=False):
    Deadline: int = 0
    IgnoreSystemJobs: bool = False


class DrainRequest(Base, forbid_unknown_fields=False):
    NodeID: str = ""
    DrainSpec: DrainSpec | None = None
    MarkEligible: bool = False
    Meta: dict[str, str] | None = None


def setup_operator_actions(r: web.RouteTableDef) -> None:
    """POST/PUT /v1/node/:id/{eligibility,drain,evaluate}."""
    @r.route("PUT", "/v1/node/{id}/eligibility")
    @r.post("/v1/node/{id}/eligibility")
    async def eligibility(request):
        req = await decode_body(request, EligibilityRequest)
        out = await request.app[AGENT].server.nodes.update_eligibility(
            request.match_info["id"], req.Eligibility)
        return reply(request, out, out["Index"])

    @r.route("PUT", "/v1/node/{id}/drain")
    @r.post("/v1/node/{id}/drain")
    async def drain(request):
        req = await decode_body(request, DrainRequest)
        spec = None
        if req.DrainSpec is not None:
            spec = DrainStrategy(Deadline=req.DrainSpec.Deadline,
                                 IgnoreSystemJobs=req.DrainSpec.IgnoreSystemJobs)
        out = await request.app[AGENT].server.nodes.update_drain(
            request.match_info["id"], spec, req.MarkEligible, req.Meta)
        return reply(request, out, out["Index"])

    @r.route("PUT", "/v1/node/{id}/evaluate")
    @r.post("/v1/node/{id}/evaluate")
    async def evaluate(request):
        out = await request.app[AGENT].server.nodes.evaluate(request.match_info["id"])
        return reply(request, out, out["Index"])
