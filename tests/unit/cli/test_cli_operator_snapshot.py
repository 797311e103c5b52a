"""``nomad operator snapshot save|restore|inspect`` and ``nomad operator raft list-peers``
against a real in-process server's HTTP API."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest
from aiohttp import web

from pynomad.http.app import http_app
from pynomad.server import Server, ServerConfig
from pynomad.structs import Job, Resources, Task, TaskGroup


@pytest.fixture
def nomad(monkeypatch):
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box = {}

    async def start():
        server = Server(ServerConfig(num_schedulers=1, node_name="srv1.global"))
        await server.start()
        runner = web.AppRunner(http_app(SimpleNamespace(server=server, client=None,
                                                        config=None)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        box.update(server=server, runner=runner,
                   port=site._server.sockets[0].getsockname()[1])

    def main():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    started.wait(30)
    box["call"] = lambda coro: asyncio.run_coroutine_threadsafe(coro, loop).result(30)
    monkeypatch.setenv("NOMAD_ADDR", f"http://127.0.0.1:{box['port']}")
    yield box

    async def stop():
        await box["runner"].cleanup()
        await box["server"].stop()
    asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def _job() -> Job:
    task = Task(Name="t", Driver="raw_exec", Config={"command": "sleep"},
                Resources=Resources(CPU=100, MemoryMB=64))
    return Job(ID="web", Type="service", Datacenters=["dc1"],
               TaskGroups=[TaskGroup(Name="g", Count=1, Tasks=[task])])


def test_save_inspect_restore(nomad, run_cli, tmp_path):
    server = nomad["server"]
    nomad["call"](server.jobs.register(_job()))
    path = tmp_path / "backup.snap"
    code, out, err = run_cli("operator", "snapshot", "save", str(path))
    assert (code, out, err) == (0, f"State file written to {path}\n", "")

    code, out, err = run_cli("operator", "snapshot", "inspect", str(path))
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[:5]] == ["ID", "Size", "Index", "Term", "Version"]
    assert lines[3].split() == ["Term", "1"] and lines[4].split() == ["Version", "1"]
    assert "Jobs" in out and lines[2].split()[1] == lines[0].split()[1].split("-")[1]

    nomad["call"](server.jobs.deregister("default", "web", purge=True))
    assert server.state.job_by_id("default", "web") is None
    code, out, err = run_cli("operator", "snapshot", "restore", str(path))
    assert (code, out, err) == (0, "Snapshot Restored\n", "")
    assert server.state.job_by_id("default", "web") is not None


def test_corrupt_and_missing_files(nomad, run_cli, tmp_path):
    bad = tmp_path / "bad.snap"
    bad.write_bytes(b"garbage")
    code, out, err = run_cli("operator", "snapshot", "restore", str(bad))
    assert code == 1 and out == ""
    assert err.startswith("Error restoring snapshot: Unexpected response code: 400 "
                          "(failed to read snapshot: not a gzip archive")
    code, _, err = run_cli("operator", "snapshot", "inspect", str(bad))
    assert code == 1 and err.startswith("Error verifying snapshot: failed to read snapshot")
    code, _, err = run_cli("operator", "snapshot", "restore", str(tmp_path / "none.snap"))
    assert code == 1 and err.startswith("Error opening snapshot file")
    code, _, err = run_cli("operator", "snapshot", "restore")
    assert code == 1 and "This command takes one argument: <file>" in err


def test_raft_list_peers(nomad, run_cli):
    code, out, err = run_cli("operator", "raft", "list-peers")
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split() == ["Node", "ID", "Address", "State", "Voter", "RaftProtocol"]
    assert row.split() == ["srv1.global", "127.0.0.1:4647", "127.0.0.1:4647", "leader",
                           "true", "3"]
