"""The agent's cluster side: its etcd member and backend, who leads, where requests go,
and the server list a client-only agent keeps.

Mixed into `Agent`; everything here reads the agent's config, gossip member, server and
client.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from . import tls as tlsmod

log = logging.getLogger("pynomad.agent")

SERVER_LIST_REFRESH_S = 10.0


class ClusterAgentMixin:
    cluster = None          # ServerCluster (gossip) of a server agent
    etcd_cluster = None     # EtcdCluster: this server's etcd member
    forwarder = None        # http.forward.Forwarder
    known_servers: list[dict] = []

    # -- the etcd backend --------------------------------------------------------------
    def uses_etcd(self) -> bool:
        from ..backend.etcd_member import EtcdSettings

        cfg = self.config
        if cfg.dev or not cfg.server_enabled:
            return False
        settings = EtcdSettings.from_block(cfg.server.get("etcd"))
        return int(cfg.server.get("bootstrap_expect", 1) or 1) > 1 or bool(settings.endpoints)

    async def start_etcd(self) -> dict:
        """Form or join the etcd cluster; the etcd backend's options."""
        from ..backend import etcd as _etcd  # noqa: F401 - registers the etcd backend

        from ..backend.etcd_member import EtcdMember, EtcdSettings
        from ..client.rpc import RPCClient
        from .etcd_cluster import EtcdCluster

        cfg = self.config
        settings = EtcdSettings.from_block(cfg.server.get("etcd"))
        if settings.endpoints:
            endpoint = settings.endpoints[0].split("//")[-1]
        else:
            member = EtcdMember(self.cluster.gossip.name, os.path.join(cfg.data_dir, "server"),
                                cfg.bind("serf"), cfg.advertise_addr("serf").rsplit(":", 1)[0],
                                settings, f"pynomad-{cfg.region}")

            async def rpc_call(addr: str, method: str, args: dict):
                rpc = self._rpc_client(RPCClient, [addr])
                try:
                    return await rpc.call(method, args, timeout_s=20)
                finally:
                    await rpc.close()

            self.etcd_cluster = EtcdCluster(self.cluster, member,
                                            int(cfg.server.get("bootstrap_expect", 1)), rpc_call)
            await self.etcd_cluster.start()
            endpoint = "%s:%d" % member.client_endpoint
        return {"endpoint": endpoint, "region": cfg.region, "server_id": self.cluster.node_id,
                "http_addr": cfg.advertise_addr("http")}

    # -- leadership ----------------------------------------------------------------------
    def self_leader_info(self) -> dict:
        cfg = self.config
        return {"RPC": cfg.rpc_advertise, "HTTP": cfg.advertise_addr("http"),
                "Name": f"{cfg.name}.{cfg.region}", "Region": cfg.region,
                "ID": self.cluster.node_id if self.cluster is not None else ""}

    def leader(self) -> dict | None:
        server = self.server
        if server is None:
            return None
        if server.is_leader:
            return self.self_leader_info()
        return getattr(server.backend, "leader", None)

    async def wait_for_leader(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while True:
            leader = self.leader()
            if leader is not None or time.monotonic() >= deadline:
                return leader
            await asyncio.sleep(0.1)

    def leader_contact(self) -> tuple[bool, int]:
        """(a leader is known, milliseconds since this server last heard from the cluster)."""
        server = self.server
        if server is None or server.is_leader:
            return server is not None, 0
        backend = server.backend
        last = getattr(backend, "last_contact", None)
        ms = int((backend.clock() - last) * 1000) if last is not None else 0
        return self.leader() is not None, ms

    async def consistent_read(self, timeout: float = 5.0) -> None:
        """Wait until this follower has applied everything committed so far."""
        backend = getattr(self.server, "backend", None)
        if backend is None or not hasattr(backend, "last_log_revision"):
            return
        try:
            last = await asyncio.wait_for(backend.last_log_revision(), timeout)
            await asyncio.wait_for(backend.wait_applied(last), timeout)
        except asyncio.TimeoutError:
            pass   # answered from what this server has; LastContact tells how stale

    # -- where requests go ---------------------------------------------------------------
    def region_servers(self) -> list[dict]:
        """This region's alive servers, as Status.Servers answers a client."""
        if self.cluster is None:
            return []
        out = []
        for m in self.cluster.servers(self.config.region):
            t = m.tags
            out.append({"RPCAdvertiseAddr": f"{t.get('rpc_addr', m.addr)}:{t.get('port')}",
                        "HTTPAddr": t.get("http_addr", ""), "Datacenter": t.get("dc", ""),
                        "Region": t.get("region", "")})
        return out

    def region_http_addrs(self, region: str) -> list[str]:
        if self.cluster is None:   # a client-only agent asks its servers to forward
            return self.server_http_addrs()
        return [m.tags["http_addr"] for m in self.cluster.servers(region)
                if m.tags.get("http_addr")]

    def server_http_addrs(self) -> list[str]:
        if self.server is not None:
            return [self.config.advertise_addr("http")]
        return [s["HTTPAddr"] for s in self.known_servers if s.get("HTTPAddr")]

    def rpc_client_ssl(self):
        if not self.tls.rpc:
            return None
        if not hasattr(self, "_rpc_client_ssl"):
            self._rpc_client_ssl = tlsmod.rpc_client_context(self.tls)
        return self._rpc_client_ssl

    def rpc_server_hostname(self) -> str | None:
        if self.tls.rpc and self.tls.verify_server_hostname:
            return tlsmod.rpc_server_name(self.config.region)
        return None

    def http_client_ssl(self):
        if not self.tls.http:
            return None
        if not hasattr(self, "_http_client_ssl"):
            self._http_client_ssl = tlsmod.rpc_client_context(self.tls)
            self._http_client_ssl.check_hostname = False
        return self._http_client_ssl

    # -- a client's server list ----------------------------------------------------------
    async def keep_server_list(self, rpc) -> None:
        """Ask the servers for the region's servers now and then; the client uses the list
        it gets (and fails over along it), as Nomad's clients do with heartbeat replies."""
        while True:
            try:
                reply = await rpc.call("Status.Servers", {}, timeout_s=5)
                servers = [s for s in reply.get("Servers") or [] if s.get("RPCAdvertiseAddr")]
                if servers:
                    self.known_servers = servers
                    addrs = [s["RPCAdvertiseAddr"] for s in servers]
                    if set(addrs) != set(rpc.servers):
                        log.info("client: known servers are now %s", ", ".join(addrs))
                        rpc.servers = addrs
            except Exception as err:  # noqa: BLE001 - keep the list we have
                log.debug("refreshing the server list: %s", err)
            await asyncio.sleep(SERVER_LIST_REFRESH_S if self.known_servers else 1.0)
