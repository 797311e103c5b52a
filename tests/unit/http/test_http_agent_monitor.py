"""/v1/agent/monitor: the agent's log lines at the requested level, while the request lasts."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app

log = logging.getLogger("pynomad.monitortest")


@pytest.fixture
def api():
    def runner(body):
        async def main():
            agent = SimpleNamespace(server=None, client=None, config=None)
            client = TestClient(TestServer(http_app(agent)))
            await client.start_server()
            try:
                await body(client)
            finally:
                await client.close()
        asyncio.run(main())
    return runner


async def _read_until(resp, needle: bytes) -> bytes:
    buf = b""
    while needle not in buf:
        chunk = await resp.content.readany()
        assert chunk, buf
        buf += chunk
    return buf


def test_debug_lines_stream_while_agent_logs_info(api):
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.INFO)
    try:
        async def body(client):
            resp = await client.get("/v1/agent/monitor",
                                    params={"log_level": "DEBUG", "plain": "true"})
            assert resp.status == 200
            assert root.level == logging.DEBUG
            log.debug("a debug detail %d", 7)
            buf = await _read_until(resp, b"a debug detail 7")
            line = buf.decode().splitlines()[-1]
            assert "[DEBUG] pynomad.monitortest: a debug detail 7" in line
            assert line.endswith("Z [DEBUG] pynomad.monitortest: a debug detail 7")
            resp.close()
        api(body)
    finally:
        assert root.level == logging.INFO
        root.setLevel(old)


def test_json_frames_and_level_filter(api):
    async def body(client):
        resp = await client.get("/v1/agent/monitor",
                                params={"log_level": "warn", "log_json": "true"})
        log.info("not shown")
        log.warning("shown warning")
        buf = await _read_until(resp, b"}")
        while True:
            try:
                frame = json.loads(buf)
                break
            except ValueError:
                buf += await resp.content.readany()
        doc = json.loads(base64.b64decode(frame["Data"]))
        assert doc["@level"] == "warn" and doc["@message"] == "shown warning"
        assert doc["@module"] == "pynomad.monitortest"
        resp.close()
    api(body)


def test_unknown_level_is_400(api):
    async def body(client):
        resp = await client.get("/v1/agent/monitor", params={"log_level": "loud"})
        assert resp.status == 400
        assert "Unknown log level" in await resp.text()
    api(body)
