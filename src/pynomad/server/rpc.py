"""The server side of the RPC port (4647): HTTP POST /rpc/<Method> with msgpack bodies.

Clients register, heartbeat, long-poll their allocations and report alloc status here.
The contract (method names, argument and reply structs) is `structs.rpc`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import msgspec
from aiohttp import web

from ..structs import enc_hook
from ..structs import rpc as r
from .errors import EndpointError
from .services_endpoint import services_endpoint
from .variables_endpoint import task_list, task_read

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.rpc")
_encoder = msgspec.msgpack.Encoder(enc_hook=enc_hook)
MAX_BODY = 64 * 1024 * 1024


def rpc_app(server: "Server") -> web.Application:
    nodes = server.nodes

    async def node_register(args: r.RegisterArgs) -> r.NodeUpdateReply:
        return await nodes.register(args.Node)

    async def node_update_status(args: r.UpdateStatusArgs) -> r.NodeUpdateReply:
        return await nodes.update_status(args.NodeID, args.Status)

    async def node_get_client_allocs(args: r.ClientAllocsArgs) -> r.ClientAllocsReply:
        return await nodes.get_client_allocs(args.NodeID, args.SecretID, args.MinQueryIndex,
                                             args.MaxQueryTime / 1e9)

    async def alloc_get_allocs(args: r.GetAllocsArgs) -> r.AllocsReply:
        return nodes.get_allocs(args.AllocIDs)

    async def node_update_alloc(args: r.UpdateAllocArgs) -> r.IndexReply:
        return await nodes.update_allocs(args.Alloc)

    async def status_ping(args: r.PingArgs) -> r.PingReply:
        return r.PingReply(Leader=server.config.rpc_addr)

    async def variables_read(args: r.VariablesReadArgs) -> r.VariableReply:
        return r.VariableReply(Data=task_read(server, args.AllocID, args.Task, args.Path,
                                              args.NodeSecretID))

    async def variables_list(args: r.VariablesListArgs) -> r.VariableReply:
        return r.VariableReply(Data=task_list(server, args.AllocID, args.Task, args.Prefix,
                                              args.NodeSecretID))

    async def service_upsert(args: r.ServiceUpsertArgs) -> r.IndexReply:
        return r.IndexReply(Index=await services_endpoint(server).upsert(
            args.Services, args.NodeSecretID))

    async def service_delete_by_alloc(args: r.ServiceDeleteByAllocArgs) -> r.IndexReply:
        return r.IndexReply(Index=await services_endpoint(server).delete_by_alloc(
            args.AllocID, args.NodeSecretID))

    async def service_list(args: r.ServiceListArgs) -> r.ServicesReply:
        return r.ServicesReply(Services=services_endpoint(server).task_list(
            args.AllocID, args.ServiceName, args.NodeSecretID))

    handlers = {
        r.NODE_REGISTER: node_register, r.NODE_UPDATE_STATUS: node_update_status,
        r.NODE_GET_CLIENT_ALLOCS: node_get_client_allocs, r.ALLOC_GET_ALLOCS: alloc_get_allocs,
        r.NODE_UPDATE_ALLOC: node_update_alloc, r.STATUS_PING: status_ping,
        r.VARIABLES_READ: variables_read, r.VARIABLES_LIST: variables_list,
        r.SERVICE_UPSERT: service_upsert, r.SERVICE_DELETE_BY_ALLOC: service_delete_by_alloc,
        r.SERVICE_LIST: service_list,
    }
    # Each method's arguments are decoded straight into their struct (no dict in between).
    decoders = {name: msgspec.msgpack.Decoder(r.ARGS[name]) for name in handlers}

    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        if name not in handlers:
            return await _reply(request, {"Error": "unknown RPC method"}, 404)
        size = request.content_length
        if size is None or size > MAX_BODY:
            return await _reply(request, {"Error": "RPC body needs a Content-Length of at "
                                          f"most {MAX_BODY} bytes"}, 413)
        try:
            # Read from the stream: `request.read()` would keep the body on the request.
            args = decoders[name].decode(await request.content.readexactly(size))
            body, status = await handlers[name](args), 200
        except EndpointError as err:
            body, status = {"Error": err.message}, err.code
        except (msgspec.ValidationError, msgspec.DecodeError) as err:
            body, status = {"Error": f"bad RPC request: {err}"}, 400
        except asyncio.IncompleteReadError:
            body, status = {"Error": "bad RPC request: truncated body"}, 400
        return await _reply(request, body, status)

    app = web.Application()
    app.router.add_post("/rpc/{method}", handle)
    return app


async def _reply(request: web.Request, body, status: int = 200) -> web.StreamResponse:
    """Stream the encoded reply. An idle keep-alive connection holds on to its last
    response; a streamed one does not keep its body, which for a node's allocations
    can be tens of kilobytes."""
    data = _encoder.encode(body)
    resp = web.StreamResponse(status=status)
    resp.content_type = "application/msgpack"
    resp.content_length = len(data)
    await resp.prepare(request)
    await resp.write(data)
    await resp.write_eof()
    return resp
