"""Client side of the server RPC: `POST http://<server>/rpc/<Method>` with msgpack bodies.

Replies are msgpack dicts; an error is a non-200 status with `{"Error": "msg"}`.
Connection failures rotate to the next server; application errors do not.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from typing import Any, TypeVar

import aiohttp
import msgspec

T = TypeVar("T")

MSGPACK = "application/msgpack"


class RPCError(Exception):
    """The server answered with an error."""

    def __init__(self, message: str, status: int = 500):
        super().__init__(message)
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.status == 404 or "not found" in str(self).lower()


class NoServersError(ConnectionError):
    """No server could be reached."""


class RPCClient:
    """Calls RPC methods on a list of servers ("host:port" or full URLs)."""

    def __init__(self, servers: list[str], timeout_s: float = 10.0,
                 ssl_context: _ssl.SSLContext | None = None, server_hostname: str | None = None):
        self.servers = list(servers)
        self.timeout_s = timeout_s
        self.ssl_context = ssl_context
        # With TLS: the name the server's certificate is checked against (e.g.
        # server.global.nomad) instead of the address dialled.
        self.server_hostname = server_hostname
        self._current = 0
        self._session: aiohttp.ClientSession | None = None
        self._encoder = msgspec.msgpack.Encoder()

    def _url(self, server: str, method: str) -> str:
        if "://" in server:
            return f"{server.rstrip('/')}/rpc/{method}"
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{server}/rpc/{method}"

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.ssl_context or False, limit=0))
        return self._session

    async def call(self, method: str, args: Any, reply_type: type[T] | None = None,
                   timeout_s: float | None = None) -> Any:
        """Call `method`; decode the reply as `reply_type` (or a plain dict)."""
        if not self.servers:
            raise NoServersError("no servers configured")
        body = self._encoder.encode(args)
        last_err: Exception | None = None
        for attempt in range(len(self.servers)):
            server = self.servers[(self._current + attempt) % len(self.servers)]
            try:
                raw, status = await self._post(server, method, body, timeout_s)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                last_err = e
                continue
            self._current = (self._current + attempt) % len(self.servers)
            return self._decode(raw, status, reply_type)
        self._current = (self._current + 1) % len(self.servers)
        raise NoServersError(f"rpc {method}: no server reachable: {last_err}")

    async def _post(self, server: str, method: str, body: bytes,
                    timeout_s: float | None) -> tuple[bytes, int]:
        timeout = aiohttp.ClientTimeout(total=timeout_s or self.timeout_s)
        extra = {"server_hostname": self.server_hostname} if self.server_hostname else {}
        async with self._get_session().post(self._url(server, method), data=body,
                                            headers={"Content-Type": MSGPACK},
                                            timeout=timeout, **extra) as resp:
            return await resp.read(), resp.status

    @staticmethod
    def _decode(raw: bytes, status: int, reply_type: type[T] | None) -> Any:
        if status != 200:
            try:
                doc = msgspec.msgpack.decode(raw)
                msg = doc.get("Error", "") if isinstance(doc, dict) else str(doc)
            except msgspec.DecodeError:
                msg = raw.decode(errors="replace")
            raise RPCError(msg or f"HTTP {status}", status)
        if reply_type is None:
            return msgspec.msgpack.decode(raw)
        return msgspec.msgpack.decode(raw, type=reply_type)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
