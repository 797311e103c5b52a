"""The agent: wires a server and/or a client, the HTTP API and the RPC port together."""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import shutil
import tempfile
import time

from aiohttp import web

from .. import __version__
from ..http.app import http_app
from ..server import Server, ServerConfig
from ..server.rpc import rpc_app
from . import tls as tlsmod
from .cluster_agent import ClusterAgentMixin
from .config import AgentConfig, ConfigError

log = logging.getLogger("pynomad.agent")


class Agent(ClusterAgentMixin):
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.tls = tlsmod.settings(config.extra)
        self.server: Server | None = None
        self.cluster = None
        self.leave_on_stop = False
        self.client = None
        self._runners: list[web.AppRunner] = []
        self._tmp_dir: str | None = None
        self.started = time.time()

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        cfg, tls = self.config, self.tls
        # Build every TLS context first: a bad certificate stops the agent before it listens.
        http_ssl = tlsmod.http_server_context(tls) if tls.http else None
        rpc_ssl = tlsmod.rpc_server_context(tls) if tls.rpc else None
        if cfg.dev and not cfg.data_dir:
            self._tmp_dir = tempfile.mkdtemp(prefix="nomad-dev-")
        from ..http.forward import Forwarder
        from .rpc_forward import rpc_middleware

        self.forwarder = Forwarder(self)
        if cfg.server_enabled:
            await self._start_cluster()
            scfg = self._server_config()
            if self.uses_etcd():
                scfg.backend, scfg.backend_options = "etcd", await self.start_etcd()
            self.server = Server(scfg)
            await self.server.start()
            app = rpc_app(self.server)
            self._rpc_mw = rpc_middleware(self)
            app.middlewares.append(self._rpc_mw)
            await self._serve(app, cfg.bind("rpc"), cfg.ports["rpc"], rpc_ssl)
        await self._serve(http_app(self), cfg.bind("http"), cfg.ports["http"], http_ssl)
        if cfg.client_enabled:
            await self._start_client()

    async def _start_cluster(self) -> None:
        from .cluster import ServerCluster, server_node_id

        data_dir = None if self.config.dev else self.config.data_dir
        self.cluster = ServerCluster(self.config, server_node_id(data_dir), data_dir)
        await self.cluster.start()

    def _server_config(self) -> ServerConfig:
        cfg = self.config
        s = cfg.server
        sched = s.get("default_scheduler_config") or {}
        try:
            from ..structs.operator import config_from_agent

            algorithm = config_from_agent(sched).SchedulerAlgorithm
        except ValueError as err:
            raise ConfigError(f"server.{err}") from None
        return ServerConfig(
            region=cfg.region, datacenter=cfg.datacenter, node_name=f"{cfg.name}.{cfg.region}",
            data_dir=None if cfg.dev or not cfg.data_dir else cfg.data_dir,
            num_schedulers=int(s.get("num_schedulers", os.cpu_count() or 1)),
            bootstrap_expect=int(s.get("bootstrap_expect", 1)),
            min_heartbeat_ttl=_seconds(s.get("min_heartbeat_ttl", "10s")),
            heartbeat_grace=_seconds(s.get("heartbeat_grace", "10s")),
            max_heartbeats_per_second=float(s.get("max_heartbeats_per_second", 50)),
            scheduler_algorithm=algorithm,
            rpc_addr=cfg.rpc_advertise, serf_addr=cfg.advertise_addr("serf"),
            http_addr=cfg.advertise_addr("http"), default_scheduler_config=sched,
            acl_enabled=acl_enabled(cfg))

    async def _start_client(self) -> None:
        from ..client.client import Client
        from ..client.config import ClientConfig
        from ..client.rpc import RPCClient
        from ..drivers.catalog import builtin_drivers

        cfg, c = self.config, self.config.client
        data_dir = cfg.data_dir or self._tmp_dir
        servers = list(c.get("servers") or [])
        join = c.get("server_join") or {}
        if isinstance(join, list):
            join = join[0] if join else {}
        servers += [str(a) for a in (join.get("retry_join") or join.get("start_join") or [])
                    if str(a) not in servers]
        if not servers and self.server is not None:
            servers = [f"127.0.0.1:{cfg.ports['rpc']}" if cfg.bind("rpc") in ("0.0.0.0", "127.0.0.1")
                       else cfg.rpc_advertise]
        servers = [s if ":" in s else f"{s}:4647" for s in servers]
        meta = {str(k): str(v) for k, v in (c.get("meta") or {}).items()}
        options = {str(k): str(v) for k, v in (c.get("options") or {}).items()}
        volumes = {str(name): (str(v.get("path", "")), bool(v.get("read_only", False)))
                   for name, v in (c.get("host_volume") or {}).items()}
        ccfg = ClientConfig(
            data_dir=data_dir, servers=servers, name=cfg.name, datacenter=cfg.datacenter,
            region=cfg.region, node_class=str(c.get("node_class", "")),
            node_pool=str(c.get("node_pool", "default")), meta=meta, options=options,
            host_volumes=volumes,
            network_interface=str(c.get("network_interface", "")),
            http_addr=cfg.advertise_addr("http"), dev_mode=cfg.dev, state_fsync=not cfg.dev,
            cpu_total_compute=int(c.get("cpu_total_compute", 0)),
            memory_total_mb=int(c.get("memory_total_mb", 0)), tls_enabled=self.tls.http)
        raw_exec = cfg.dev or _plugin_enabled(cfg.extra.get("plugin"), "raw_exec") \
            or options.get("driver.raw_exec.enable") in ("1", "true")
        plugins = cfg.extra.get("plugin")
        chroot_env = c.get("chroot_env")
        try:
            drivers = builtin_drivers(
                raw_exec_enabled=raw_exec, mock=bool(c.get("mock_driver")),
                plugins=plugins if isinstance(plugins, dict) else None,
                chroot_env={str(k): str(v) for k, v in chroot_env.items()}
                if isinstance(chroot_env, dict) else None,
                cgroup_parent=str(c.get("cgroup_parent") or ""))
        except ValueError as err:
            raise ConfigError(str(err)) from None
        rpc = self._rpc_client(RPCClient, servers)
        self.client = Client(ccfg, rpc, drivers)
        await self.client.start()
        if self.server is None:
            self._server_list_task = asyncio.create_task(self.keep_server_list(rpc))

    def _rpc_client(self, cls, servers: list[str]):
        tls = self.tls
        if not tls.rpc:
            return cls(servers)
        name = tlsmod.rpc_server_name(self.config.region) if tls.verify_server_hostname else None
        return cls(servers, ssl_context=tlsmod.rpc_client_context(tls), server_hostname=name)

    async def _serve(self, app: web.Application, host: str, port: int, ssl_context=None) -> None:
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, reuse_address=True, backlog=4096,
                           ssl_context=ssl_context)
        await site.start()
        self._runners.append(runner)

    async def shutdown(self) -> None:
        task = getattr(self, "_server_list_task", None)
        if task is not None:
            task.cancel()
        if self.client is not None:
            await self.client.shutdown()
        for runner in reversed(self._runners):
            await runner.cleanup()
        if self.server is not None:
            await self.server.stop()
        if self.forwarder is not None:
            await self.forwarder.close()
        if getattr(self, "_rpc_mw", None) is not None:
            await self._rpc_mw.close()
        if self.etcd_cluster is not None:
            await self.etcd_cluster.stop()
        if self.cluster is not None:
            await self.cluster.stop(leave=self.leave_on_stop)
        if self._tmp_dir:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)

    # -- introspection for /v1/agent ----------------------------------------------------
    def member(self) -> dict:
        """This server's own gossip member, as /v1/agent/self shows it."""
        from ..server.gossip import member_json

        if self.cluster is None:
            return {}
        return member_json(self.cluster.gossip.membership.local)

    def client_servers(self) -> list[str]:
        if self.client is not None:
            return list(self.client.rpc.servers)
        return [self.config.rpc_advertise] if self.server else []

    def self_info(self) -> dict:
        cfg = self.config
        stats = {"nomad": {"server": str(self.server is not None).lower(),
                           "leader": str(bool(self.server and self.server.is_leader)).lower(),
                           "known_regions": "1", "bootstrap": "false"},
                 "runtime": {"version": platform.python_version(), "arch": platform.machine(),
                             "cpu_count": str(os.cpu_count())}}
        if self.cluster is not None:
            stats["serf"] = self.cluster.stats()
            stats["nomad"]["known_regions"] = str(len(self.cluster.regions()))
        if self.client is not None:
            stats["client"] = {"node_id": self.client.node_id, "known_servers": ",".join(cfg.client.get("servers") or [])}
        return {
            "config": {"Region": cfg.region, "Datacenter": cfg.datacenter, "NodeName": cfg.name,
                       "DataDir": cfg.data_dir, "BindAddr": cfg.bind_addr, "DevMode": cfg.dev,
                       "Version": {"Version": __version__, "VersionPrerelease": "",
                                   "Revision": ""},
                       "Ports": {"HTTP": cfg.ports["http"], "RPC": cfg.ports["rpc"],
                                 "Serf": cfg.ports["serf"]},
                       "Server": {"Enabled": self.server is not None},
                       "Client": {"Enabled": self.client is not None},
                       "ACL": {"Enabled": acl_enabled(cfg)},
                       "TLSConfig": self._tls_info()},
            "member": self.member(),
            "stats": stats,
        }

    def _tls_info(self) -> dict:
        t = self.tls
        return {"EnableHTTP": t.http, "EnableRPC": t.rpc, "CAFile": t.ca_file,
                "CertFile": t.cert_file, "KeyFile": t.key_file,
                "VerifyServerHostname": t.verify_server_hostname,
                "VerifyHTTPSClient": t.verify_https_client, "TLSMinVersion": t.tls_min_version}

    def metrics_gauges(self) -> dict[str, float]:
        out: dict[str, float] = {"nomad.runtime.alloc_bytes": float(_rss())}
        if self.server is not None:
            st = self.server.state
            b = self.server.broker.stats()
            out.update({"nomad.broker.total_ready": b["TotalReady"],
                        "nomad.broker.total_unacked": b["TotalUnacked"],
                        "nomad.broker.total_pending": b["TotalPending"],
                        "nomad.blocked_evals.total_blocked": len(self.server.blocked),
                        "nomad.state.jobs": len(st.jobs), "nomad.state.allocs": len(st.allocs),
                        "nomad.state.nodes": len(st.nodes),
                        "nomad.state.nodes_ready": sum(n.Status == "ready" for n in st.nodes.values()),
                        "nomad.state.evals": len(st.evals)})
        return out


