"""Multi-agent clusters for end-to-end tests: servers with their own etcd members, clients,
each a real `nomad agent` process with its own ports and data dir on loopback."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import NOMAD, free_ports, wait_for

ETCD = shutil.which("etcd") or "/usr/bin/etcd"
needs_etcd = pytest.mark.skipif(not os.path.exists(ETCD),
                                reason="etcd is not installed (make system)")

SLEEP_JOB = """job "{id}" {{
  datacenters = ["dc1"]
  {extra}
  group "g" {{
    task "t" {{
      driver = "raw_exec"
      config {{
        command = "/bin/sleep"
        args    = ["600"]
      }}
      resources {{
        cpu    = 20
        memory = 16
      }}
    }}
  }}
}}
"""


def job_json(job_id: str) -> dict:
    return {"Job": {"ID": job_id, "Name": job_id, "Type": "service", "Datacenters": ["dc1"],
                    "TaskGroups": [{"Name": "g", "Count": 1, "Tasks": [{
                        "Name": "t", "Driver": "raw_exec",
                        "Config": {"command": "/bin/sleep", "args": ["600"]},
                        "Resources": {"CPU": 20, "MemoryMB": 16}}]}]}}


class Node:
    """One agent process (server or client)."""

    def __init__(self, tmp: Path, name: str, body: str, ports: list[int]) -> None:
        self.tmp, self.name = tmp, name
        self.http, self.rpc, self.serf = ports[:3]
        self.addr = f"http://127.0.0.1:{self.http}"
        self.data_dir = tmp / name
        self.config = tmp / f"{name}.hcl"
        self.config.write_text(f'name = "{name}"\nbind_addr = "127.0.0.1"\n'
                               f'data_dir = "{self.data_dir}"\n'
                               f'ports {{\n  http = {self.http}\n  rpc = {self.rpc}\n'
                               f'  serf = {self.serf}\n}}\n{body}')
        self.log = tmp / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.token = ""

    # -- process ---------------------------------------------------------------------------
    def start(self) -> "Node":
        self._log = open(self.log, "ab")
        self.proc = subprocess.Popen([NOMAD, "agent", "-config", str(self.config)],
                                     stdout=self._log, stderr=subprocess.STDOUT, env=self.env())
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.running:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "_log", None):
            self._log.close()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def env(self) -> dict:
        env = dict(os.environ)
        env["NOMAD_ADDR"] = self.addr
        env["PATH"] = f"{Path(NOMAD).parent}:{env.get('PATH', '')}"
        if self.token:
            env["NOMAD_TOKEN"] = self.token
        return env

    # -- API -------------------------------------------------------------------------------
    def request(self, method: str, path: str, body=None, timeout: float = 30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.addr + path, data=data, method=method)
        if self.token:
            req.add_header("X-Nomad-Token", self.token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def get(self, path: str, timeout: float = 30):
        status, body, _ = self.request("GET", path, timeout=timeout)
        assert status == 200, (self.name, path, status, body)
        return json.loads(body)

    def nomad(self, *args: str, check: bool = True, timeout: float = 60):
        proc = subprocess.run([NOMAD, *args], capture_output=True, text=True, env=self.env(),
                              timeout=timeout, cwd=self.tmp)
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.name}: nomad {' '.join(args)} exited "
                                 f"{proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def leader(self) -> str:
        status, body, _ = self.request("GET", "/v1/status/leader", timeout=5)
        return json.loads(body) if status == 200 else ""

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


class Cluster:
    """Servers (etcd backend) and clients of one region, torn down by `close`."""

    def __init__(self, tmp: Path, servers: int = 3, clients: int = 1, encrypt: str = "",
                 region: str = "global", server_extra: str = "", client_extra: str = "",
                 expect: int | None = None) -> None:
        self.tmp, self.region = tmp, region
        self.encrypt = encrypt
        self.server_extra, self.client_extra = server_extra, client_extra
        self.expect = expect or servers
        self.servers: list[Node] = []
        self.clients: list[Node] = []
        self._ports: list[list[int]] = [free_ports(5) for _ in range(servers + 8)]
        self.serf_addrs = [f"127.0.0.1:{p[2]}" for p in self._ports[:servers]]
        for i in range(servers):
            self.servers.append(self.server_node(f"{region}-s{i + 1}"))
        for i in range(clients):
            self.clients.append(self.client_node(f"{region}-c{i + 1}"))

    def _next_ports(self) -> list[int]:
        return self._ports.pop(0)

    def server_node(self, name: str, encrypt: str | None = None, join: list[str] | None = None
                    ) -> Node:
        ports = self._next_ports()
        key = self.encrypt if encrypt is None else encrypt
        join = self.serf_addrs if join is None else join
        body = (f'region = "{self.region}"\n'
                f'server {{\n  enabled = true\n  bootstrap_expect = {self.expect}\n'
                + (f'  encrypt = "{key}"\n' if key else "")
                + f'  server_join {{\n    retry_join = {json.dumps(join)}\n'
                  '    retry_interval = "1s"\n  }\n'
                + f'  etcd {{\n    peer_port = {ports[3]}\n    client_port = {ports[4]}\n  }}\n'
                + f'{self.server_extra}}}\n')
        return Node(self.tmp, name, body, ports)

    def client_node(self, name: str) -> Node:
        rpcs = [f"127.0.0.1:{p[1]}" for p in self._ports_of_servers()]
        body = (f'region = "{self.region}"\n'
                f'client {{\n  enabled = true\n  server_join {{\n    retry_join = '
                f'{json.dumps(rpcs)}\n  }}\n{self.client_extra}}}\n'
                'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n')
        return Node(self.tmp, name, body, self._next_ports())

    def _ports_of_servers(self) -> list[list[int]]:
        return [[s.http, s.rpc, s.serf] for s in self.servers]

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> "Cluster":
        for n in self.servers + self.clients:
            n.start()
        self.wait_leader()
        for c in self.clients:
            self.wait_client(c)
        return self

    def wait_leader(self, nodes: list[Node] | None = None, timeout: float = 60,
                    other_than: str = "") -> str:
        nodes = nodes or [s for s in self.servers if s.running]

        def agreed():
            leaders = {n.leader() for n in nodes}
            ok = len(leaders) == 1 and not leaders & {"", other_than}
            return leaders.pop() if ok else None
        return wait_for(agreed, timeout, 0.2, what="one leader seen by all servers")

    def wait_client(self, client: Node, timeout: float = 60) -> None:
        def ready():
            nodes = self.any_server().get("/v1/nodes")
            return any(n["Name"] == client.name and n["Status"] == "ready" for n in nodes)
        wait_for(ready, timeout, 0.2, what=f"client {client.name} ready")

    def any_server(self) -> Node:
        return random.choice([s for s in self.servers if s.running])

    def leader_node(self) -> Node:
        addr = self.wait_leader()
        return next(s for s in self.servers if f"127.0.0.1:{s.rpc}" == addr)

    def close(self) -> None:
        for n in self.clients + self.servers:
            if n.running and n in self.clients:
                try:   # stop the tasks too: nothing is left running after a test
                    for job in n.get("/v1/jobs"):
                        n.request("DELETE", f"/v1/job/{job['ID']}?purge=true")
                except Exception:  # noqa: BLE001 - best effort
                    pass
                break
        for n in self.clients:
            n.stop()
        for n in self.servers:
            n.stop()


def wait_running(node: Node, job_ids, timeout: float = 90) -> dict[str, list[dict]]:
    """Every job has one running allocation; returns the allocations by job."""
    job_ids = set(job_ids)

    def check():
        allocs = node.get("/v1/allocations")
        by_job: dict[str, list[dict]] = {}
        for a in allocs:
            if a["JobID"] in job_ids:
                by_job.setdefault(a["JobID"], []).append(a)
        ok = all(any(a["ClientStatus"] == "running" for a in by_job.get(j, []))
                 for j in job_ids)
        return by_job if ok else None
    return wait_for(check, timeout, 0.5, what=f"{len(job_ids)} jobs running")


def started_count(alloc: dict, task: str = "t") -> int:
    events = ((alloc.get("TaskStates") or {}).get(task) or {}).get("Events") or []
    return sum(1 for e in events if e.get("Type") == "Started")


__all__ = ["Cluster", "Node", "SLEEP_JOB", "job_json", "needs_etcd", "wait_running",
           "started_count", "wait_for", "time"]
