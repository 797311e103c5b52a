"""The Client against a tiny in-memory RPC server speaking the pynomad RPC protocol."""

import asyncio
import dataclasses
import os

import msgspec
from aiohttp import web
from client_helpers import make_alloc

from pynomad.client.client import Client
from pynomad.client.config import ClientConfig
from pynomad.client.rpc import RPCClient
from pynomad.drivers.mock import MockDriver
from pynomad.drivers.raw_exec import RawExecDriver
from pynomad.drivers.raw_exec.process import is_alive
from pynomad.structs import Allocation, Node, Task

TTL_NS = 300_000_000


def _read(path):
    with open(path) as f:
        return f.read()


class FakeServer:
    """Implements Node.Register/UpdateStatus/GetClientAllocs/UpdateAlloc and Alloc.GetAllocs."""

    def __init__(self):
        self.nodes: dict[str, Node] = {}
        self.allocs: dict[str, Allocation] = {}
        self.index = 1
        self.changed = asyncio.Condition()
        self.calls: list[str] = []
        self.runner: web.AppRunner | None = None
        self.addr = ""

    async def bump(self) -> int:
        async with self.changed:
            self.index += 1
            self.changed.notify_all()
        return self.index

    async def start(self):
        app = web.Application()
        app.router.add_post("/rpc/{method}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.addr = f"127.0.0.1:{port}"

    async def stop(self):
        await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.calls.append(method)
        args = msgspec.msgpack.decode(await request.read())
        fn = getattr(self, "rpc_" + method.replace(".", "_"), None)
        if fn is None:
            return self.reply({"Error": f"unknown method {method}"}, 404)
        try:
            return self.reply(await fn(args))
        except KeyError as e:
            return self.reply({"Error": str(e.args[0])}, 404)

    @staticmethod
    def reply(doc, status=200):
        return web.Response(body=msgspec.msgpack.encode(doc), status=status,
                            content_type="application/msgpack")

    async def rpc_Node_Register(self, args):
        node = msgspec.convert(args["Node"], Node)
        self.nodes[node.ID] = node
        return {"HeartbeatTTL": TTL_NS, "Index": await self.bump()}

    async def rpc_Node_UpdateStatus(self, args):
        if args["NodeID"] not in self.nodes:
            raise KeyError("node not found")
        self.nodes[args["NodeID"]].Status = args["Status"]
        return {"HeartbeatTTL": TTL_NS, "Index": self.index}

    async def rpc_Node_GetClientAllocs(self, args):
        if args["NodeID"] not in self.nodes:
            raise KeyError("node not found")
        timeout = args["MaxQueryTime"] / 1e9
        async with self.changed:
            try:
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: self.index > args["MinQueryIndex"]), timeout)
            except asyncio.TimeoutError:
                pass
        allocs = {a.ID: a.AllocModifyIndex for a in self.allocs.values()
                  if a.NodeID == args["NodeID"]}
        return {"Allocs": allocs, "Index": self.index}

    async def rpc_Alloc_GetAllocs(self, args):
        return {"Allocs": [self.allocs[a] for a in args["AllocIDs"] if a in self.allocs],
                "Index": self.index}

    async def rpc_Node_UpdateAlloc(self, args):
        for upd in args["Alloc"]:
            upd = msgspec.convert(upd, Allocation)
            cur = self.allocs.get(upd.ID)
            if cur is None:
                continue
            cur.ClientStatus = upd.ClientStatus
            cur.ClientDescription = upd.ClientDescription
            cur.TaskStates = upd.TaskStates
        return {"Index": await self.bump()}

    # -- test helpers ------------------------------------------------------
    async def place(self, alloc: Allocation):
        idx = self.index + 1
        alloc.CreateIndex = alloc.ModifyIndex = alloc.AllocModifyIndex = idx
        self.allocs[alloc.ID] = alloc
        await self.bump()

    async def set_desired(self, alloc_id: str, status: str):
        cur = self.allocs[alloc_id]
        new = msgspec.structs.replace(cur, DesiredStatus=status,
                                      AllocModifyIndex=self.index + 1)
        self.allocs[alloc_id] = new
        await self.bump()

    async def remove(self, alloc_id: str):
        del self.allocs[alloc_id]
        await self.bump()