def _rss() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except Exception:
        return 0


def _plugin_enabled(plugins, name: str) -> bool:
    if not isinstance(plugins, dict):
        return False
    conf = (plugins.get(name) or {}).get("config") or {}
    return bool(conf.get("enabled"))


def _seconds(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    from ..http.common import parse_duration_s

    return parse_duration_s(str(value))


async def run_agent(agent: Agent) -> int:
    """Start, then wait for SIGINT/SIGTERM; tasks keep running across agent restarts."""
    import signal

    from .memory import trim_loop, tune_gc

    tune_gc()
    trimmer = asyncio.create_task(trim_loop())
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    caught: list[int] = []

    def on_signal(sig: int) -> None:
        caught.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    await agent.start()
    print("==> Nomad agent started! Log data will stream in below:\n", flush=True)
    await stop.wait()
    interrupt = caught[0] == signal.SIGINT
    print(f"==> Caught signal: {'interrupt' if interrupt else 'terminated'}", flush=True)
    # Nomad's servers stay in the pool on a stop unless told otherwise
    agent.leave_on_stop = _truthy(agent.config.extra.get(
        "leave_on_interrupt" if interrupt else "leave_on_terminate"))
    trimmer.cancel()
    await agent.shutdown()
    return 0


def _truthy(value) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


def acl_enabled(cfg) -> bool:
    """The agent config's `acl { enabled = true }` (a block may decode as a list of dicts)."""
    block = cfg.extra.get("acl") or {}
    blocks = block if isinstance(block, list) else [block]
    enabled = False
    for b in blocks:
        if isinstance(b, dict) and "enabled" in b:
            value = b["enabled"]
            enabled = value if isinstance(value, bool) else str(value).lower() == "true"
    return enabled
