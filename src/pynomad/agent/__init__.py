"""`nomad agent`: flags and config files → a running Agent. Imports everything above it."""

from __future__ import annotations

import asyncio
import logging
import sys

from .config import (AgentConfig, ConfigError, apply, dev_config, load_paths,
                     startup_warnings)

AGENT_FLAGS = {
    "dev": "bool", "config": "list", "bind": "str", "data-dir": "str", "dc": "str",
    "region": "str", "node": "str", "log-level": "str", "log-json": "bool", "server": "bool",
    "client": "bool", "bootstrap-expect": "int", "servers": "str", "node-class": "str",
    "meta": "list", "network-interface": "str", "state-dir": "str", "alloc-dir": "str",
    "plugin-dir": "str", "join": "list", "retry-join": "list", "encrypt": "str",
    "acl-enabled": "bool", "consul-address": "str", "vault-enabled": "bool",
}


def build_config(args: list[str]) -> AgentConfig:
    from ..cli.flags import FlagError, parse

    try:
        flags, rest = parse(args, AGENT_FLAGS)
    except FlagError as err:
        raise ConfigError(str(err)) from None
    if rest:
        raise ConfigError(f"unexpected arguments: {' '.join(rest)}")
    cfg = dev_config() if flags["dev"] else AgentConfig()
    if flags["config"]:
        apply(cfg, load_paths(flags["config"]))
    _apply_flags(cfg, flags)
    if not cfg.dev and not cfg.server_enabled and not cfg.client_enabled:
        raise ConfigError("Must specify either server, client or dev mode for the agent.")
    if not cfg.dev and not cfg.data_dir:
        raise ConfigError("Must specify data directory")
    if not cfg.name:
        import socket

        cfg.name = socket.gethostname()
    from . import tls

    tls.validate(tls.settings(cfg.extra))
    return cfg


def _apply_flags(cfg: AgentConfig, flags: dict) -> None:
    simple = {"bind": "bind_addr", "data-dir": "data_dir", "dc": "datacenter",
              "region": "region", "node": "name", "log-level": "log_level"}
    for flag, attr in simple.items():
        if flags[flag]:
            setattr(cfg, attr, flags[flag])
    if flags["server"]:
        cfg.server["enabled"] = True
    if flags["client"]:
        cfg.client["enabled"] = True
    if flags["bootstrap-expect"]:
        cfg.server["bootstrap_expect"] = flags["bootstrap-expect"]
    if flags["encrypt"]:
        cfg.server["encrypt"] = flags["encrypt"]
    for flag, key in (("join", "start_join"), ("retry-join", "retry_join")):
        if flags[flag]:
            join = dict(_first_block(cfg.server.get("server_join")))
            join[key] = list(join.get(key) or []) + list(flags[flag])
            cfg.server["server_join"] = join
    if flags["servers"]:
        cfg.client["servers"] = [s.strip() for s in flags["servers"].split(",") if s.strip()]
    if flags["node-class"]:
        cfg.client["node_class"] = flags["node-class"]
    if flags["network-interface"]:
        cfg.client["network_interface"] = flags["network-interface"]
    for kv in flags["meta"]:
        k, _, v = kv.partition("=")
        cfg.client.setdefault("meta", {})[k] = v
    if flags.get("acl-enabled"):
        cfg.extra["acl"] = {**_first_block(cfg.extra.get("acl")), "enabled": True}


def _first_block(value) -> dict:
    if isinstance(value, list):
        value = value[0] if value else {}
    return dict(value) if isinstance(value, dict) else {}


def main(args: list[str]) -> int:
    try:
        cfg = build_config(args)
    except ConfigError as err:
        sys.stderr.write(f"==> Error loading configuration: {err}\n")
        return 1
    except OSError as err:
        sys.stderr.write(f"==> Error loading configuration: {err}\n")
        return 1
    _setup_logging(cfg)
    for warning in startup_warnings(cfg):
        print(f"==> Warning: {warning}", flush=True)
    _print_banner(cfg)
    from .agent import Agent, run_agent

    try:
        return asyncio.run(run_agent(Agent(cfg)))
    except ConfigError as err:
        sys.stderr.write(f"==> Error loading configuration: {err}\n")
        return 1
    except OSError as err:
        sys.stderr.write(f"==> Error starting agent: {err}\n")
        return 1


def _setup_logging(cfg: AgentConfig) -> None:
    level = getattr(logging, cfg.log_level.upper(), logging.INFO)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if cfg.log_file:
        try:
            handlers.append(logging.FileHandler(cfg.log_file))
        except OSError as err:
            sys.stderr.write(f"==> Warning: cannot open log_file {cfg.log_file}: {err}\n")
    logging.basicConfig(level=level, handlers=handlers,
                        format="    %(asctime)s.%(msecs)03dZ [%(levelname)s] %(name)s: %(message)s",
                        datefmt="%Y-%m-%dT%H:%M:%S")
    logging.getLogger("aiohttp").setLevel(logging.WARNING)


def _print_banner(cfg: AgentConfig) -> None:
    from .. import __version__

    if cfg.dev:
        print("==> No configuration files loaded")
    print("==> Starting Nomad agent...")
    print("==> Nomad agent configuration:\n")
    rows = [("Advertise Addrs", f"HTTP: {cfg.advertise_addr('http')}; RPC: {cfg.rpc_advertise}; "
             f"Serf: {cfg.advertise_addr('serf')}"),
            ("Bind Addrs", f"HTTP: [{cfg.bind('http')}:{cfg.ports['http']}]; RPC: "
             f"{cfg.bind('rpc')}:{cfg.ports['rpc']}; Serf: {cfg.bind('serf')}:{cfg.ports['serf']}"),
            ("Client", str(cfg.client_enabled).lower()), ("Log Level", cfg.log_level.upper()),
            ("Node Id", "(assigned at start)"), ("Region", f"{cfg.region} (DC: {cfg.datacenter})"),
            ("Server", str(cfg.server_enabled).lower()), ("Version", __version__)]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k.rjust(width + 7)}: {v}")
    print(flush=True)
