"""ACL findings: /v1/search contexts, raft configuration, `Authorization: Bearer`, policies
with comments or empty rules, through the /v1 API of a real in-process server."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.server import Server, ServerConfig
from pynomad.structs import Node

NODE = "abcd9999-0000-4000-8000-000000000009"
JOB = {"ID": "web", "Name": "web", "Type": "batch", "Datacenters": ["dc1"],
       "TaskGroups": [{"Name": "g", "Count": 1, "Tasks": [
           {"Name": "t", "Driver": "mock_driver", "Config": {"run_for": "1s"}}]}]}


def run(body):
    async def main():
        server = Server(ServerConfig(num_schedulers=0, acl_enabled=True))
        await server.start()
        agent = SimpleNamespace(server=server, client=None, config=None)
        client = TestClient(TestServer(http_app(agent)))
        await client.start_server()
        try:
            root = (await (await client.post("/v1/acl/bootstrap")).json())["SecretID"]
            server.state.nodes[NODE] = Node(ID=NODE, Name="n1", NodePool="default")
            m = {"X-Nomad-Token": root}
            for ns in ("prod", "secret-team"):
                r = await client.put(f"/v1/namespace/{ns}", json={"Name": ns}, headers=m)
                assert r.status == 200
            r = await client.post("/v1/jobs", json={"Job": dict(JOB, Namespace="prod")},
                                  headers=m)
            assert r.status == 200
            await body(client, m)
        finally:
            await client.close()
            await server.stop()
    asyncio.run(main())


async def token_for(client, m, name: str, rules: str) -> dict:
    r = await client.post(f"/v1/acl/policy/{name}", json={"Name": name, "Rules": rules},
                          headers=m)
    assert r.status == 200, await r.text()
    r = await client.post("/v1/acl/token", json={"Type": "client", "Policies": [name]},
                          headers=m)
    return {"X-Nomad-Token": (await r.json())["SecretID"]}


async def search(client, headers, context, prefix="", namespace="prod"):
    r = await client.put(f"/v1/search?namespace={namespace}", headers=headers,
                         data=json.dumps({"Prefix": prefix, "Context": context}))
    return r.status, (await r.json() if r.status == 200 else await r.text())


def test_search_respects_each_contexts_acl():
    async def body(client, m):
        prod = await token_for(client, m, "prod-read", 'namespace "prod" { policy = "read" }')
        # nodes: needs node:read — by name a 403, in "all" left out
        status, _ = await search(client, prod, "nodes", "ab")
        assert status == 403
        status, out = await search(client, prod, "all", "ab")
        assert status == 200 and "nodes" not in out["Matches"]
        assert "node_pools" not in out["Matches"]
        status, out = await search(client, prod, "all", "we")
        assert out["Matches"]["jobs"] == ["web"]
        # namespaces: only those the token may see
        status, out = await search(client, prod, "namespaces", "")
        assert out["Matches"]["namespaces"] == ["prod"]
        status, out = await search(client, prod, "all", "")
        assert out["Matches"].get("namespaces") == ["prod"]
        # a namespace the token has nothing in: denied
        status, _ = await search(client, prod, "jobs", "", namespace="secret-team")
        assert status == 403
        status, _ = await search(client, prod, "namespaces", "", namespace="secret-team")
        assert status == 403
        # with node:read the node appears; management sees everything
        nodes = await token_for(client, m, "nodes", 'node { policy = "read" }')
        status, out = await search(client, nodes, "nodes", "ab")
        assert status == 200 and out["Matches"]["nodes"] == [NODE]
        status, out = await search(client, m, "namespaces", "")
        assert out["Matches"]["namespaces"] == ["default", "prod", "secret-team"]
        # anonymous: nothing
        assert (await search(client, {}, "nodes", "ab"))[0] == 403
        status, out = await search(client, {}, "all", "ab")
        assert status == 200 and out["Matches"] == {}
    run(body)


def test_search_node_pools_need_a_node_pool_rule():
    async def body(client, m):
        pools = await token_for(client, m, "pools", 'node_pool "default" { policy = "read" }')
        status, out = await search(client, pools, "node_pools", "")
        assert status == 200 and out["Matches"]["node_pools"] == ["default"]
        prod = await token_for(client, m, "prod-read", 'namespace "prod" { policy = "read" }')
        assert (await search(client, prod, "node_pools", ""))[0] == 403
    run(body)


def test_raft_configuration_needs_management():
    async def body(client, m):
        op = await token_for(client, m, "op", 'operator { policy = "write" }')
        r = await client.get("/v1/operator/raft/configuration", headers=op)
        assert r.status == 403
        r = await client.get("/v1/operator/scheduler/configuration", headers=op)
        assert r.status == 200
        r = await client.get("/v1/operator/raft/configuration", headers=m)
        assert r.status == 200
    run(body)


def test_authorization_bearer_carries_the_token():
    async def body(client, m):
        secret = m["X-Nomad-Token"]
        r = await client.get("/v1/nodes", headers={"Authorization": f"Bearer {secret}"})
        assert r.status == 200
        r = await client.get("/v1/nodes", headers={"Authorization": f"bearer  {secret} "})
        assert r.status == 200
        r = await client.get("/v1/nodes", headers={"Authorization": f"Basic {secret}"})
        assert r.status == 403
        r = await client.get("/v1/nodes", headers={"Authorization": "Bearer nope"})
        assert r.status == 403 and await r.text() == "ACL token not found"
    run(body)


def test_policies_with_comments_and_empty_rules_are_accepted():
    async def body(client, m):
        rules = ('# the notes\' policy\nnamespace "prod" {\n  # read only\n'
                 '  policy = "read" # here too\n}\n')
        tok = await token_for(client, m, "commented", rules)
        assert (await client.get("/v1/job/web?namespace=prod", headers=tok)).status == 200
        empty = await token_for(client, m, "empty", "")
        assert (await client.get("/v1/job/web?namespace=prod", headers=empty)).status == 403
        r = await client.get("/v1/acl/policy/empty", headers=m)
        assert (await r.json())["Rules"] == ""
    run(body)


def test_deep_job_body_with_acls_is_a_400_not_a_500():
    async def body(client, m):
        raw = '{"Job": {"ID": "x", "Meta": ' + "[" * 100_000 + "]" * 100_000 + "}}"
        r = await client.put("/v1/jobs", data=raw, headers=m)
        assert r.status == 400 and "nested" in await r.text()
    run(body)
