"""The server side of the RPC port (4647): HTTP POST /rpc/<Method> with msgpack bodies.

Clients register, heartbeat, long-poll their allocations and report alloc status here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec
from aiohttp import web

from ..structs import Allocation, Node
from .errors import BadRequest, EndpointError

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.rpc")
_encoder = msgspec.msgpack.Encoder()


def rpc_app(server: "Server") -> web.Application:
    nodes = server.nodes

    async def node_register(args):
        return await nodes.register(msgspec.convert(args["Node"], Node))

    async def node_update_status(args):
        return await nodes.update_status(args["NodeID"], args["Status"])

    async def node_get_client_allocs(args):
        return await nodes.get_client_allocs(args["NodeID"], args.get("SecretID", ""),
                                             int(args.get("MinQueryIndex", 0)),
                                             int(args.get("MaxQueryTime", 0)) / 1e9)

    async def alloc_get_allocs(args):
        return nodes.get_allocs(list(args["AllocIDs"]))

    async def node_update_alloc(args):
        updates = msgspec.convert(args["Alloc"], list[Allocation])
        return await nodes.update_allocs(updates)

    async def status_ping(args):
        return {"Leader": server.config.rpc_addr}

    methods = {
        "Node.Register": node_register,
        "Node.UpdateStatus": node_update_status,
        "Node.GetClientAllocs": node_get_client_allocs,
        "Alloc.GetAllocs": alloc_get_allocs,
        "Node.UpdateAlloc": node_update_alloc,
        "Status.Ping": status_ping,
    }

    async def handle(request: web.Request) -> web.Response:
        fn = methods.get(request.match_info["method"])
        if fn is None:
            return _reply({"Error": "unknown RPC method"}, 404)
        try:
            args = msgspec.msgpack.decode(await request.read())
            if not isinstance(args, dict):
                raise BadRequest("RPC arguments must be a map")
            return _reply(await fn(args))
        except EndpointError as err:
            return _reply({"Error": err.message}, err.code)
        except (msgspec.ValidationError, msgspec.DecodeError, KeyError, TypeError) as err:
            return _reply({"Error": f"bad RPC request: {err}"}, 400)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/rpc/{method}", handle)
    return app


def _reply(body, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(body), status=status,
                        content_type="application/msgpack")
