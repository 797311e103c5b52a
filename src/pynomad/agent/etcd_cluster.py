"""Forming the servers' etcd cluster through gossip, and changing its membership.

Each server publishes its etcd peer URL as a gossip tag (`etcd_peer`) and, once its member
answers a quorum read, `etcd = member`. A server without etcd data then either
- bootstraps: no server of its region is a member yet and `bootstrap_expect` servers
  (itself among the first of them by name) are alive: they all start a new cluster of
  exactly those servers; or
- joins: some server is a member; it asks that server (RPC `Etcd.MemberAdd`) to add it
  and starts as an `existing` member.
A server with etcd data restarts its member as it was. A member that the cluster removed
(`operator raft remove-peer`, autopilot) wipes its data and joins again.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ..backend.etcd_client import Etcd, EtcdError
from ..backend.etcd_member import EtcdMember

log = logging.getLogger("pynomad.agent")

POLL_S = 0.5


class EtcdCluster:
    """This server's etcd member within the region's cluster."""

    def __init__(self, cluster, member: EtcdMember, expect: int, rpc_call) -> None:
        self.cluster = cluster          # agent.cluster.ServerCluster
        self.member = member
        self.expect = max(1, expect)
        self.rpc_call = rpc_call        # async (rpc_addr, method, args) -> reply
        self.etcd = Etcd(*member.client_endpoint)
        self._watch: asyncio.Task | None = None

    @property
    def name(self) -> str:
        return self.cluster.gossip.name

    async def start(self) -> None:
        self.cluster.set_tags(etcd_peer=self.member.peer_url)
        await self._form()
        self._watch = asyncio.create_task(self._rejoin_when_removed())

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        await self.etcd.close()
        await self.member.stop()

    # -- forming ---------------------------------------------------------------------------
    async def _form(self) -> None:
        if self.member.has_data():
            await self.member.start()
        else:
            await self._start_fresh()
        await self._wait_healthy()
        self.cluster.set_tags(etcd_peer=self.member.peer_url, etcd="member")
        log.info("etcd member %s is part of the cluster", self.name)

    async def _start_fresh(self) -> None:
        region = self.cluster.cfg.region
        last_note = 0.0
        while True:
            servers = self.cluster.servers(region)
            members = [s for s in servers if s.tags.get("etcd") == "member" and s.name != self.name]
            if members and await self._join(members):
                return
            if not members:
                ready = [s for s in servers if s.tags.get("etcd_peer")]
                chosen = ready[:self.expect]
                if len(ready) >= self.expect and any(s.name == self.name for s in chosen):
                    log.info("bootstrapping etcd with %s", ", ".join(s.name for s in chosen))
                    await self.member.start({s.name: s.tags["etcd_peer"] for s in chosen}, "new")
                    return
                if time.monotonic() - last_note > 10:
                    last_note = time.monotonic()
                    log.info("waiting for servers to bootstrap: %d of bootstrap_expect = %d "
                             "found", len(ready), self.expect)
            await asyncio.sleep(POLL_S)

    async def _join(self, members) -> bool:
        for s in members:
            rpc = f"{s.tags.get('rpc_addr', s.addr)}:{s.tags.get('port', '4647')}"
            try:
                reply = await self.rpc_call(rpc, "Etcd.MemberAdd",
                                            {"Name": self.name, "PeerURL": self.member.peer_url})
            except Exception as err:  # noqa: BLE001 - try the next member, then again later
                log.info("asking %s to add this server to etcd: %s", s.name, err)
                continue
            initial = dict(reply.get("Initial") or {})
            log.info("joining etcd through %s as a new member", s.name)
            await self.member.start(initial, "existing")
            return True
        return False

    async def _wait_healthy(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.etcd.revision(), 5)
                return
            except (EtcdError, asyncio.TimeoutError):
                await asyncio.sleep(POLL_S)

    async def _rejoin_when_removed(self) -> None:
        while True:
            await self.member.removed.wait()
            self.cluster.set_tags(etcd_peer=self.member.peer_url, etcd="")
            await self.member.stop()
            await self._form()

    # -- membership changes (called on a member's server) ----------------------------------
    async def add_member(self, name: str, peer_url: str) -> dict[str, str]:
        """Add `peer_url` to the cluster (replacing a stale member of the same name or URL);
        the initial-cluster map the new member starts with."""
        current = await self.etcd.members()
        for m in current:
            if peer_url in m.peer_urls and not m.name:
                break   # listed already and never started: it can start as it is
            if peer_url in m.peer_urls or m.name == name:
                await self.etcd.member_remove(m.id)
        else:
            await self.etcd.member_add([peer_url])
        initial = {}
        for m in await self.etcd.members():
            if m.peer_urls:
                initial[m.name or name] = m.peer_urls[0]
        return initial
