"""/v1/agent/members, /v1/agent/join, /v1/agent/force-leave and /v1/agent/keyring/*:
the server gossip pool seen from this agent."""

from __future__ import annotations

from aiohttp import web

from ...server.errors import BadRequest
from ...server.gossip import KeyringError, member_json
from ...server.gossip.keyring import decode_key
from ..common import AGENT, decode_body, error_text, reply


def _cluster(request):
    return getattr(request.app[AGENT], "cluster", None)


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/agent/members")
    async def members(request):
        agent, cluster = request.app[AGENT], _cluster(request)
        if cluster is None:
            return error_text(501, "Not a server")
        mems = sorted(cluster.gossip.members(), key=lambda m: m.name)
        return reply(request, {"ServerName": agent.config.name,
                               "ServerRegion": agent.config.region,
                               "ServerDC": agent.config.datacenter,
                               "Members": [member_json(m) for m in mems]})

    @r.put("/v1/agent/join")
    @r.post("/v1/agent/join")
    async def join(request):
        cluster = _cluster(request)
        if cluster is None:
            return error_text(501, "Not a server")
        addrs = [a for a in request.query.getall("address", []) if a.strip()]
        if not addrs:
            raise BadRequest("missing address to join")
        n, err = await cluster.join(addrs)
        return reply(request, {"error": err, "num_joined": n})

    @r.put("/v1/agent/force-leave")
    @r.post("/v1/agent/force-leave")
    async def force_leave(request):
        cluster = _cluster(request)
        if cluster is None:
            return error_text(501, "Not a server")
        node = request.query.get("node", "")
        if not node:
            raise BadRequest("missing node to force leave")
        prune = request.query.get("prune", "") not in ("", "0", "false")
        if not cluster.force_leave(node, prune):
            return error_text(404, f"agent: No node found with name '{node}'")
        return reply(request, None)

    @r.get("/v1/agent/keyring/list")
    async def keyring_list(request):
        return await _key_op(request, "list")

    for op in ("install", "use", "remove"):
        r.put(f"/v1/agent/keyring/{op}")(_key_handler(op))
        r.post(f"/v1/agent/keyring/{op}")(_key_handler(op))


def _key_handler(op: str):
    async def handler(request):
        return await _key_op(request, op)
    return handler


async def _key_op(request, op: str):
    cluster = _cluster(request)
    if cluster is None:
        return error_text(501, "Not a server")
    key = ""
    if op != "list":
        body = await decode_body(request)
        key = str(body.get("Key") or "") if isinstance(body, dict) else ""
        if not key:
            raise BadRequest("missing key")
        try:
            decode_key(key)
        except KeyringError as err:
            raise BadRequest(str(err)) from None
    resp = await cluster.gossip.key_op(op, key)
    if resp["Messages"]:
        failures = "; ".join(f"{n}: {m}" for n, m in sorted(resp["Messages"].items()))
        raise BadRequest(f"{len(resp['Messages'])}/{resp['NumNodes']} nodes reported "
                         f"failure: {failures}")
    return reply(request, resp)
