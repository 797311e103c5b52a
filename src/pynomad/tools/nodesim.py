"""nodesim: many simulated client nodes in one process, against a running server.

    nomad-nodesim -server 127.0.0.1:4647 -nodes 5000 [-datacenters dc1,dc2] [-racks 25]
                  [-node-class sim] [-cpu 10000] [-memory 10000] [-disk 1000000]
                  [-work-dir DIR] [-name-prefix nodesim] [-alloc-runner sim|real]

Every node has a fixed size, `meta.rack` and `meta.nodesim.index`, and speaks the real RPC
protocol. With `-alloc-runner sim` (the default, like Nomad's nodesim) a node is a light
`SimNode` that runs allocations without processes or directories; with `real` it is a full
`Client` with the `mock` driver and its own state and alloc directories under the work
dir. Runs until interrupted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import sys
import tempfile

from ..cli.flags import FlagError, parse
from ..client.client import Client
from ..client.config import ClientConfig
from ..client.fingerprint import detect_host
from ..client.rpc import RPCClient
from ..drivers.mock import MockDriver

FLAGS = {"server": "str", "nodes": "int", "datacenters": "str", "racks": "int",
         "node-class": "str", "cpu": "int", "memory": "int", "disk": "int", "work-dir": "str",
         "name-prefix": "str", "start-batch": "int", "log-level": "str", "alloc-runner": "str"}
DEFAULTS = {"server": "127.0.0.1:4647", "nodes": 10, "datacenters": "dc1", "racks": 25,
            "cpu": 10_000, "memory": 10_000, "disk": 1_000_000, "name-prefix": "nodesim",
            "start-batch": 250, "log-level": "WARNING", "alloc-runner": "sim"}


def node_config(opts: dict, i: int, work_dir: str) -> ClientConfig:
    dcs = [d for d in opts["datacenters"].split(",") if d]
    return ClientConfig(
        data_dir=os.path.join(work_dir, f"node-{i}"), servers=[opts["server"]],
        name=f"{opts['name-prefix']}-{i}", datacenter=dcs[i % len(dcs)],
        node_class=opts["node-class"],
        meta={"rack": f"r{i % max(opts['racks'], 1)}", "nodesim.index": str(i)},
        cpu_total_compute=opts["cpu"], memory_total_mb=opts["memory"],
        disk_total_mb=opts["disk"], network_address="127.0.0.1", state_fsync=False,
        initial_heartbeat_stagger_s=0.0)


def mock_drivers() -> dict:
    return {"mock_driver": MockDriver(), "mock": MockDriver(name="mock")}


async def run_sim(opts: dict) -> int:
    """The `sim` alloc runner: light SimNodes, thousands per process."""
    from .simnode import SimNode, Syncer, sim_node

    rpc = RPCClient([opts["server"]], timeout_s=60.0)
    syncer = Syncer(rpc)
    dcs = [d for d in opts["datacenters"].split(",") if d]
    stop = _stop_event()
    tasks = [asyncio.ensure_future(syncer.run())]
    nodes = []
    for i in range(opts["nodes"]):
        node = sim_node(f"{opts['name-prefix']}-{i}", dcs[i % len(dcs)], opts["node-class"],
                        {"rack": f"r{i % max(opts['racks'], 1)}", "nodesim.index": str(i)},
                        opts["cpu"], opts["memory"], opts["disk"])
        nodes.append(SimNode(node, rpc, syncer))
    for start in range(0, len(nodes), opts["start-batch"]):
        batch = nodes[start:start + opts["start-batch"]]
        await asyncio.gather(*(n.register() for n in batch))
        for n in batch:
            tasks += [asyncio.ensure_future(n.heartbeat_loop()),
                      asyncio.ensure_future(n.watch_loop())]
        print(f"nodesim: {start + len(batch)} nodes registered", flush=True)
    print(f"nodesim: running {len(nodes)} nodes against {opts['server']}", flush=True)
    await stop.wait()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await rpc.close()
    return 0


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run(opts: dict) -> int:
    """The `real` alloc runner: a full Client with the mock driver per node."""
    work_dir = opts["work-dir"] or tempfile.mkdtemp(prefix="nodesim-")
    facts = await asyncio.to_thread(detect_host, work_dir)
    rpc = RPCClient([opts["server"]], timeout_s=60.0)
    clients: list[Client] = []
    stop = _stop_event()
    for start in range(0, opts["nodes"], opts["start-batch"]):
        batch = []
        for i in range(start, min(start + opts["start-batch"], opts["nodes"])):
            cfg = node_config(opts, i, work_dir)
            client = Client(cfg, rpc, mock_drivers(),
                            host_facts=dataclasses.replace(facts, hostname=cfg.name))
            batch.append(client)
        await asyncio.gather(*(c.start() for c in batch))
        await asyncio.gather(*(c.wait_registered(120) for c in batch))
        clients += batch
        print(f"nodesim: {len(clients)} nodes registered", flush=True)
        if stop.is_set():
            break
    print(f"nodesim: running {len(clients)} nodes against {opts['server']}", flush=True)
    await stop.wait()
    await asyncio.gather(*(c.shutdown() for c in clients), return_exceptions=True)
    await rpc.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        opts, rest = parse(list(sys.argv[1:] if argv is None else argv), FLAGS, DEFAULTS)
    except FlagError as err:
        sys.stderr.write(f"Error: {err}\n{__doc__}")
        return 1
    if rest:
        sys.stderr.write(f"Error: unexpected arguments {rest}\n")
        return 1
    logging.basicConfig(level=getattr(logging, opts["log-level"].upper(), logging.WARNING))
    if opts["alloc-runner"] not in ("sim", "real"):
        sys.stderr.write("Error: -alloc-runner must be sim or real\n")
        return 1
    return asyncio.run(run_sim(opts) if opts["alloc-runner"] == "sim" else run(opts))


if __name__ == "__main__":
    sys.exit(main())
