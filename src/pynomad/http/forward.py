"""Sending API requests where they belong, as Nomad's agents do:

- `?region=` of another region: to a server of that region;
- a client-only agent: everything but its own `/v1/agent/*` and its own allocations'
  `/v1/client/*` goes to a server;
- `/v1/client/*` for an allocation (or `?node_id=`) on another node: to that node's agent;
- a write to a follower: to the leader. Reads stay local; without `?stale` they first
  wait until this server has applied everything committed (a quorum read of the log's
  revision), so they are as fresh as the leader's.

`X-Nomad-KnownLeader` and `X-Nomad-LastContact` say what this server knows. Each hop adds
one to `X-Nomad-Forwarded`; a request is never sent on more than three times.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp
from aiohttp import web

from ..backend import BackendError, NotLeaderError
from .common import AGENT, error_text

FORWARDED = "X-Nomad-Forwarded"
MAX_HOPS = 3
HOP_HEADERS = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
               "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
# served by whichever agent is asked
LOCAL_PREFIXES = ("/v1/agent/", "/v1/status/", "/v1/regions", "/v1/metrics",
                  "/v1/operator/raft/", "/v1/operator/autopilot/health", "/v1/event/stream")
_CLIENT_ALLOC = re.compile(r"^/v1/client/(?:fs/[a-z]+|allocation)/([0-9a-fA-F-]{36})")
WRITE_METHODS = ("PUT", "POST", "DELETE")


def _hops(request: web.Request) -> int:
    try:
        return int(request.headers.get(FORWARDED, "0"))
    except ValueError:
        return MAX_HOPS


class Forwarder:
    def __init__(self, agent) -> None:
        self.agent = agent
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            ssl = self.agent.http_client_ssl() or False
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=ssl, limit=0),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _url(self, addr: str, request: web.Request, ws: bool = False) -> str:
        scheme = "https" if self.agent.http_client_ssl() is not None else "http"
        if ws:
            scheme = "wss" if scheme == "https" else "ws"
        return f"{scheme}://{addr}{request.rel_url}"

    async def proxy(self, request: web.Request, addrs: list[str]) -> web.StreamResponse:
        """Send the request to the first of `addrs` that answers; stream the reply back."""
        if not addrs:
            return error_text(503, "No path to region" if request.query.get("region")
                              else "No known Nomad servers")
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._proxy_ws(request, addrs[0])
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        headers[FORWARDED] = str(_hops(request) + 1)
        body = await request.read()
        last: Exception | None = None
        for addr in addrs:
            try:
                async with self.session().request(request.method, self._url(addr, request),
                                                  headers=headers, data=body or None,
                                                  allow_redirects=False) as resp:
                    return await self._relay(request, resp)
            except (aiohttp.ClientConnectionError, asyncio.TimeoutError, OSError) as err:
                last = err
        return error_text(503, f"forwarding the request failed: {last}")

    @staticmethod
    async def _relay(request: web.Request, resp: aiohttp.ClientResponse) -> web.StreamResponse:
        out = web.StreamResponse(status=resp.status, headers={
            k: v for k, v in resp.headers.items() if k.lower() not in HOP_HEADERS
            and k.lower() != "content-encoding"})
        await out.prepare(request)
        async for chunk in resp.content.iter_any():
            await out.write(chunk)
        await out.write_eof()
        return out

    async def _proxy_ws(self, request: web.Request, addr: str) -> web.StreamResponse:
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("x-nomad-token", "authorization", "origin")}
        headers[FORWARDED] = str(_hops(request) + 1)
        try:
            upstream = await self.session().ws_connect(self._url(addr, request, ws=True),
                                                       headers=headers)
        except (aiohttp.ClientError, OSError) as err:
            return error_text(503, f"forwarding the request failed: {err}")
        down = web.WebSocketResponse()
        await down.prepare(request)

        async def pump(src, dst) -> None:
            async for msg in src:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    await dst.send_str(msg.data)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    await dst.send_bytes(msg.data)
                else:
                    break

        tasks = [asyncio.create_task(pump(down, upstream)),
                 asyncio.create_task(pump(upstream, down))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            t.cancel()
        await upstream.close()
        await down.close()
        return down

    # -- where a request goes ------------------------------------------------------------
    def _client_target(self, request: web.Request) -> str | None:
        """The HTTP address of the agent that runs the request's allocation or node, when
        that is another agent; None to serve here."""
        agent = self.agent
        m = _CLIENT_ALLOC.match(request.path)
        node_id = request.query.get("node_id", "")
        client = agent.client
        if m:
            if client is not None and client.alloc_runner(m.group(1)) is not None:
                return None
            if agent.server is None:
                return ""            # a server knows where it runs
            alloc = agent.server.state.alloc_by_id(m.group(1))
            node_id = alloc.NodeID if alloc is not None else ""
        if not node_id or (client is not None and client.node_id == node_id):
            return None
        if agent.server is None:
            return ""
        node = agent.server.state.node_by_id(node_id)
        return node.HTTPAddr if node is not None and node.HTTPAddr else None

    async def route(self, request: web.Request, handler):
        agent = self.agent
        path = request.path
        if not path.startswith("/v1/") or _hops(request) >= MAX_HOPS:
            return await handler(request)
        region = request.query.get("region", "")
        if region and region != agent.config.region and not path.startswith("/v1/agent/"):
            return await self.proxy(request, agent.region_http_addrs(region))
        if path.startswith("/v1/client/"):
            target = self._client_target(request)
            if target == "":
                return await self.proxy(request, agent.server_http_addrs())
            if target:
                return await self.proxy(request, [target])
            return await handler(request)
        if path.startswith(LOCAL_PREFIXES) or path == "/v1/agent":
            return await handler(request)
        if agent.server is None:
            return await self.proxy(request, agent.server_http_addrs())
        if not agent.server.is_leader:
            if request.method in WRITE_METHODS:
                leader = await agent.wait_for_leader(5.0)
                if leader is None:
                    return error_text(503, "No cluster leader")
                return await self.proxy(request, [leader["HTTP"]])
            if "stale" not in request.query:
                await agent.consistent_read()
        try:
            resp = await handler(request)
        except NotLeaderError:
            # leadership moved while the write was under way: the new leader takes it
            leader = await agent.wait_for_leader(5.0)
            moved = leader is not None and not agent.server.is_leader
            if request.method in WRITE_METHODS and moved:
                return await self.proxy(request, [leader["HTTP"]])
            return error_text(503, "No cluster leader")
        except BackendError as err:
            return error_text(503, f"the cluster state is unavailable: {err}")
        if not resp.prepared and "X-Nomad-Index" in resp.headers:
            known, contact_ms = agent.leader_contact()
            resp.headers["X-Nomad-KnownLeader"] = "true" if known else "false"
            resp.headers["X-Nomad-LastContact"] = str(contact_ms)
        return resp


def forward_middleware():
    @web.middleware
    async def middleware(request: web.Request, handler):
        forwarder = getattr(request.app[AGENT], "forwarder", None)
        if forwarder is None:
            return await handler(request)
        return await forwarder.route(request, handler)
    return middleware