async def until(pred, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.02)


def make_client(cfg: ClientConfig, server: FakeServer) -> tuple[Client, RPCClient]:
    rpc = RPCClient([server.addr])
    drivers = {"raw_exec": RawExecDriver(), "mock_driver": MockDriver()}
    return Client(cfg, rpc, drivers), rpc


def test_client_end_to_end(client_config, tmp_path):
    async def main():
        server = FakeServer()
        await server.start()
        client, rpc = make_client(client_config, server)
        try:
            await client.start()
            assert await client.wait_registered(10)
            node_id = client.node_id
            await until(lambda: server.nodes[node_id].Status == "ready")
            assert server.nodes[node_id].Attributes["driver.raw_exec"] == "1"

            # a long-running service on the mock driver
            svc = make_alloc([Task(Name="m", Driver="mock_driver", Config={"run_for": "1h"})],
                             node_id=node_id)
            await server.place(svc)
            await until(lambda: server.allocs[svc.ID].ClientStatus == "running")

            # a batch raw_exec task that completes
            batch = make_alloc([Task(Name="b", Driver="raw_exec",
                                     Config={"command": "/bin/sh",
                                             "args": ["-c", "echo hello $NOMAD_JOB_ID"]})],
                               job_type="batch", job_id="batchy", node_id=node_id)
            await server.place(batch)
            await until(lambda: server.allocs[batch.ID].ClientStatus == "complete")
            log = os.path.join(client.alloc_dir(batch.ID), "alloc", "logs", "b.stdout.0")
            assert _read(log) == "hello batchy\n"

            # the server stops the service
            await server.set_desired(svc.ID, "stop")
            await until(lambda: server.allocs[svc.ID].ClientStatus == "complete")
            evs = [e.Type for e in server.allocs[svc.ID].TaskStates["m"].Events]
            assert evs[-3:] == ["Killing", "Terminated", "Killed"]

            # the server garbage-collects the batch alloc: the client deletes its dir
            bdir = client.alloc_dir(batch.ID)
            await server.remove(batch.ID)
            await until(lambda: not os.path.exists(bdir))
            assert client.alloc_dir(batch.ID) is None

            # the server forgets the node (e.g. restarted): the client registers again
            del server.nodes[node_id]
            await until(lambda: node_id in server.nodes)
        finally:
            await client.shutdown()
            await rpc.close()
            await server.stop()
    asyncio.run(asyncio.wait_for(main(), 90))


def test_client_restart_reattaches_running_task(client_config):
    # not dev mode: a dev client destroys its allocations on shutdown
    client_config = dataclasses.replace(client_config, dev_mode=False,
                                        initial_heartbeat_stagger_s=0.0)

    async def main():
        server = FakeServer()
        await server.start()
        client, rpc = make_client(client_config, server)
        await client.start()
        await client.wait_registered(10)
        node_id = client.node_id
        alloc = make_alloc([Task(Name="s", Driver="raw_exec",
                                 Config={"command": "sleep", "args": ["100"]})], node_id=node_id)
        await server.place(alloc)
        await until(lambda: server.allocs[alloc.ID].ClientStatus == "running")
        handle = client.alloc_runner(alloc.ID).tasks["s"].handle
        pid, ctime = handle.state["task_pid"], handle.state["task_ctime"]
        await client.shutdown()
        await rpc.close()
        assert is_alive(pid, ctime)         # shutdown leaves tasks running

        client2, rpc2 = make_client(client_config, server)
        try:
            await client2.start()
            assert client2.node_id == node_id
            tr = client2.alloc_runner(alloc.ID).tasks["s"]
            await until(lambda: tr.state.State == "running" and tr.handle is not None)
            assert tr.handle.state["task_pid"] == pid
            await asyncio.sleep(0.3)
            assert [e.Type for e in tr.state.Events].count("Started") == 1
            # the server removes the alloc: the client kills the task and cleans up
            await server.remove(alloc.ID)
            await until(lambda: not is_alive(pid, ctime))
            await until(lambda: client2.alloc_dir(alloc.ID) is None)
        finally:
            await client2.shutdown()
            await rpc2.close()
            await server.stop()
    asyncio.run(asyncio.wait_for(main(), 90))
