"""/v1/vars and /v1/var/:path through the HTTP API of a real in-process server."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.server import Server, ServerConfig


def run(body, acl: bool = False):
    async def main():
        server = Server(ServerConfig(num_schedulers=1, acl_enabled=acl))
        await server.start()
        agent = SimpleNamespace(server=server, client=None, config=None)
        client = TestClient(TestServer(http_app(agent)))
        await client.start_server()
        try:
            await body(client)
        finally:
            await client.close()
            await server.stop()
    asyncio.run(main())


def test_put_get_list_delete():
    async def body(c):
        r = await c.put("/v1/var/app/db", json={"Items": {"user": "me", "pw": "x"}})
        assert r.status == 200
        v = await r.json()
        assert v["Path"] == "app/db" and v["Namespace"] == "default"
        assert v["Items"] == {"user": "me", "pw": "x"}
        assert v["CreateIndex"] == v["ModifyIndex"] == int(r.headers["X-Nomad-Index"])
        assert v["CreateTime"] > 0
        await c.put("/v1/var/app/cache?namespace=default", json={"Items": {"a": "b"}})
        await c.put("/v1/var/zz", json={"Namespace": "ignored", "Items": {"a": "b"}},
                    params={"namespace": "default"})
        r = await c.get("/v1/var/app/db")
        assert r.status == 200 and (await r.json())["Items"]["user"] == "me"
        assert (await c.get("/v1/var/app/nope")).status == 404
        assert await (await c.get("/v1/var/app/nope")).text() == "variable not found"
        listed = await (await c.get("/v1/vars?prefix=app")).json()
        assert [v["Path"] for v in listed] == ["app/cache", "app/db"]
        assert all("Items" not in v for v in listed)
        assert len(await (await c.get("/v1/vars?namespace=*")).json()) == 3
        assert await (await c.get("/v1/vars?namespace=other")).json() == []
        page = await c.get("/v1/vars?per_page=2")
        assert len(await page.json()) == 2 and page.headers["X-Nomad-NextToken"] == "zz"
        r = await c.delete("/v1/var/app/db")
        assert r.status == 200 and int(r.headers["X-Nomad-Index"]) > 0
        assert (await c.get("/v1/var/app/db")).status == 404
    run(body)


def test_check_and_set_conflicts():
    async def body(c):
        v = await (await c.put("/v1/var/x?cas=0", json={"Items": {"k": "1"}})).json()
        r = await c.put("/v1/var/x?cas=0", json={"Items": {"k": "2"}})
        assert r.status == 409
        conflict = await r.json()
        assert conflict["ModifyIndex"] == v["ModifyIndex"] and conflict["Items"] == {"k": "1"}
        r = await c.put(f"/v1/var/x?cas={v['ModifyIndex'] + 100}", json={"Items": {"k": "2"}})
        assert r.status == 409
        r = await c.put(f"/v1/var/x?cas={v['ModifyIndex']}", json={"Items": {"k": "3"}})
        assert r.status == 200 and (await r.json())["Items"] == {"k": "3"}
        r = await c.put("/v1/var/absent?cas=7", json={"Items": {"k": "1"}})
        assert r.status == 409 and (await r.json())["ModifyIndex"] == 0
        cur = await (await c.get("/v1/var/x")).json()
        r = await c.delete("/v1/var/x?cas=1")
        assert r.status == 409 and (await r.json())["ModifyIndex"] == cur["ModifyIndex"]
        r = await c.delete(f"/v1/var/x?cas={cur['ModifyIndex']}")
        assert r.status == 200
        assert (await c.get("/v1/var/x")).status == 404
        r = await c.put("/v1/var/x?cas=abc", json={"Items": {"k": "1"}})
        assert r.status == 400 and "can not parse cas" in await r.text()
    run(body)


def test_bad_input_is_400_and_changes_nothing():
    async def body(c):
        cases = {
            "/v1/var/bad%20path": ('{"Items": {"a": "b"}}', 'invalid path "bad path"'),
            "/v1/var/a.b": ('{"Items": {"a": "b"}}', 'invalid path "a.b"'),
            "/v1/var/a//b": ('{"Items": {"a": "b"}}', 'invalid path "a//b"'),
            "/v1/var/a/": ('{"Items": {"a": "b"}}', 'invalid path "a/"'),
            "/v1/var/" + "p" * 129: ('{"Items": {"a": "b"}}', "invalid path"),
            "/v1/var/nomad": ('{"Items": {"a": "b"}}', '"nomad" is a reserved top-level'),
            "/v1/var/nomad/other": ('{"Items": {"a": "b"}}', "only paths at"),
            "/v1/var/nomad/job-templates": ('{"Items": {"a": "b"}}', "reserved directory"),
            "/v1/var/ok": ('{"Items": {}}', "variable missing required Items object"),
            "/v1/var/ok2": ('{"Path": "ok2"}', "variable missing required Items object"),
            "/v1/var/ok3": ('{"Items": {"a": 1}}', "Failed to decode request body"),
            "/v1/var/ok4": ("{", "Failed to parse request body"),
            "/v1/var/big": ('{"Items": {"a": "' + "x" * 65536 + '"}}',
                            "variables are limited to 64KiB in total size"),
            "/v1/var/": ('{"Items": {"a": "b"}}', "missing variable path"),
        }
        for url, (data, message) in cases.items():
            r = await c.put(url, data=data)
            assert r.status == 400, url
            assert message in await r.text(), (url, await r.text())
        r = await c.put("/v1/var/ok?namespace=*", json={"Items": {"a": "b"}})
        assert r.status == 400
        for ok in ("nomad/jobs", "nomad/jobs/web/g/t", "nomad/job-templates/x", "a-b_c~d/e"):
            assert (await c.put(f"/v1/var/{ok}", json={"Items": {"a": "b"}})).status == 200
        assert len(await (await c.get("/v1/vars")).json()) == 4
    run(body)


def test_acl_variables_capabilities():
    policy = """
