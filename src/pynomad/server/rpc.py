"""The server side of the RPC port (4647): HTTP POST /rpc/<Method> with msgpack bodies.

Clients register, heartbeat, long-poll their allocations and report alloc status here.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec
from aiohttp import web

from ..structs import Allocation, Node
from .errors import EndpointError

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.rpc")
_encoder = msgspec.msgpack.Encoder()


class RegisterArgs(msgspec.Struct):
    Node: Node


class UpdateStatusArgs(msgspec.Struct):
    NodeID: str
    Status: str


class ClientAllocsArgs(msgspec.Struct):
    NodeID: str
    SecretID: str = ""
    MinQueryIndex: int = 0
    MaxQueryTime: int = 0


class GetAllocsArgs(msgspec.Struct):
    AllocIDs: list[str]


class UpdateAllocArgs(msgspec.Struct):
    Alloc: list[Allocation]


class PingArgs(msgspec.Struct):
    pass


def rpc_app(server: "Server") -> web.Application:
    nodes = server.nodes

    async def node_register(args: RegisterArgs):
        return await nodes.register(args.Node)

    async def node_update_status(args: UpdateStatusArgs):
        return await nodes.update_status(args.NodeID, args.Status)

    async def node_get_client_allocs(args: ClientAllocsArgs):
        return await nodes.get_client_allocs(args.NodeID, args.SecretID, args.MinQueryIndex,
                                             args.MaxQueryTime / 1e9)

    async def alloc_get_allocs(args: GetAllocsArgs):
        return nodes.get_allocs(args.AllocIDs)

    async def node_update_alloc(args: UpdateAllocArgs):
        return await nodes.update_allocs(args.Alloc)

    async def status_ping(args: PingArgs):
        return {"Leader": server.config.rpc_addr}

    # Each method's arguments are decoded straight into their struct (no dict in between).
    methods = {
        "Node.Register": (RegisterArgs, node_register),
        "Node.UpdateStatus": (UpdateStatusArgs, node_update_status),
        "Node.GetClientAllocs": (ClientAllocsArgs, node_get_client_allocs),
        "Alloc.GetAllocs": (GetAllocsArgs, alloc_get_allocs),
        "Node.UpdateAlloc": (UpdateAllocArgs, node_update_alloc),
        "Status.Ping": (PingArgs, status_ping),
    }
    decoders = {name: msgspec.msgpack.Decoder(typ) for name, (typ, _) in methods.items()}

    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if name not in methods:
            return _reply({"Error": "unknown RPC method"}, 404)
        try:
            args = decoders[name].decode(await request.read())
            return _reply(await methods[name][1](args))
        except EndpointError as err:
            return _reply({"Error": err.message}, err.code)
        except (msgspec.ValidationError, msgspec.DecodeError) as err:
            return _reply({"Error": f"bad RPC request: {err}"}, 400)

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/rpc/{method}", handle)
    return app


def _reply(body, status: int = 200) -> web.Response:
    return web.Response(body=_encoder.encode(body), status=status,
                        content_type="application/msgpack")
