"""End-to-end placement throughput: a real agent, simulated nodes over the RPC port.

    .venv/bin/python bench/scheduler_throughput.py --nodes 5000 --jobs 100 --count 1000
    .venv/bin/python bench/scheduler_throughput.py --type batch --jobs 1000 --count 100
    ... [--spread] [--json]

Starts `nomad agent -dev` with its own client disabled, starts `nomad-nodesim` with
--nodes simulated nodes (mock driver, 10,000 MHz / 10,000 MB each, meta.rack over 25
racks), registers --jobs jobs of --count allocations each as fast as the API takes
them, and measures from the first registration to the moment the server's state holds
every allocation: placements per second and evaluation latency (create → complete)
p50/p99; then, once the nodes have reported every allocation running (and, for service
jobs, healthy: every deployment successful), the server's RSS growth per allocation.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import psutil

sys.path.insert(0, os.path.dirname(__file__))
from agent_latency import free_ports  # noqa: E402

BIN = os.path.dirname(sys.executable)


def call(addr, method, path, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(addr + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def gauge(addr, name):
    for g in call(addr, "GET", "/v1/metrics")["Gauges"]:
        if g["Name"] == name:
            return g["Value"]
    return 0


def job(i, typ, count, spread):
    tg = {"Name": "g", "Count": count, "Tasks": [{
        "Name": "t", "Driver": "mock_driver", "Config": {"run_for": "1h"},
        "Resources": {"CPU": 10, "MemoryMB": 10}}],
        "EphemeralDisk": {"SizeMB": 110}}
    if spread:
        tg["Spreads"] = [{"Attribute": "${meta.rack}", "Weight": 100}]
    return {"Job": {"ID": f"bench-{i}", "Type": typ, "Datacenters": ["dc1"],
                    "TaskGroups": [tg]}}


def wait_until(fn, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("benchmark condition not reached")


def start(args, log):
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)


def stop(proc):
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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
        server = psutil.Process(agent.pid)
        rss_before = server.memory_info().rss
        total = opts.jobs * opts.count
        t0 = time.perf_counter()
        for i in range(opts.jobs):
            call(addr, "POST", "/v1/jobs", job(i, opts.type, opts.count, opts.spread))
        wait_until(lambda: gauge(addr, "nomad.state.allocs") >= total, 3600)
        seconds = time.perf_counter() - t0
        wait_until(lambda: _reported(addr, opts.type) >= total, 600, 0.5)
        if opts.type == "service":
            wait_until(lambda: _deployed(addr) >= opts.jobs, 600, 0.5)
        rss = server.memory_info().rss
        lat = _eval_latencies(addr)
    finally:
        if sim is not None:
            stop(sim)
        stop(agent)
    return {"placements_per_sec": total / seconds, "allocs": total, "nodes": opts.nodes,
            "jobs": opts.jobs, "type": opts.type, "spread": opts.spread,
            "seconds": seconds, "rss_bytes": rss, "rss_growth_per_alloc": (rss - rss_before) / total,
            "eval_latency_p50_s": lat[0], "eval_latency_p99_s": lat[1]}


def _reported(addr, typ):
    """Allocations whose client has reported them running (or, for batch, done)."""
    done = ("Running", "Complete") if typ == "batch" else ("Running",)
    return sum(g[k] for j in call(addr, "GET", "/v1/jobs")
               for g in j["JobSummary"]["Summary"].values() for k in done)


def _deployed(addr):
    """Service jobs whose deployment has succeeded (every allocation reported healthy)."""
    return sum(d["Status"] == "successful" for d in call(addr, "GET", "/v1/deployments"))


def _up(addr):
    try:
        return call(addr, "GET", "/v1/agent/health", timeout=5)
    except OSError:
        return None


def _eval_latencies(addr):
    evals = [e for e in call(addr, "GET", "/v1/evaluations")
             if e["TriggeredBy"] == "job-register" and e["Status"] == "complete"]
    lat = sorted((e["ModifyTime"] - e["CreateTime"]) / 1e9 for e in evals) or [0.0]
    return statistics.median(lat), lat[min(len(lat) - 1, int(0.99 * len(lat)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--type", default="service", choices=["service", "batch"])
    ap.add_argument("--spread", action="store_true")
    ap.add_argument("--json", action="store_true")
    result = run(ap.parse_args())
    if ap.parse_args().json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:24} {v:.3f}" if isinstance(v, float) else f"{k:24} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
