"""Health answers while a huge job is placed: the scheduler runs off the event loop.

    .venv/bin/python bench/agent_responsiveness.py --nodes 1000 [--json]

Starts `nomad agent -dev` with its own client disabled and `nomad-nodesim` with --nodes
simulated nodes (10,000 MHz / 10,000 MB each), registers one service job with
Count = 2147483648 (10 MHz / 10 MB per allocation: the cluster holds --nodes x 1,000 of
them) and, until its evaluation is complete, times `GET /v1/agent/health` every 50 ms.
Reports the health latency p50 / p99 / max, how many allocations were placed, the queued
count and how long the evaluation took.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from agent_latency import free_ports  # noqa: E402
from scheduler_throughput import BIN, _up, call, gauge, job, start, stop, wait_until  # noqa: E402

HUGE = 2_147_483_648


def health_ms(addr: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(addr + "/v1/agent/health", timeout=60) as resp:
        resp.read()
    return (time.perf_counter() - t0) * 1000


def run(opts) -> dict:
    http, rpc, serf = free_ports(3)
    tmp = tempfile.mkdtemp(prefix="bench-")
    cfg = os.path.join(tmp, "agent.hcl")
    with open(cfg, "w") as f:
        f.write(f'bind_addr = "127.0.0.1"\nlog_level = "WARN"\nclient {{\n enabled = false\n}}\n'
                f'ports {{\n http = {http}\n rpc = {rpc}\n serf = {serf}\n}}\n')
    addr = f"http://127.0.0.1:{http}"
    log = open(os.path.join(tmp, "bench.log"), "wb")
    agent = start([os.path.join(BIN, "nomad"), "agent", "-dev", "-config", cfg], log)
    sim = None
    try:
        wait_until(lambda: _up(addr), 60)
        sim = start([os.path.join(BIN, "nomad-nodesim"), "-server", f"127.0.0.1:{rpc}",
                     "-nodes", str(opts.nodes), "-work-dir", os.path.join(tmp, "nodes")], log)
        wait_until(lambda: gauge(addr, "nomad.state.nodes_ready") >= opts.nodes, 600, 0.5)
        idle = [health_ms(addr) for _ in range(20)]
        t0 = time.perf_counter()
        out = call(addr, "POST", "/v1/jobs", job(0, "service", HUGE, False))
        samples = []
        while True:
            samples.append(health_ms(addr))
            ev = call(addr, "GET", f"/v1/evaluation/{out['EvalID']}")
            if ev["Status"] != "pending":
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        allocs = gauge(addr, "nomad.state.allocs")
    finally:
        if sim is not None:
            stop(sim)
        stop(agent)
    samples.sort()
    return {"nodes": opts.nodes, "count": HUGE, "eval_status": ev["Status"],
            "placed": allocs, "queued": (ev.get("QueuedAllocations") or {}).get("g"),
            "eval_seconds": seconds, "health_samples": len(samples),
            "health_idle_p50_ms": statistics.median(idle),
            "health_p50_ms": statistics.median(samples),
            "health_p99_ms": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
            "health_max_ms": samples[-1]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--nodes", type=int, default=1000)
    p.add_argument("--json", action="store_true")
    opts = p.parse_args()
    out = run(opts)
    print(json.dumps(out) if opts.json else "\n".join(f"{k}: {v}" for k, v in out.items()))


if __name__ == "__main__":
    main()
