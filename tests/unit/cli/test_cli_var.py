"""``nomad var`` commands against a real in-process server's HTTP API."""

from __future__ import annotations

import asyncio
import json
import threading
from types import SimpleNamespace

import pytest
from aiohttp import web

from pynomad.http.app import http_app
from pynomad.server import Server, ServerConfig


@pytest.fixture
def nomad(monkeypatch):
    loop = asyncio.new_event_loop()
    started = threading.Event()
    box = {}

    async def start():
        server = Server(ServerConfig(num_schedulers=1))
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
    monkeypatch.setenv("NOMAD_ADDR", f"http://127.0.0.1:{box['port']}")
    yield box

    async def stop():
        await box["runner"].cleanup()
        await box["server"].stop()
    asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_put_get_list_purge(nomad, run_cli):
    code, out, err = run_cli("var", "put", "-out=none", "secret/creds", "passcode=abc", "user=me")
    assert code == 0, err
    assert out.startswith('Created variable "secret/creds" with modify index ')
    code, out, err = run_cli("var", "get", "-item=passcode", "secret/creds")
    assert (code, out) == (0, "abc")
    code, out, _ = run_cli("var", "get", "-out=json", "secret/creds")
    var = json.loads(out)
    assert var["Items"] == {"passcode": "abc", "user": "me"}
    assert list(var) == ["Namespace", "Path", "CreateIndex", "ModifyIndex", "CreateTime",
                         "ModifyTime", "Items"]
    code, out, _ = run_cli("var", "get", "-out=table", "secret/creds")
    lines = out.splitlines()
    assert lines[0] == "Namespace   = default" and lines[1] == "Path        = secret/creds"
    assert lines[2].startswith("Create Time = ")
    assert lines[3] == f"Check Index = {var['ModifyIndex']}"
    assert lines[5:] == ["Items", "passcode = abc", "user     = me"]
    code, out, _ = run_cli("var", "get", "-out=hcl", "secret/creds")
    assert 'path         = "secret/creds"' in out and 'passcode = "abc"' in out
    # without -force or -check-index an existing variable is a CAS conflict
    code, out, err = run_cli("var", "put", "secret/creds", "passcode=new")
    assert code == 1 and "Check-and-Set conflict" in err
    assert f"-check-index={var['ModifyIndex']}" in err.replace("\n    ", " ")
    code, out, err = run_cli("var", "put", "-out=json",
                             f"-check-index={var['ModifyIndex']}", "secret/creds", "k=v")
    assert code == 0 and json.loads(out)["Items"] == {"k": "v"}
    assert run_cli("var", "put", "-force", "-out=none", "secret/creds", "k=w")[0] == 0
    run_cli("var", "put", "-out=none", "other/x", "a=b")
    code, out, _ = run_cli("var", "list", "-out=table")
    rows = out.splitlines()
    assert rows[0].split() == ["Namespace", "Path", "Last", "Updated"]
    assert [r.split()[1] for r in rows[1:]] == ["other/x", "secret/creds"]
    code, out, _ = run_cli("var", "list", "-json", "sec")
    assert [v["Path"] for v in json.loads(out)] == ["secret/creds"]
    code, out, _ = run_cli("var", "list", "-out=terse")
    assert out.splitlines() == ["other/x", "secret/creds"]
    assert run_cli("var", "list", "-out=table", "zzz")[1] == "No matching variables found\n"
    code, out, err = run_cli("var", "purge", "-check-index=1", "secret/creds")
    assert code == 1 and "Check-and-Set conflict" in err
    code, out, _ = run_cli("var", "purge", "secret/creds")
    assert (code, out) == (0, 'Successfully purged variable "secret/creds"!\n')
    code, out, err = run_cli("var", "get", "secret/creds")
    assert code == 1 and "Variable not found" in err
    code, out, err = run_cli("var", "get", "-item=nope", "other/x")
    assert code == 1 and 'Variable does not contain "nope" item' in err


def test_put_errors_and_specs(nomad, run_cli, tmp_path, monkeypatch):
    code, _, err = run_cli("var", "put", "-out=none", "bad.path", "a=b")
    assert code == 1 and 'invalid path \\"bad.path\\"' in err or 'invalid path "bad.path"' in err
    code, _, err = run_cli("var", "put", "-out=none", "nokeys")
    assert code == 1 and "Items" in err
    monkeypatch.chdir(tmp_path)
    assert run_cli("var", "init") == (0, "Example variable specification written to "
                                         "spec.nv.hcl\n", "")
    assert run_cli("var", "init")[0] == 1
    assert run_cli("var", "init", "-out=json")[0] == 0
    code, out, err = run_cli("var", "put", "-out=json", "from/hcl", "@spec.nv.hcl", "key3=x")
    assert code == 0, err
    assert json.loads(out)["Items"] == {"key1": "value 1", "key2": "value 2", "key3": "x"}
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"Path": "from/json", "Items": {"a": "b"}}))
    code, out, err = run_cli("var", "put", "-out=json", f"@{spec}")
    assert code == 0 and json.loads(out)["Path"] == "from/json"
    (tmp_path / "val.txt").write_text("file-value")
    code, out, err = run_cli("var", "put", "-out=json", "from/file", "v=@val.txt")
    assert json.loads(out)["Items"] == {"v": "file-value"}
