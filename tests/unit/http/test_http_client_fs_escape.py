"""The fs API never leaves the allocation directory: symlinks a task plants (logs
included), `..`, NUL bytes, FIFOs, out-of-range offsets — each refused with a 400 or simply
not served, never a host file, a hang or a 500."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.state import StateStore
from pynomad.structs import Allocation

ALLOC = "abcd3333-0000-4000-8000-000000000003"
SECRET = b"host secret\n"


@pytest.fixture
def api(tmp_path):
    root = tmp_path / ALLOC
    (root / "alloc" / "logs").mkdir(parents=True)
    (root / "t" / "local").mkdir(parents=True)
    (root / "t" / "local" / "ok.txt").write_bytes(b"inside\n")
    host = tmp_path / "host-file"
    host.write_bytes(SECRET)

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
                await body(client, root, host)
            finally:
                await client.close()
        asyncio.run(main())
    return runner


def logs_plain(client, **params):
    return client.get(f"/v1/client/fs/logs/{ALLOC}",
                      params={"task": "t", "type": "stdout", "plain": "true", **params})


def test_logs_do_not_follow_a_planted_symlink(api):
    async def body(client, root, host):
        logs = root / "alloc" / "logs"
        (logs / "t.stdout.0").write_bytes(b"real output\n")
        os.symlink(host, logs / "t.stdout.99")
        os.symlink("../../t/local/ok.txt", logs / "t.stdout.98")  # even inside: not a log
        r = await logs_plain(client)
        assert r.status == 200
        data = await r.read()
        assert data == b"real output\n"
        assert SECRET not in data
    api(body)


def test_log_file_swapped_for_a_symlink_is_not_read(api):
    async def body(client, root, host):
        logs = root / "alloc" / "logs"
        os.symlink(host, logs / "t.stdout.0")
        r = await logs_plain(client)
        assert r.status == 200 and await r.read() == b""
    api(body)


@pytest.mark.parametrize("kind", ["cat", "readat", "stat", "ls", "stream"])
def test_symlink_out_of_the_alloc_dir_is_refused(api, kind):
    async def body(client, root, host):
        os.symlink(host, root / "t" / "local" / "leak")
        os.symlink(host.parent, root / "t" / "local" / "updir")
        for path in ("t/local/leak", "t/local/updir/host-file", "../host-file",
                     "t/../../host-file"):
            r = await client.get(f"/v1/client/fs/{kind}/{ALLOC}",
                                 params={"path": path, "follow": "false"})
            text = await r.text()
            assert r.status == 400, (path, r.status, text)
            assert "escapes the allocation directory" in text
            assert SECRET.decode() not in text
    api(body)


def test_symlink_inside_the_alloc_dir_is_followed(api):
    async def body(client, root, host):
        os.symlink("../t/local/ok.txt", root / "alloc" / "rel-link")
        os.symlink(str(root / "t" / "local"), root / "alloc" / "abs-link")
        r = await client.get(f"/v1/client/fs/cat/{ALLOC}", params={"path": "alloc/rel-link"})
        assert r.status == 200 and await r.read() == b"inside\n"
        r = await client.get(f"/v1/client/fs/cat/{ALLOC}",
                             params={"path": "alloc/abs-link/ok.txt"})
        assert r.status == 200 and await r.read() == b"inside\n"
        r = await client.get(f"/v1/client/fs/ls/{ALLOC}", params={"path": "alloc"})
        names = {e["Name"]: e for e in await r.json()}
        assert names["rel-link"]["FileMode"].startswith("l")  # listed, not followed
    api(body)


def test_symlink_loop_is_refused(api):
    async def body(client, root, host):
        os.symlink("b", root / "alloc" / "a")
        os.symlink("a", root / "alloc" / "b")
        r = await client.get(f"/v1/client/fs/cat/{ALLOC}", params={"path": "alloc/a"})
        assert r.status == 400 and "symbolic links" in await r.text()
    api(body)


def test_nul_byte_in_path_is_a_400(api):
    async def body(client, root, host):
        for kind in ("cat", "stat", "ls", "readat", "stream"):
            r = await client.get(f"/v1/client/fs/{kind}/{ALLOC}", params={"path": "t/\x00x"})
            assert r.status == 400, kind
            assert "NUL" in await r.text()
    api(body)


def test_readat_offsets_are_bounded(api):
    async def body(client, root, host):
        q = {"path": "t/local/ok.txt"}
        r = await client.get(f"/v1/client/fs/readat/{ALLOC}",
                             params={**q, "offset": str(2**70), "limit": "10"})
        assert r.status == 400 and "offset" in await r.text()
        r = await client.get(f"/v1/client/fs/readat/{ALLOC}",
                             params={**q, "offset": "-5", "limit": "10"})
        assert r.status == 400
        r = await client.get(f"/v1/client/fs/readat/{ALLOC}",
                             params={**q, "offset": str(2**62), "limit": "10"})
        assert r.status == 200 and await r.read() == b""
        r = await client.get(f"/v1/client/fs/readat/{ALLOC}",
                             params={**q, "offset": "2", "limit": "3"})
        assert await r.read() == b"sid"
        r = await client.get(f"/v1/client/fs/stream/{ALLOC}",
                             params={**q, "offset": "9" * 30, "follow": "false"})
        assert r.status == 400
    api(body)


def test_fifo_is_refused_not_hung(api):
    async def body(client, root, host):
        os.mkfifo(root / "t" / "local" / "pipe")
        for kind in ("cat", "readat", "stream"):
            r = await asyncio.wait_for(client.get(f"/v1/client/fs/{kind}/{ALLOC}",
                                                  params={"path": "t/local/pipe"}), 30)
            assert r.status == 400 and "not a regular file" in await r.text(), kind
        r = await client.get(f"/v1/client/fs/stat/{ALLOC}", params={"path": "t/local/pipe"})
        assert r.status == 200 and (await r.json())["FileMode"].startswith("p")
    api(body)


def test_logs_offsets_span_rotated_files(api):
    async def body(client, root, host):
        logs = root / "alloc" / "logs"
        (logs / "t.stdout.0").write_bytes(b"aaaa")
        (logs / "t.stdout.1").write_bytes(b"bbbb")
        r = await logs_plain(client)
        assert await r.read() == b"aaaabbbb"
        r = await logs_plain(client, offset="6")
        assert await r.read() == b"bb"
        r = await logs_plain(client, origin="end", offset="6")
        assert await r.read() == b"aabbbb"
        r = await client.get(f"/v1/client/fs/logs/{ALLOC}",
                             params={"task": "t", "type": "stdout", "offset": "2"})
        frames, dec, text = [], json.JSONDecoder(), (await r.read()).decode()
        while text:
            frame, end = dec.raw_decode(text)
            frames.append(frame)
            text = text[end:]
        assert [(f["File"], base64.b64decode(f["Data"])) for f in frames] == [
            ("alloc/logs/t.stdout.0", b"aa"), ("alloc/logs/t.stdout.1", b"bbbb")]
        r = await logs_plain(client, offset=str(2**64))
        assert r.status == 400
    api(body)
