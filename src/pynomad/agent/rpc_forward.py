"""The cluster's part of the RPC port: writes that reach a follower go on to the leader,
and the methods servers and clients use to find each other.

- `Node.Register`, `Node.UpdateStatus`, `Node.UpdateAlloc` and the service registration
  writes are the leader's (it runs the heartbeat timers and commits); a follower passes
  them on unchanged, as Nomad's RPC forwarding does. Reads are answered locally.
- `Status.Servers`: the region's alive servers (RPC and HTTP addresses), which clients
  keep as their server list.
- `Etcd.MemberAdd`: a new server asks a member's server to add it to etcd.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import msgspec
from aiohttp import web

from ..backend import BackendError, NotLeaderError

log = logging.getLogger("pynomad.agent")

FORWARDED = "X-Nomad-Forwarded"
LEADER_METHODS = frozenset({"Node.Register", "Node.UpdateStatus", "Node.UpdateAlloc",
                            "ServiceRegistration.Upsert",
                            "ServiceRegistration.DeleteByAllocID"})
LEADER_WAIT_S = 5.0


def _msgpack(body, status: int = 200) -> web.Response:
    return web.Response(body=msgspec.msgpack.encode(body), status=status,
                        content_type="application/msgpack")


def rpc_middleware(agent):
    session: dict[str, aiohttp.ClientSession] = {}

    def client_session() -> aiohttp.ClientSession:
        if "s" not in session or session["s"].closed:
            ssl = agent.rpc_client_ssl() or False
            session["s"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl,
                                                                                limit=0))
        return session["s"]

    async def local_method(method: str, request: web.Request) -> web.Response | None:
        if method == "Status.Servers":
            return _msgpack({"Servers": agent.region_servers()})
        if method == "Etcd.MemberAdd":
            etcd = agent.etcd_cluster
            if etcd is None:
                return _msgpack({"Error": "this server does not run an etcd member"}, 400)
            try:
                args = msgspec.msgpack.decode(await request.read())
                initial = await etcd.add_member(str(args["Name"]), str(args["PeerURL"]))
            except (KeyError, TypeError, msgspec.DecodeError):
                return _msgpack({"Error": "bad Etcd.MemberAdd request"}, 400)
            except Exception as err:  # noqa: BLE001 - the joiner retries elsewhere
                return _msgpack({"Error": f"adding the etcd member failed: {err}"}, 503)
            return _msgpack({"Initial": initial})
        return None

    async def forward(request: web.Request, method: str) -> web.StreamResponse:
        leader = await agent.wait_for_leader(LEADER_WAIT_S)
        if leader is None:
            return _msgpack({"Error": "No cluster leader"}, 503)
        scheme = "https" if agent.rpc_client_ssl() is not None else "http"
        url = f"{scheme}://{leader['RPC']}/rpc/{method}"
        body = await request.read()
        extra = {}
        if agent.rpc_server_hostname():
            extra["server_hostname"] = agent.rpc_server_hostname()
        try:
            async with client_session().post(
                    url, data=body, timeout=aiohttp.ClientTimeout(total=330),
                    headers={"Content-Type": "application/msgpack", FORWARDED: "1"},
                    **extra) as resp:
                data = await resp.read()
                return web.Response(body=data, status=resp.status,
                                    content_type="application/msgpack")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as err:
            return _msgpack({"Error": f"forwarding {method} to the leader failed: {err}"}, 503)

    @web.middleware
    async def middleware(request: web.Request, handler):
        method = request.match_info.get("method", "")
        resp = await local_method(method, request)
        if resp is not None:
            return resp
        server = agent.server
        if (method in LEADER_METHODS and server is not None and not server.is_leader
                and FORWARDED not in request.headers):
            return await forward(request, method)
        try:
            return await handler(request)
        except NotLeaderError:
            if FORWARDED in request.headers or server is None or server.is_leader:
                return _msgpack({"Error": "No cluster leader"}, 503)
            return await forward(request, method)
        except BackendError as err:
            return _msgpack({"Error": f"the cluster state is unavailable: {err}"}, 503)

    async def close() -> None:
        if "s" in session:
            await session["s"].close()

    middleware.close = close  # type: ignore[attr-defined]
    return middleware
