"""A server agent's place in the server gossip pool: its tags, its keyring, its joins.

Reads the agent's `server` block: `encrypt`, `server_join { start_join, retry_join,
retry_interval, retry_max }` (and the older `server.start_join` / `server.retry_join`),
plus the `-join`, `-retry-join` and `-encrypt` flags (already folded into the config).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid

from .. import __version__
from ..http.common import parse_duration_s
from ..server.gossip import Gossip, GossipConfig, JoinError, Keyring, KeyringError, Member
from .config import AgentConfig, ConfigError

log = logging.getLogger("pynomad.agent")

DEFAULT_RETRY_INTERVAL_S = 30.0


def server_node_id(data_dir: str | None) -> str:
    """The server's persistent ID (its raft peer ID): `<data_dir>/server/node-id`."""
    if not data_dir:
        return str(uuid.uuid4())
    path = os.path.join(data_dir, "server", "node-id")
    try:
        with open(path, encoding="utf-8") as f:
            value = f.read().strip()
        if value:
            return value
    except FileNotFoundError:
        pass
    value = str(uuid.uuid4())
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(value)
    return value


def join_settings(server: dict) -> tuple[list[str], list[str], float, int]:
    """(start_join, retry_join, retry_interval seconds, retry_max) from the server block."""
    sj = server.get("server_join") or {}
    if isinstance(sj, list):
        sj = sj[0] if sj else {}
    start = [str(a) for a in (sj.get("start_join") or server.get("start_join") or [])]
    retry = [str(a) for a in (sj.get("retry_join") or server.get("retry_join") or [])]
    interval = sj.get("retry_interval") or server.get("retry_interval")
    retry_max = int(sj.get("retry_max") or server.get("retry_max") or 0)
    if interval:
        interval = interval if isinstance(interval, (int, float)) else parse_duration_s(str(interval))
    return start, retry, float(interval or DEFAULT_RETRY_INTERVAL_S), retry_max


class ServerCluster:
    """The gossip member of one server agent."""

    def __init__(self, cfg: AgentConfig, node_id: str, data_dir: str | None,
                 gossip_config: GossipConfig | None = None) -> None:
        self.cfg = cfg
        self.node_id = node_id
        keyring_path = os.path.join(data_dir, "server", "serf", "keyring") if data_dir else None
        try:
            keyring = Keyring.load(keyring_path, str(cfg.server.get("encrypt") or ""))
        except KeyringError as err:
            raise ConfigError(f"server.encrypt: {err}") from None
        bind = (cfg.bind("serf"), cfg.ports["serf"])
        host, port = cfg.advertise_addr("serf").rsplit(":", 1)
        self.extra_tags: dict[str, str] = {}
        self.gossip = Gossip(f"{cfg.name}.{cfg.region}", bind, (host, int(port)),
                             self.base_tags(), keyring, gossip_config)
        self._retry_task: asyncio.Task | None = None

    def base_tags(self) -> dict[str, str]:
        cfg = self.cfg
        expect = int(cfg.server.get("bootstrap_expect", 1) or 1)
        rpc = cfg.rpc_advertise
        tags = {"role": "nomad", "region": cfg.region, "dc": cfg.datacenter,
                "build": __version__, "vsn": "1", "mvn": "1", "raft_vsn": "3",
                "port": rpc.rsplit(":", 1)[1], "rpc_addr": rpc.rsplit(":", 1)[0],
                "id": self.node_id, "expect": str(expect),
                "http_addr": cfg.advertise_addr("http")}
        if expect == 1:
            tags["bootstrap"] = "1"
        return tags

    def set_tags(self, **extra: str) -> None:
        """Add or change tags of this server (etcd peer URL, etcd state...)."""
        self.extra_tags.update(extra)
        self.gossip.set_tags({**self.base_tags(), **self.extra_tags})

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await self.gossip.start()
        start, retry, interval, retry_max = join_settings(self.cfg.server)
        if start:
            n, errors = await self.gossip.join(start)
            if n == 0:
                await self.gossip.stop()
                raise ConfigError("Error joining servers: " + "; ".join(errors))
        if retry:
            self._retry_task = asyncio.create_task(self._retry_join(retry, interval, retry_max))

    async def _retry_join(self, addrs: list[str], interval: float, retry_max: int) -> None:
        attempt = 0
        while True:
            attempt += 1
            n, errors = await self.gossip.join(addrs)
            if n:
                log.info("retry_join: joined %d of %d servers", n, len(addrs))
                return
            if retry_max and attempt >= retry_max:
                log.error("retry_join: giving up after %d attempts: %s", attempt,
                          "; ".join(errors))
                return
            log.warning("retry_join: joining failed, retrying in %gs: %s", interval,
                        "; ".join(errors))
            await asyncio.sleep(interval)

    async def stop(self, leave: bool = False) -> None:
        if self._retry_task is not None:
            self._retry_task.cancel()
            await asyncio.gather(self._retry_task, return_exceptions=True)
        await self.gossip.stop(leave=leave)

    # -- queries ------------------------------------------------------------------------
    async def join(self, addrs: list[str]) -> tuple[int, str]:
        try:
            n, errors = await self.gossip.join(addrs)
        except JoinError as err:
            return 0, str(err)
        return n, "; ".join(errors)

    def force_leave(self, name: str, prune: bool = False) -> bool:
        return self.gossip.membership.force_leave(name, prune)

    def servers(self, region: str | None = None, alive_only: bool = True) -> list[Member]:
        """Nomad servers in the pool (of one region when given), sorted by name."""
        out = [m for m in self.gossip.members() if m.tags.get("role") == "nomad"
               and (region is None or m.tags.get("region") == region)
               and (not alive_only or m.status == "alive")]
        return sorted(out, key=lambda m: m.name)

    def regions(self) -> list[str]:
        return sorted({m.tags.get("region", "") for m in self.servers()} | {self.cfg.region})

    def stats(self) -> dict[str, str]:
        """agent-info's `serf` section."""
        members = self.gossip.members()
        return {"members": str(len(members)),
                "failed": str(sum(m.status == "failed" for m in members)),
                "left": str(sum(m.status == "left" for m in members)),
                "encrypted": str(self.gossip.keyring.enabled).lower(),
                "health_score": "0", "intent_queue": "0", "event_queue": "0",
                "query_queue": "0", "member_time": "1", "event_time": "1",
                "query_time": "1"}

