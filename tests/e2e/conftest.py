"""End-to-end fixtures: real `nomad agent` processes on free loopback ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
NOMAD = str(BIN / "nomad")
EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "examples" / "nomad-jobs"


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def wait_for(fn, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    """Poll `fn` until it returns a truthy value; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as err:  # noqa: BLE001 - keep polling through transient errors
            last = err
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


class Agent:
    """A running `nomad agent` and helpers to talk to it as a user would."""

    def __init__(self, tmp: Path, dev: bool = True, data_dir: Path | None = None,
                 extra_hcl: str = "") -> None:
        self.tmp = tmp
        self.http, self.rpc, self.serf = free_ports(3)
        self.addr = f"http://127.0.0.1:{self.http}"
        self.data_dir = data_dir
        self.dev = dev
        self.config = tmp / f"agent-{self.http}.hcl"
        body = (f'bind_addr = "127.0.0.1"\nports {{\n  http = {self.http}\n  rpc = {self.rpc}\n'
                f'  serf = {self.serf}\n}}\n{extra_hcl}\n')
        if not dev:
            body += (f'data_dir = "{data_dir}"\nserver {{\n  enabled = true\n  bootstrap_expect = 1\n}}\n'
                     'client {\n  enabled = true\n}\n'
                     'plugin "raw_exec" {\n  config {\n    enabled = true\n  }\n}\n')
        self.config.write_text(body)
        self.log = tmp / f"agent-{self.http}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Agent":
        args = [NOMAD, "agent", "-config", str(self.config)]
        if self.dev:
            args.insert(2, "-dev")
        self._log_file = open(self.log, "ab")
        self.proc = subprocess.Popen(args, stdout=self._log_file, stderr=subprocess.STDOUT,
                                     env=self.env())
        try:
            wait_for(self._ready, 60, what=f"agent ready (log {self.log})")
        except BaseException:
            self.kill()
            raise
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"agent exited: {self.log.read_text()[-3000:]}")
        nodes = self.get("/v1/nodes")
        return any(n["Status"] == "ready" for n in nodes)

    def env(self) -> dict:
        env = dict(os.environ)
        env["NOMAD_ADDR"] = self.addr
        env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
        return env

    # -- HTTP ----------------------------------------------------------------------------
    def request(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
        req = urllib.request.Request(self.addr + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def get(self, path: str):
        status, body = self.request("GET", path)
        assert status == 200, (status, body)
        return json.loads(body)

    # -- CLI -----------------------------------------------------------------------------
    def nomad(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = subprocess.run([NOMAD, *args], capture_output=True, text=True, env=self.env(),
                              timeout=timeout, cwd=self.tmp)
        if check and proc.returncode != 0:
            raise AssertionError(f"nomad {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    # -- helpers ---------------------------------------------------------------------------
    def allocs(self, job_id: str) -> list[dict]:
        return self.get(f"/v1/job/{job_id}/allocations")

    def wait_allocs(self, job_id: str, pred, timeout: float = 60, what: str = ""):
        return wait_for(lambda: (lambda a: a if pred(a) else None)(self.allocs(job_id)),
                        timeout, what=what or f"allocs of {job_id}")

    def stop_all_jobs(self) -> None:
        for job in self.get("/v1/jobs"):
            self.request("DELETE", f"/v1/job/{job['ID']}?purge=true")
        wait_for(lambda: all(a["ClientStatus"] in ("complete", "failed", "lost")
                             for a in self.get("/v1/allocations")), 60, what="all allocs stopped")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                self.stop_all_jobs()
            except Exception:  # noqa: BLE001 - best effort before shutting down
                pass
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if getattr(self, "_log_file", None):
            self._log_file.close()


@pytest.fixture
def dev_agent(tmp_path):
    agent = Agent(tmp_path).start()
    yield agent
    agent.stop()


@pytest.fixture
def examples() -> Path:
    if not EXAMPLES.exists():
        pytest.skip("shared examples not present")
    return EXAMPLES


def write_job(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def pids_with_marker(marker: str) -> list[int]:
    """Processes whose command line contains `marker` (tests use unique markers)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmd and "pytest" not in cmd:
            out.append(int(entry))
    return out


__all__ = ["Agent", "wait_for", "write_job", "pids_with_marker", "shutil"]
