"""Native service discovery through a real in-process server: the client RPC
(ServiceRegistration.Upsert/DeleteByAllocID/List) and /v1/services, /v1/service/:name."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import msgspec
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.server import Server, ServerConfig
from pynomad.server.rpc import rpc_app
from pynomad.structs import Allocation, Job, Node, Task, TaskGroup


def reg(alloc, name="web", tags=(), port=8080, node="n1"):
    return {"ID": f"_nomad-task-{alloc}-group-{name}-http", "ServiceName": name,
            "NodeID": node, "Datacenter": "dc1", "JobID": "j", "AllocID": alloc,
            "Tags": list(tags), "Address": "127.0.0.1", "Port": port}


def run(body):
    async def main():
        server = Server(ServerConfig(num_schedulers=1))
        await server.start()
        st = server.state
        st.nodes["n1"] = Node(ID="n1", SecretID="sec")
        st.nodes["n2"] = Node(ID="n2", SecretID="sec2")
        job = Job(ID="j", Namespace="default",
                  TaskGroups=[TaskGroup(Name="g", Tasks=[Task(Name="t")])])
        for alloc_id in ("a1", "a2"):
            st.put_alloc(Allocation(ID=alloc_id, NodeID="n1", JobID="j", Namespace="default",
                                    TaskGroup="g", Job=job))
        http = TestClient(TestServer(http_app(SimpleNamespace(server=server, client=None,
                                                              config=None))))
        rpc = TestClient(TestServer(rpc_app(server)))
        await http.start_server()
        await rpc.start_server()

        async def call(method, **args):
            r = await rpc.post(f"/rpc/{method}", data=msgspec.msgpack.encode(args))
            return r.status, msgspec.msgpack.decode(await r.read())
        try:
            await body(http, call)
        finally:
            await http.close()
            await rpc.close()
            await server.stop()
    asyncio.run(main())


def test_register_list_info_delete():
    async def body(c, call):
        status, out = await call("ServiceRegistration.Upsert", NodeSecretID="sec",
                                 Services=[reg("a1", tags=["v1"]), reg("a2", port=9090),
                                           reg("a1", name="api", tags=["x", "y"])])
        assert status == 200 and out["Index"] > 0
        r = await c.get("/v1/services")
        assert r.status == 200 and int(r.headers["X-Nomad-Index"]) == out["Index"]
        assert await r.json() == [{"Namespace": "default", "Services": [
            {"ServiceName": "api", "Tags": ["x", "y"]},
            {"ServiceName": "web", "Tags": ["v1"]}]}]
        assert await (await c.get("/v1/services?namespace=other")).json() == []
        regs = await (await c.get("/v1/service/web")).json()
        assert [(x["AllocID"], x["Address"], x["Port"]) for x in regs] == [
            ("a1", "127.0.0.1", 8080), ("a2", "127.0.0.1", 9090)]
        assert regs[0]["Namespace"] == "default" and regs[0]["CreateIndex"] == out["Index"]
        assert [x["AllocID"] for x in await (await c.get("/v1/service/web?tag=v1")).json()] \
            == ["a1"]
        assert await (await c.get("/v1/service/nope")).json() == []
        status, found = await call("ServiceRegistration.List", AllocID="a2", ServiceName="web",
                                   NodeSecretID="sec")
        assert status == 200 and [x["Port"] for x in found["Services"]] == [8080, 9090]
        status, found = await call("ServiceRegistration.List", AllocID="a2",
                                   NodeSecretID="sec")
        assert [x["ServiceName"] for x in found["Services"]] == ["api", "web"]
        r = await c.delete(f"/v1/service/web/{regs[1]['ID']}")
        assert r.status == 200
        assert len(await (await c.get("/v1/service/web")).json()) == 1
        assert (await c.delete(f"/v1/service/web/{regs[1]['ID']}")).status == 404
        status, _ = await call("ServiceRegistration.DeleteByAllocID", AllocID="a1",
                               NodeSecretID="sec")
        assert status == 200
        assert await (await c.get("/v1/services")).json() == []
    run(body)


def test_writes_need_the_allocs_node_secret():
    async def body(c, call):
        status, _ = await call("ServiceRegistration.Upsert", NodeSecretID="sec2",
                               Services=[reg("a1")])
        assert status == 403
        status, _ = await call("ServiceRegistration.Upsert", Services=[reg("a1")])
        assert status == 403
        status, _ = await call("ServiceRegistration.Upsert", NodeSecretID="sec2",
                               Services=[reg("a1", node="n2")])
        assert status == 400                 # the alloc is not on n2
        status, _ = await call("ServiceRegistration.Upsert", NodeSecretID="sec", Services=[])
        assert status == 400
        await call("ServiceRegistration.Upsert", NodeSecretID="sec", Services=[reg("a1")])
        status, _ = await call("ServiceRegistration.DeleteByAllocID", AllocID="a1",
                               NodeSecretID="sec2")
        assert status == 403
        status, _ = await call("ServiceRegistration.List", AllocID="a1", ServiceName="web",
                               NodeSecretID="bad")
        assert status == 403
        assert len(await (await c.get("/v1/service/web")).json()) == 1
    run(body)