namespace "default" {
  variables {
    path "app/*" { capabilities = ["write", "read", "destroy"] }
    path "ro/*" { capabilities = ["list"] }
  }
}
"""

    async def body(c):
        root = await (await c.post("/v1/acl/bootstrap")).json()
        m = {"X-Nomad-Token": root["SecretID"]}
        assert (await c.put("/v1/var/ro/x", json={"Items": {"a": "b"}}, headers=m)).status == 200
        assert (await c.put("/v1/var/other", json={"Items": {"a": "b"}}, headers=m)).status == 200
        r = await c.post("/v1/acl/policy/vars", json={"Name": "vars", "Rules": policy},
                         headers=m)
        assert r.status == 200
        tok = await (await c.post("/v1/acl/token", json={"Type": "client", "Policies": ["vars"]},
                                  headers=m)).json()
        h = {"X-Nomad-Token": tok["SecretID"]}
        assert (await c.get("/v1/vars")).status == 403            # anonymous
        assert (await c.put("/v1/var/app/a", json={"Items": {"a": "b"}}, headers=h)).status == 200
        assert (await c.get("/v1/var/app/a", headers=h)).status == 200
        assert (await c.get("/v1/var/ro/x", headers=h)).status == 403
        assert (await c.put("/v1/var/ro/y", json={"Items": {"a": "b"}}, headers=h)).status == 403
        assert (await c.delete("/v1/var/ro/x", headers=h)).status == 403
        listed = await (await c.get("/v1/vars", headers=h)).json()
        assert [v["Path"] for v in listed] == ["app/a", "ro/x"]
        assert (await c.get("/v1/vars?namespace=prod", headers=h)).status == 403
        assert (await c.delete("/v1/var/app/a", headers=h)).status == 200
    run(body, acl=True)
