"""This server's own etcd member: started, watched and restarted by the agent.

The member keeps its data under `<data_dir>/server/etcd`, talks to its peers on the
server's advertise address (the peer port) and to its one client, this server, on
loopback (the client port). It dies with the agent (PR_SET_PDEATHSIG), so a killed
server takes its member down with it, as a killed Nomad server takes its raft peer.

A member starts in one of three ways: `new` (the first `bootstrap_expect` servers found
each other and bootstrap together), `existing` (a later server, added to the running
cluster through the member-add API first) or `restart` (data already on disk).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import shutil
import signal
from dataclasses import dataclass

log = logging.getLogger("pynomad.etcd")

DEFAULT_PEER_PORT = 4649
DEFAULT_CLIENT_PORT = 4650
ETCD_BINARY = "/usr/bin/etcd"
REMOVED_MARKERS = ("the member has been permanently removed from the cluster",
                   "member has already been removed", "cluster ID mismatch")
_PR_SET_PDEATHSIG = 1


class EtcdMemberError(Exception):
    pass


@dataclass
class EtcdSettings:
    """The agent's `server { etcd { ... } }` block (pynomad's own; Nomad has no etcd)."""
    peer_port: int = DEFAULT_PEER_PORT
    client_port: int = DEFAULT_CLIENT_PORT
    binary: str = ""
    endpoints: tuple[str, ...] = ()          # external etcd: no member is run
    heartbeat_ms: int = 100
    election_ms: int = 1000

    @classmethod
    def from_block(cls, block) -> "EtcdSettings":
        if isinstance(block, list):
            block = block[0] if block else {}
        block = block or {}
        return cls(peer_port=int(block.get("peer_port", DEFAULT_PEER_PORT)),
                   client_port=int(block.get("client_port", DEFAULT_CLIENT_PORT)),
                   binary=str(block.get("binary", "")),
                   endpoints=tuple(str(e) for e in block.get("endpoints") or ()),
                   heartbeat_ms=int(block.get("heartbeat_ms", 100)),
                   election_ms=int(block.get("election_ms", 1000)))


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass


def etcd_binary(configured: str = "") -> str:
    for candidate in (configured, shutil.which("etcd") or "", ETCD_BINARY):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise EtcdMemberError("etcd is not installed: install the Debian package etcd-server "
                          "(or set server.etcd.binary)")


class EtcdMember:
    """One supervised etcd process."""

    def __init__(self, name: str, data_dir: str, bind_host: str, advertise_host: str,
                 settings: EtcdSettings, cluster_token: str) -> None:
        self.name = name
        self.dir = data_dir
        self.settings = settings
        self.token = cluster_token
        self.peer_url = f"http://{advertise_host}:{settings.peer_port}"
        self.listen_peer = f"http://{bind_host}:{settings.peer_port}"
        self.client_url = f"http://127.0.0.1:{settings.client_port}"
        self.binary = etcd_binary(settings.binary)
        self.removed = asyncio.Event()     # the cluster removed this member
        self._proc: asyncio.subprocess.Process | None = None
        self._args: list[str] = []
        self._supervisor: asyncio.Task | None = None
        self._stopping = False
        self._log_offset = 0

    @property
    def data_path(self) -> str:
        return os.path.join(self.dir, "etcd")

    @property
    def log_path(self) -> str:
        return os.path.join(self.dir, "etcd.log")

    def has_data(self) -> bool:
        return os.path.isdir(os.path.join(self.data_path, "member"))

    @property
    def client_endpoint(self) -> tuple[str, int]:
        return "127.0.0.1", self.settings.client_port

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    def _command(self, initial: dict[str, str] | None, state: str) -> list[str]:
        s = self.settings
        args = [self.binary, "--name", self.name, "--data-dir", self.data_path,
                "--listen-peer-urls", self.listen_peer,
                "--initial-advertise-peer-urls", self.peer_url,
                "--listen-client-urls", self.client_url,
                "--advertise-client-urls", self.client_url,
                "--heartbeat-interval", str(s.heartbeat_ms),
                "--election-timeout", str(s.election_ms),
                "--max-request-bytes", str(64 * 1024 * 1024),
                "--quota-backend-bytes", str(8 * 1024 * 1024 * 1024),
                "--snapshot-count", "10000", "--logger", "zap", "--log-level", "warn"]
        if initial:
            cluster = ",".join(f"{n}={u}" for n, u in sorted(initial.items()))
            args += ["--initial-cluster", cluster, "--initial-cluster-state", state,
                     "--initial-cluster-token", self.token]
        return args

    async def start(self, initial: dict[str, str] | None = None, state: str = "new") -> None:
        """Start the member: with `initial` peers (name → peer URL) for a new member, or
        from its data when it has some."""
        os.makedirs(self.dir, exist_ok=True)
        self.removed.clear()
        self._stopping = False
        self._args = self._command(None if self.has_data() else initial, state)
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise())

    async def _spawn(self) -> None:
        with open(self.log_path, "ab") as logf:
            self._log_offset = logf.tell()
            self._proc = await asyncio.create_subprocess_exec(
                *self._args, stdout=asyncio.subprocess.DEVNULL, stderr=logf,
                preexec_fn=_die_with_parent)
        log.info("etcd member %s started (pid %d, peer %s)", self.name, self._proc.pid,
                 self.peer_url)

    async def _supervise(self) -> None:
        """Restart the member when it dies, unless it was removed from the cluster."""
        delay = 0.5
        while not self._stopping:
            assert self._proc is not None
            code = await self._proc.wait()
            if self._stopping:
                return
            if self._was_removed():
                log.error("etcd member %s was removed from the cluster; its data is wiped "
                          "so the server can join again as a new member", self.name)
                self.wipe()
                self.removed.set()
                return
            log.warning("etcd member %s exited with %s; restarting in %.1fs", self.name, code,
                        delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            if not self.has_data():
                return   # it never got going: the caller decides how to start it again
            self._args = self._command(None, "new")
            await self._spawn()

    def _was_removed(self) -> bool:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(max(self._log_offset, os.path.getsize(self.log_path) - 65536))
                tail = f.read().decode(errors="replace")
        except OSError:
            return False
        return any(marker in tail for marker in REMOVED_MARKERS)

    def wipe(self) -> None:
        shutil.rmtree(self.data_path, ignore_errors=True)

    async def stop(self) -> None:
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
