"""Submit → running latency and batch throughput against a real `nomad agent -dev`.

    .venv/bin/python bench/agent_latency.py [--runs 20] [--batch 200] [--driver raw_exec]
                                            [--json]

Starts a dev agent on free loopback ports, then:
- latency: registers a one-task service job (`sleep 600` under --driver: raw_exec, or
  exec for an isolated task: namespaces, chroot, cgroup) and times POST /v1/jobs until
  the allocation's ClientStatus is `running` (median and p90 of --runs jobs);
- batch: registers --batch trivial raw_exec batch jobs (`true`) and times until all complete.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.path.dirname(sys.executable)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def call(addr, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(addr + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"null")


def job(job_id, typ, command, args, driver="raw_exec"):
    return {"Job": {"ID": job_id, "Type": typ, "Datacenters": ["dc1"], "TaskGroups": [{
        "Name": "g", "Count": 1, "Tasks": [{
            "Name": "t", "Driver": driver, "Config": {"command": command, "args": args},
            "KillTimeout": 1_000_000_000, "Resources": {"CPU": 10, "MemoryMB": 10}}]}]}}


def wait_status(addr, job_id, status, timeout=120):
    deadline = time.monotonic() + timeout
    index = 0
    while time.monotonic() < deadline:
        req = urllib.request.Request(f"{addr}/v1/job/{job_id}/allocations?index={index}&wait=5s")
        with urllib.request.urlopen(req, timeout=30) as resp:
            index = int(resp.headers.get("X-Nomad-Index", "0"))
            allocs = json.loads(resp.read())
        if allocs and all(a["ClientStatus"] == status for a in allocs):
            return
    raise TimeoutError(f"{job_id} never reached {status}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--driver", default="raw_exec", choices=["raw_exec", "exec"])
    ap.add_argument("--json", action="store_true")
    opts = ap.parse_args()
    http, rpc, serf = free_ports(3)
    tmp = tempfile.mkdtemp()
    cfg = os.path.join(tmp, "agent.hcl")
    with open(cfg, "w") as f:
        f.write(f'bind_addr = "127.0.0.1"\nlog_level = "WARN"\n'
                f'ports {{\n http = {http}\n rpc = {rpc}\n serf = {serf}\n}}\n')
    log = open(os.path.join(tmp, "agent.log"), "wb")
    proc = subprocess.Popen([os.path.join(BIN, "nomad"), "agent", "-dev", "-config", cfg],
                            stdout=log, stderr=subprocess.STDOUT)
    addr = f"http://127.0.0.1:{http}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if any(n["Status"] == "ready" for n in call(addr, "GET", "/v1/nodes")):
                    break
            except OSError:
                pass
            time.sleep(0.1)
        latencies = []
        for i in range(opts.runs):
            t0 = time.perf_counter()
            call(addr, "POST", "/v1/jobs", job(f"lat-{i}", "service", "/bin/sleep", ["600"],
                                               opts.driver))
            wait_status(addr, f"lat-{i}", "running")
            latencies.append(time.perf_counter() - t0)
            call(addr, "DELETE", f"/v1/job/lat-{i}?purge=true")
        t0 = time.perf_counter()
        for i in range(opts.batch):
            call(addr, "POST", "/v1/jobs", job(f"batch-{i}", "batch", "true", []))
        for i in range(opts.batch):
            wait_status(addr, f"batch-{i}", "complete")
        batch_s = time.perf_counter() - t0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    result = {"driver": opts.driver, "latency_median_s": statistics.median(latencies),
              "latency_p90_s": sorted(latencies)[int(0.9 * (len(latencies) - 1))],
              "runs": opts.runs, "batch_jobs": opts.batch, "batch_seconds": batch_s,
              "batch_jobs_per_sec": opts.batch / batch_s if opts.batch else 0.0}
    if opts.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:20} {v:.3f}" if isinstance(v, float) else f"{k:20} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
