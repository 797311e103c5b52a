"""The RPC port's framing: method lookup, argument decoding and error replies."""

from __future__ import annotations

import msgspec
from aiohttp.test_utils import TestClient, TestServer

from pynomad.server.rpc import rpc_app


async def _call(server, method, body, **kw):
    async with TestClient(TestServer(rpc_app(server))) as client:
        resp = await client.post(f"/rpc/{method}", data=body, **kw)
        return resp.status, msgspec.msgpack.decode(await resp.read())


def test_ping_replies_with_the_leader(run):
    async def body(server):
        status, reply = await _call(server, "Status.Ping", msgspec.msgpack.encode({}))
        assert status == 200
        assert reply == {"Leader": server.config.rpc_addr}
    run(body)


def test_unknown_method_is_404(run):
    async def body(server):
        status, reply = await _call(server, "Nope.Nothing", b"\x80")
        assert (status, reply) == (404, {"Error": "unknown RPC method"})
    run(body)


def test_undecodable_arguments_are_400(run):
    async def body(server):
        status, reply = await _call(server, "Node.UpdateStatus",
                                    msgspec.msgpack.encode({"NodeID": 3}))
        assert status == 400
        assert reply["Error"].startswith("bad RPC request: Expected `str`")
    run(body)


def test_body_without_length_is_refused(run):
    async def chunks():
        yield msgspec.msgpack.encode({})

    async def body(server):
        status, reply = await _call(server, "Status.Ping", chunks())
        assert status == 413
        assert "Content-Length" in reply["Error"]
    run(body)
