"""/v1/client/allocation/:alloc/exec: the WebSocket protocol against real host processes."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from types import SimpleNamespace

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from pynomad.client.driver import DriverError, TaskNotRunningError
from pynomad.drivers.raw_exec.host_exec import exec_host
from pynomad.http.app import http_app

ALLOC = "abcd2222-0000-4000-8000-000000000002"


class FakeTask:
    def __init__(self, name, cwd, running=True):
        self.name, self.cwd = name, cwd
        self.handle = object() if running else None
        self.dead = not running

    async def exec(self, opts):
        if self.handle is None:
            raise TaskNotRunningError("task is not running")
        return await exec_host(opts.command, self.cwd, {"PATH": os.environ["PATH"], "X": "y"},
                               "", opts)


@pytest.fixture
def api(tmp_path):
    def runner(body):
        async def main():
            tasks = {"web": FakeTask("web", str(tmp_path)),
                     "done": FakeTask("done", str(tmp_path), running=False)}
            alloc_runner = SimpleNamespace(tasks=tasks)
            client_stub = SimpleNamespace(
                alloc_runner=lambda a: alloc_runner if a == ALLOC else None)
            agent = SimpleNamespace(server=None, client=client_stub, config=None)
            client = TestClient(TestServer(http_app(agent)))
            await client.start_server()
            try:
                await body(client)
            finally:
                await client.close()
        asyncio.run(main())
    return runner


def _params(command, task="web", **kw):
    return {"task": task, "command": json.dumps(command), **kw}


async def _collect(ws):
    out, err, exited, closes = b"", b"", None, []
    async for msg in ws:
        frame = json.loads(msg.data)
        for key in ("stdout", "stderr"):
            if key in frame:
                if frame[key].get("close"):
                    closes.append(key)
                data = base64.b64decode(frame[key].get("data") or "")
                if key == "stdout":
                    out += data
                else:
                    err += data
        if frame.get("exited"):
            exited = frame["result"]["exit_code"]
    return out, err, exited, closes


def test_exec_streams_output_and_exit_code(api):
    async def body(client):
        ws = await client.ws_connect(f"/v1/client/allocation/{ALLOC}/exec",
                                     params=_params(["/bin/sh", "-c", "echo hi $X; echo e >&2; exit 3"]))
        await ws.send_str(json.dumps({"stdin": {"close": True}}))
        out, err, exited, closes = await _collect(ws)
        assert (out, err, exited) == (b"hi y\n", b"e\n", 3)
        assert sorted(closes) == ["stderr", "stdout"]
    api(body)


def test_exec_forwards_stdin(api):
    async def body(client):
        ws = await client.ws_connect(f"/v1/client/allocation/{ALLOC}/exec",
                                     params=_params(["cat"], ws_handshake="true"))
        await ws.send_str(json.dumps({"version": 1, "auth_token": ""}))
        await ws.send_str("{}")
        await ws.send_str(json.dumps({"stdin": {"data": base64.b64encode(b"abc\n").decode()}}))
        await ws.send_str(json.dumps({"tty_size": {"height": 10, "width": 20}}))
        await ws.send_str(json.dumps({"stdin": {"close": True}}))
        out, _, exited, _ = await _collect(ws)
        assert (out, exited) == (b"abc\n", 0)
    api(body)


def test_exec_refuses_bad_requests_before_upgrade(api):
    async def body(client):
        base = f"/v1/client/allocation/{ALLOC}/exec"
        cases = [
            (f"/v1/client/allocation/{'0' * 8}-0000-4000-8000-000000000000/exec",
             _params(["true"]), 404, "Unknown allocation"),
            (base, _params(["true"], task="nope"), 404, 'unknown task name "nope"'),
            (base, _params(["true"], task=""), 400, "task is not present"),
            (base, {"task": "web"}, 400, "command is not present"),
            (base, _params([]), 400, "command is not present"),
            (base, {"task": "web", "command": "[oops"}, 400, "failed to unmarshal"),
            (base, _params(["true"], tty="maybe"), 400, "tty value is not a boolean"),
            (base, _params(["true"], task="done"), 404, 'task "done" is not running'),
        ]
        for path, params, status, text in cases:
            resp = await client.get(path, params=params)
            assert resp.status == status, (params, await resp.text())
            assert text in await resp.text()
            with pytest.raises(aiohttp.WSServerHandshakeError):
                await client.ws_connect(path, params=params)
    api(body)


def test_exec_failure_after_upgrade_closes_with_reason(api):
    async def body(client):
        ws = await client.ws_connect(f"/v1/client/allocation/{ALLOC}/exec",
                                     params=_params(["no-such-binary-xyz"]))
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 1008
        assert "executable file not found" in msg.extra
    api(body)


def test_client_leaving_kills_the_command(api, tmp_path):
    async def body(client):
        marker = tmp_path / "pid"
        ws = await client.ws_connect(
            f"/v1/client/allocation/{ALLOC}/exec",
            params=_params(["/bin/sh", "-c", f"echo $$ > {marker}; exec sleep 100"]))
        while not marker.exists() or not marker.read_text().strip():
            await asyncio.sleep(0.02)
        pid = int(marker.read_text())
        await ws.close()
        for _ in range(500):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("command still running after the client left")
    api(body)


def test_driver_error_type():
    assert issubclass(TaskNotRunningError, DriverError)
