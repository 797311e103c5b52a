"""/v1/operator/keyring/keys, /rotate, /key/:key_id (the root keyring; management only)
and /.well-known/jwks.json (the public keys that verify workload identities, as Nomad 1.7
serves them; anyone may read it)."""

from __future__ import annotations

from aiohttp import web

from ...server.keyring import keyring
from ...structs import to_builtins
from ..common import AGENT, query_options, reply

TABLE = ("root_keys",)


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/operator/keyring/keys")
    async def list_keys(request):
        server, q = request.app[AGENT].server, query_options(request)
        index = await server.watcher.wait(TABLE, q.index, q.wait)
        return reply(request, to_builtins(keyring(server).list_keys()), index)

    @r.route("PUT", "/v1/operator/keyring/rotate")
    @r.post("/v1/operator/keyring/rotate")
    async def rotate(request):
        server = request.app[AGENT].server
        full = request.query.get("full", "false").lower() in ("true", "1", "")
        if "full" not in request.query:
            full = False
        meta = await keyring(server).rotate(full=full,
                                            algorithm=request.query.get("algo", ""))
        index = server.state.table_index(*TABLE)
        return reply(request, {"Index": index, "Key": to_builtins(meta)}, index)

    @r.delete("/v1/operator/keyring/key/{key_id}")
    async def delete_key(request):
        server = request.app[AGENT].server
        index = await keyring(server).delete(request.match_info["key_id"])
        return reply(request, {"Index": index}, index)

    @r.get("/.well-known/jwks.json")
    async def jwks(request):
        server = request.app[AGENT].server
        resp = reply(request, keyring(server).jwks())
        resp.headers["Cache-Control"] = "max-age=3600"
        return resp
