"""In-process scheduler matrix (Nomad's BenchmarkServiceScheduler shape): one service
evaluation, eval → plan, no commit, no I/O.

    .venv/bin/python bench/scheduler_matrix.py [--count 300] [--json]

Clusters of 500/1,000/5,000/10,000 nodes over 25/50/75 racks (meta.rack), datacenters
dc-1 and dc-2, a job of --count allocations with and without `spread` on ${meta.rack};
reports milliseconds per evaluation (median of 3) and placements per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from pynomad.scheduler import new_scheduler
from pynomad.state import StateStore
from pynomad.state import entries as e
from pynomad.state.fsm import FSM
from pynomad.structs import (DriverInfo, Evaluation, Job, Node, NodeCpuResources,
                             NodeDiskResources, NodeMemoryResources, NodeResources, Resources,
                             Spread, Task, TaskGroup, canonicalize, generate_uuid)


def cluster(nodes: int, racks: int) -> StateStore:
    state = StateStore()
    fsm = FSM(state)
    for i in range(nodes):
        node = Node(ID=generate_uuid(), SecretID=generate_uuid(), Name=f"n{i}",
                    Datacenter="dc-1" if i % 2 else "dc-2", Status="ready",
                    Meta={"rack": f"r{i % racks}"},
                    Attributes={"kernel.name": "linux", "driver.mock_driver": "1"},
                    Drivers={"mock_driver": DriverInfo(Detected=True, Healthy=True)},
                    NodeResources=NodeResources(Cpu=NodeCpuResources(CpuShares=10_000),
                                                Memory=NodeMemoryResources(MemoryMB=10_000),
                                                Disk=NodeDiskResources(DiskMB=100_000)))
        fsm.apply(e.NodeRegister(Node=node), i + 1)
    return state


def job(count: int, spread: bool) -> Job:
    tg = TaskGroup(Name="g", Count=count, Tasks=[Task(Name="t", Driver="mock_driver",
                                                      Resources=Resources(CPU=10, MemoryMB=10))])
    if spread:
        tg.Spreads = [Spread(Attribute="${meta.rack}", Weight=100)]
    return canonicalize(Job(ID="bench", Datacenters=["dc-1", "dc-2"], TaskGroups=[tg]))


def one_eval(state: StateStore, j: Job) -> float:
    fsm = FSM(state)
    fsm.apply(e.JobRegister(Job=j), state.latest_index + 1)
    ev = Evaluation(ID=generate_uuid(), Type="service", JobID=j.ID, Priority=50)
    t0 = time.perf_counter()
    plan = next(new_scheduler("service", state, time.time_ns()).process(ev))
    elapsed = time.perf_counter() - t0
    assert sum(len(v) for v in plan.NodeAllocation.values()) == j.TaskGroups[0].Count
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()
    rows = []
    for nodes in (500, 1000, 5000, 10000):
        for racks in (25, 50, 75):
            state = cluster(nodes, racks)
            for spread in (False, True):
                times = [one_eval(state, job(opts.count, spread)) for _ in range(3)]
                ms = statistics.median(times) * 1000
                rows.append({"nodes": nodes, "racks": racks, "spread": spread,
                             "count": opts.count, "ms_per_eval": ms,
                             "placements_per_sec": opts.count / (ms / 1000)})
                if not opts.json:
                    print(f"{nodes:>6} nodes {racks:>3} racks spread={str(spread):5} "
                          f"{ms:9.1f} ms/eval {rows[-1]['placements_per_sec']:9.0f} placements/s",
                          flush=True)
    if opts.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
