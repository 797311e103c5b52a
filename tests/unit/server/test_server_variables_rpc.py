"""Variables.Read / Variables.List over the server RPC: a task's implicit access only."""

from __future__ import annotations

import asyncio

import msgspec
from aiohttp.test_utils import TestClient, TestServer

from pynomad.server import Server, ServerConfig
from pynomad.server.rpc import rpc_app
from pynomad.server.variables_endpoint import encrypt_variable
from pynomad.structs.variables import Variable
from pynomad.structs import Allocation, Job, Node, Task, TaskGroup


def test_task_reads_only_its_own_paths():
    async def main():
        server = Server(ServerConfig(num_schedulers=1))
        await server.start()
        st = server.state
        st.nodes["n1"] = Node(ID="n1", SecretID="sec")
        job = Job(ID="web", Namespace="default",
                  TaskGroups=[TaskGroup(Name="g", Tasks=[Task(Name="t")])])
        st.put_alloc(Allocation(ID="a1", NodeID="n1", JobID="web", Namespace="default",
                                TaskGroup="g", Job=job))
        for path in ("nomad/jobs", "nomad/jobs/web", "nomad/jobs/web/g/t", "nomad/jobs/other",
                     "shared/x"):
            st.variables[("default", path)] = encrypt_variable(
                server, Variable(Namespace="default", Path=path, Items={"k": path}))
        client = TestClient(TestServer(rpc_app(server)))
        await client.start_server()

        async def call(method, **args):
            r = await client.post(f"/rpc/{method}", data=msgspec.msgpack.encode(args))
            return r.status, msgspec.msgpack.decode(await r.read())
        try:
            status, body = await call("Variables.Read", AllocID="a1", Task="t",
                                      Path="nomad/jobs/web", NodeSecretID="sec")
            assert status == 200 and body["Data"]["Items"] == {"k": "nomad/jobs/web"}
            for denied in ("nomad/jobs/other", "shared/x", "nomad/jobs/web/g"):
                status, body = await call("Variables.Read", AllocID="a1", Task="t", Path=denied)
                assert status == 200 and body["Data"] is None
            status, body = await call("Variables.List", AllocID="a1", Task="t",
                                      Prefix="nomad/jobs")
            assert [v["Path"] for v in body["Data"]] == [
                "nomad/jobs", "nomad/jobs/web", "nomad/jobs/web/g/t"]
            assert "Items" not in body["Data"][0]
            status, _ = await call("Variables.Read", AllocID="nope", Task="t", Path="x")
            assert status == 404
            status, _ = await call("Variables.Read", AllocID="a1", Task="zz", Path="x")
            assert status == 404
            status, _ = await call("Variables.Read", AllocID="a1", Task="t", Path="x",
                                   NodeSecretID="wrong")
            assert status == 400
        finally:
            await client.close()
            await server.stop()
    asyncio.run(main())
