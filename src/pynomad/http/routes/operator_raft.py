"""/v1/status/leader, /v1/status/peers, /v1/regions, /v1/operator/raft/configuration and
/v1/operator/raft/peer: the servers' consensus group as this agent sees it."""

from __future__ import annotations

from aiohttp import web

from ...backend import BackendError
from ...server.errors import BadRequest, NotFound
from ..common import AGENT, reply


async def _servers(agent) -> list[dict]:
    return (await agent.server.snapshots.raft_configuration())["Servers"]


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/status/leader")
    async def leader(request):
        agent = request.app[AGENT]
        if not hasattr(agent, "leader"):
            return reply(request, agent.config.rpc_advertise)
        info = agent.leader()
        return reply(request, info["RPC"] if info else "")

    @r.get("/v1/status/peers")
    async def peers(request):
        servers = await _servers(request.app[AGENT])
        return reply(request, [s["Address"] for s in servers])

    @r.get("/v1/regions")
    async def regions(request):
        agent = request.app[AGENT]
        cluster = getattr(agent, "cluster", None)
        return reply(request, cluster.regions() if cluster else [agent.config.region])

    @r.get("/v1/operator/raft/configuration")
    async def raft_configuration(request):
        agent = request.app[AGENT]
        index = agent.server.state.latest_index if agent.server else 0
        return reply(request, {"Index": index, "Servers": await _servers(agent)}, index)

    @r.delete("/v1/operator/raft/peer")
    async def remove_peer(request):
        address, node_id = request.query.get("address", ""), request.query.get("id", "")
        if bool(address) == bool(node_id):
            raise BadRequest("Must specify either ?id with the server's ID or ?address "
                             "with IP:port of peer to remove")
        try:
            await request.app[AGENT].server.backend.remove_member(address or node_id)
        except BackendError as err:
            raise NotFound(str(err)) from None
        return reply(request, None)
