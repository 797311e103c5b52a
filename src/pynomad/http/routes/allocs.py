"""/v1/allocations, /v1/allocation/:id[/stop], /v1/evaluations,
/v1/evaluation/:id[/allocations]."""

from __future__ import annotations

from aiohttp import web

from ...server.alloc_endpoint import stop_alloc
from ...server.errors import NotFound
from ...structs import to_builtins
from ..common import AGENT, prefix_match, query_options, reply
from ..stubs import alloc_stub


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/allocations")
    async def list_allocs(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("allocs",), q.index, q.wait)
        allocs = [a for a in agent.server.state.allocs.values()
                  if q.namespace in ("*", a.Namespace)]
        allocs = prefix_match(sorted(allocs, key=lambda a: a.ID), q.prefix)
        resources = request.query.get("resources", "").lower() in ("1", "true")
        task_states = request.query.get("task_states", "").lower() not in ("0", "false")
        return reply(request, [alloc_stub(a, resources, task_states) for a in allocs], index)

    @r.get("/v1/allocation/{id}")
    async def get_alloc(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("allocs",), q.index, q.wait)
        alloc = agent.server.state.alloc_by_id(request.match_info["id"])
        if alloc is None:
            raise NotFound("alloc not found")
        return reply(request, to_builtins(alloc), index)

    @r.route("PUT", "/v1/allocation/{id}/stop")
    @r.post("/v1/allocation/{id}/stop")
    async def stop_alloc_route(request):
        server = request.app[AGENT].server
        no_delay = request.query.get("no_shutdown_delay", "false").lower() in ("true", "1")
        out = await stop_alloc(server, request.match_info["id"], no_delay)
        return reply(request, out, out["Index"])

    @r.get("/v1/evaluations")
    async def list_evals(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("evals",), q.index, q.wait)
        evals = [ev for ev in agent.server.state.evals.values()
                 if q.namespace in ("*", ev.Namespace)]
        evals = prefix_match(sorted(evals, key=lambda ev: ev.CreateIndex, reverse=True), q.prefix)
        status = request.query.get("status")
        if status:
            evals = [ev for ev in evals if ev.Status == status]
        if request.query.get("job"):
            evals = [ev for ev in evals if ev.JobID == request.query["job"]]
        return reply(request, to_builtins(evals), index)

    @r.get("/v1/evaluation/{id}")
    async def get_eval(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("evals",), q.index, q.wait)
        ev = agent.server.state.eval_by_id(request.match_info["id"])
        if ev is None:
            raise NotFound("eval not found")
        return reply(request, to_builtins(ev), index)

    @r.get("/v1/evaluation/{id}/allocations")
    async def eval_allocs(request):
        agent, q = request.app[AGENT], query_options(request)
        index = await agent.server.watcher.wait(("allocs",), q.index, q.wait)
        allocs = agent.server.state.allocs_by_eval(request.match_info["id"])
        return reply(request, [alloc_stub(a) for a in allocs], index)
