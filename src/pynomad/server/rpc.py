"""The server side of the RPC port (4647): HTTP POST /rpc/<Method> with msgpack bodies.

Clients register, heartbeat, long-poll their allocations and report alloc status here.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import msgspec
from aiohttp import web

from ..structs.services import ServiceRegistration
from ..structs import Allocation, Node, enc_hook
from .errors import EndpointError
from .services_endpoint import services_endpoint
from .variables_endpoint import task_list, task_read

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.rpc")
_encoder = msgspec.msgpack.Encoder(enc_hook=enc_hook)
MAX_BODY = 64 * 1024 * 1024


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


class VariablesTaskArgs(msgspec.Struct):
    """A task's variable lookup (template hook): its alloc, task and the path or prefix."""
    AllocID: str
    Task: str
    Path: str = ""
    Prefix: str = ""
    NodeSecretID: str = ""


class ServiceUpsertArgs(msgspec.Struct):
    Services: list[ServiceRegistration]
    NodeSecretID: str = ""


class ServiceAllocArgs(msgspec.Struct):
    """Deregister an alloc's services (DeleteByAllocID) or look services up for one of
    its tasks (List: one service's registrations, or all names when ServiceName is "")."""
    AllocID: str
    ServiceName: str = ""
    NodeSecretID: str = ""


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

    async def variables_read(args: VariablesTaskArgs):
        return {"Data": task_read(server, args.AllocID, args.Task, args.Path,
                                  args.NodeSecretID)}

    async def variables_list(args: VariablesTaskArgs):
        return {"Data": task_list(server, args.AllocID, args.Task, args.Prefix,
                                  args.NodeSecretID)}

    async def service_upsert(args: ServiceUpsertArgs):
        return {"Index": await services_endpoint(server).upsert(args.Services,
                                                                args.NodeSecretID)}

    async def service_delete_by_alloc(args: ServiceAllocArgs):
        return {"Index": await services_endpoint(server).delete_by_alloc(args.AllocID,
                                                                         args.NodeSecretID)}

    async def service_list(args: ServiceAllocArgs):
        return {"Services": services_endpoint(server).task_list(
            args.AllocID, args.ServiceName, args.NodeSecretID)}

    # Each method's arguments are decoded straight into their struct (no dict in between).
    methods = {
        "Node.Register": (RegisterArgs, node_register),
        "Node.UpdateStatus": (UpdateStatusArgs, node_update_status),
        "Node.GetClientAllocs": (ClientAllocsArgs, node_get_client_allocs),
        "Alloc.GetAllocs": (GetAllocsArgs, alloc_get_allocs),
        "Node.UpdateAlloc": (UpdateAllocArgs, node_update_alloc),
        "Status.Ping": (PingArgs, status_ping),
        "Variables.Read": (VariablesTaskArgs, variables_read),
        "Variables.List": (VariablesTaskArgs, variables_list),
        "ServiceRegistration.Upsert": (ServiceUpsertArgs, service_upsert),
        "ServiceRegistration.DeleteByAllocID": (ServiceAllocArgs, service_delete_by_alloc),
        "ServiceRegistration.List": (ServiceAllocArgs, service_list),
    }
    decoders = {name: msgspec.msgpack.Decoder(typ) for name, (typ, _) in methods.items()}

    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        if name not in methods:
            return await _reply(request, {"Error": "unknown RPC method"}, 404)
        size = request.content_length
        if size is None or size > MAX_BODY:
            return await _reply(request, {"Error": "RPC body needs a Content-Length of at "
                                          f"most {MAX_BODY} bytes"}, 413)
        try:
            # Read from the stream: `request.read()` would keep the body on the request.
            args = decoders[name].decode(await request.content.readexactly(size))
            body, status = await methods[name][1](args), 200
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
