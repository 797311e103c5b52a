"""Namespaces and ACL endpoints, and ACL enforcement, through the /v1 HTTP API of a real
in-process server (no client)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.server import Server, ServerConfig

JOB = {"ID": "web", "Name": "web", "Type": "batch", "Datacenters": ["dc1"],
       "TaskGroups": [{"Name": "g", "Count": 1, "Tasks": [
           {"Name": "t", "Driver": "mock_driver", "Config": {"run_for": "1s"}}]}]}


def run(body, acl: bool = True):
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


def hdr(secret: str) -> dict:
    return {"X-Nomad-Token": secret}


def test_namespaces_crud_without_acl():
    async def body(c):
        r = await c.get("/v1/namespaces")
        assert [n["Name"] for n in await r.json()] == ["default"]
        r = await c.put("/v1/namespace/dev", json={"Name": "dev", "Description": "d",
                                                   "Meta": {"a": "b"}})
        assert r.status == 200 and int(r.headers["X-Nomad-Index"]) > 0
        r = await c.put("/v1/namespace/dev", json={"Name": "other"})
        assert r.status == 400
        r = await c.post("/v1/namespace", json={"Name": "bad name"})
        assert r.status == 400 and "invalid name" in await r.text()
        ns = await (await c.get("/v1/namespace/dev")).json()
        assert ns["Description"] == "d" and ns["Meta"] == {"a": "b"}
        assert (await c.get("/v1/namespace/nope")).status == 404
        # registering into a missing namespace
        job = dict(JOB, Namespace="nope")
        r = await c.post("/v1/jobs", json={"Job": job})
        assert r.status == 400
        assert await r.text() == 'job "web" is in nonexistent namespace "nope"'
        r = await c.post("/v1/jobs", json={"Job": dict(JOB, Namespace="dev")})
        assert r.status == 200
        r = await c.delete("/v1/namespace/dev")
        assert r.status == 400 and "non-terminal job \"web\"" in await r.text()
        r = await c.delete("/v1/namespace/default")
        assert r.status == 400 and await r.text() == "default namespace can not be deleted"
        # ACL endpoints say ACLs are off
        r = await c.post("/v1/acl/bootstrap")
        assert r.status == 400 and await r.text() == "ACL support disabled"
    run(body, acl=False)


def test_bootstrap_tokens_policies_and_enforcement():
    async def body(c):
        assert (await c.get("/v1/nodes")).status == 403          # anonymous: nothing
        assert (await c.get("/v1/jobs")).status == 403            # as Nomad: no list-jobs
        r = await c.post("/v1/acl/bootstrap")
        assert r.status == 200
        root = await r.json()
        assert root["Type"] == "management" and root["Name"] == "Bootstrap Token"
        r = await c.post("/v1/acl/bootstrap")
        assert r.status == 400 and "ACL bootstrap already done" in await r.text()
        m = hdr(root["SecretID"])
        assert (await c.put("/v1/namespace/prod", json={"Name": "prod"}, headers=m)).status == 200
        for ns in ("default", "prod"):
            r = await c.post("/v1/jobs", json={"Job": dict(JOB, Namespace=ns)}, headers=m)
            assert r.status == 200, await r.text()
        rules = 'namespace "prod" { policy = "read" }'
        r = await c.post("/v1/acl/policy/prod-ro", json={"Name": "prod-ro", "Rules": rules},
                         headers=m)
        assert r.status == 200
        r = await c.post("/v1/acl/policy/bad", json={"Rules": 'node { policy = "x" }'},
                         headers=m)
        assert r.status == 400 and "Invalid node policy" in await r.text()
        r = await c.post("/v1/acl/token", json={"Name": "ro", "Type": "client",
                                                 "Policies": ["prod-ro"]}, headers=m)
        assert r.status == 200
        ro_token = await r.json()
        r = await c.post("/v1/acl/token", json={"Type": "client", "Policies": ["missing"]},
                         headers=m)
        assert r.status == 400
        ro = hdr(ro_token["SecretID"])
        # reads in prod, nothing elsewhere, no writes
        r = await c.get("/v1/job/web?namespace=prod", headers=ro)
        assert r.status == 200
        assert (await c.get("/v1/job/web?namespace=default", headers=ro)).status == 403
        assert [j["Namespace"] for j in await (await c.get(
            "/v1/jobs?namespace=*", headers=ro)).json()] == ["prod"]
        assert (await c.get("/v1/jobs", headers=ro)).status == 403
        r = await c.post("/v1/jobs", json={"Job": dict(JOB, Namespace="prod")}, headers=ro)
        assert r.status == 403 and await r.text() == "Permission denied"
        assert (await c.get("/v1/nodes", headers=ro)).status == 403
        assert (await c.get("/v1/acl/tokens", headers=ro)).status == 403
        assert [n["Name"] for n in await (await c.get("/v1/namespaces", headers=ro)).json()] \
            == ["prod"]
        me = await (await c.get("/v1/acl/token/self", headers=ro)).json()
        assert me["AccessorID"] == ro_token["AccessorID"]
        pols = await (await c.get("/v1/acl/policies", headers=ro)).json()
        assert [p["Name"] for p in pols] == ["prod-ro"]
        r = await c.get("/v1/jobs", headers=hdr("00000000-0000-0000-0000-000000000000"))
        assert r.status == 403 and await r.text() == "ACL token not found"
        # ?token= works too; the anonymous policy applies to requests without a token
        assert (await c.get(f"/v1/job/web?namespace=prod&token={ro_token['SecretID']}")).status == 200
        await c.post("/v1/acl/policy/anonymous", headers=m, json={
            "Rules": 'namespace "default" { policy = "read" }'})
        assert (await c.get("/v1/job/web")).status == 200
        # tokens: list, update, delete
        toks = await (await c.get("/v1/acl/tokens", headers=m)).json()
        assert {t["Name"] for t in toks} == {"Bootstrap Token", "ro"}
        assert all("SecretID" not in t for t in toks)
        acc = ro_token["AccessorID"]
        r = await c.post(f"/v1/acl/token/{acc}", headers=m, json={
            "AccessorID": acc, "Name": "renamed", "Type": "client", "Policies": ["prod-ro"]})
        upd = await r.json()
        assert upd["Name"] == "renamed" and upd["SecretID"] == ro_token["SecretID"]
        assert (await c.delete(f"/v1/acl/token/{acc}", headers=m)).status == 200
        assert (await c.get("/v1/job/web?namespace=prod", headers=ro)).status == 403
        assert (await c.delete("/v1/acl/policy/prod-ro", headers=m)).status == 200
        assert (await c.get("/v1/acl/policy/prod-ro", headers=m)).status == 404
    run(body)
