"""/v1/client/fs/{stream,readat,stat,ls}/:alloc against a fake agent with a real alloc dir."""

from __future__ import annotations

import asyncio
import base64
import json
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.state import StateStore
from pynomad.structs import Allocation

ALLOC = "abcd2222-0000-4000-8000-000000000002"


def frames(raw: bytes) -> list[dict]:
    dec, text, out = json.JSONDecoder(), raw.decode(), []
    while text.strip():
        frame, end = dec.raw_decode(text.strip())
        out.append(frame)
        text = text.strip()[end:]
    return out


@pytest.fixture
def api(tmp_path):
    root = tmp_path / ALLOC
    (root / "web" / "local").mkdir(parents=True)
    (root / "web" / "local" / "out.txt").write_bytes(b"line1\nline2\nline3\n")

    def runner(body):
        async def main():
            state = StateStore()
            state.put_alloc(Allocation(ID=ALLOC, JobID="example", TaskGroup="g"))
            client_stub = SimpleNamespace(alloc_dir=lambda a: str(root) if a == ALLOC else None)
            agent = SimpleNamespace(server=SimpleNamespace(state=state), client=client_stub,
                                    config=None)
            client = TestClient(TestServer(http_app(agent)))
            await client.start_server()
            try:
                await body(client, root)
            finally:
                await client.close()
        asyncio.run(main())
    return runner


def test_stream_without_follow_sends_frames(api):
    async def body(client, root):
        resp = await client.get(f"/v1/client/fs/stream/{ALLOC}",
                                params={"path": "web/local/out.txt", "follow": "false"})
        assert resp.status == 200
        got = frames(await resp.read())
        assert b"".join(base64.b64decode(f["Data"]) for f in got) == b"line1\nline2\nline3\n"
        assert got[-1]["Offset"] == 18
        assert got[-1]["File"] == "web/local/out.txt"
    api(body)


def test_stream_origin_end_offset(api):
    async def body(client, root):
        resp = await client.get(f"/v1/client/fs/stream/{ALLOC}",
                                params={"path": "/web/local/out.txt", "follow": "false",
                                        "origin": "end", "offset": "6"})
        got = frames(await resp.read())
        assert base64.b64decode(got[0]["Data"]) == b"line3\n"
    api(body)


def test_stream_follow_sees_appends_and_deletion(api):
    async def body(client, root):
        target = root / "web" / "local" / "out.txt"
        resp = await client.get(f"/v1/client/fs/stream/{ALLOC}",
                                params={"path": "web/local/out.txt", "origin": "end", "offset": "0"})
        assert resp.status == 200
        with target.open("ab") as f:
            f.write(b"more\n")
        buf = b""
        while b"Data" not in buf:
            buf += await resp.content.readany()
        target.unlink()
        buf += await resp.read()
        got = frames(buf)
        assert base64.b64decode(got[0]["Data"]) == b"more\n"
        assert got[-1] == {"File": "web/local/out.txt", "FileEvent": "file deleted"}
    api(body)


def test_stream_bad_input(api):
    async def body(client, root):
        base = f"/v1/client/fs/stream/{ALLOC}"
        assert (await client.get(base, params={"path": "web"})).status == 400
        assert (await client.get(base, params={"path": "web/local/out.txt",
                                               "origin": "middle"})).status == 400
        assert (await client.get(base, params={"path": "web/local/out.txt",
                                               "offset": "x"})).status == 400
        assert (await client.get(base, params={"path": "../../etc/passwd"})).status == 400
        assert (await client.get(base, params={"path": "nope"})).status == 404
        assert (await client.get("/v1/client/fs/stream/0000", params={"path": "/"})).status == 404
        resp = await client.get(f"/v1/client/fs/readat/{ALLOC}",
                                params={"path": "web/local/out.txt", "offset": "zz"})
        assert resp.status == 400
    api(body)


def test_readat_and_ls(api):
    async def body(client, root):
        resp = await client.get(f"/v1/client/fs/readat/{ALLOC}",
                                params={"path": "web/local/out.txt", "offset": "6", "limit": "5"})
        assert await resp.read() == b"line2"
        listing = await (await client.get(f"/v1/client/fs/ls/{ALLOC}",
                                          params={"path": "/"})).json()
        assert [(f["Name"], f["IsDir"]) for f in listing] == [("web", True)]
    api(body)
