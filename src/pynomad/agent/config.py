"""Agent configuration: HCL or JSON files, merged in order, plus command-line flags.

Files in a directory are merged in lexical order; later values win, blocks merge key by key.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

from .config_schema import ROOT, SCHEMA

KNOWN_TOP_LEVEL = set(SCHEMA[ROOT])


class ConfigError(Exception):
    """The agent configuration cannot be used; the message says where and why."""


@dataclass
class AgentConfig:
    name: str = ""
    region: str = "global"
    datacenter: str = "dc1"
    data_dir: str = ""
    bind_addr: str = "0.0.0.0"
    log_level: str = "INFO"
    log_file: str = ""
    dev: bool = False
    ports: dict[str, int] = field(default_factory=lambda: {"http": 4646, "rpc": 4647, "serf": 4648})
    addresses: dict[str, str] = field(default_factory=dict)
    advertise: dict[str, str] = field(default_factory=dict)
    server: dict[str, Any] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # problems found while loading the files that do not stop the agent
    load_warnings: list[str] = field(default_factory=list)

    @property
    def server_enabled(self) -> bool:
        return bool(self.server.get("enabled"))

    @property
    def client_enabled(self) -> bool:
        return bool(self.client.get("enabled"))

    def bind(self, kind: str) -> str:
        return self.addresses.get(kind) or self.bind_addr

    def advertise_addr(self, kind: str) -> str:
        if self.advertise.get(kind):
            addr = self.advertise[kind]
            return addr if ":" in addr else f"{addr}:{self.ports[kind]}"
        host = self.bind(kind)
        if host in ("0.0.0.0", "::", ""):
            host = _first_private_ip()
        return f"{host}:{self.ports[kind]}"

    @property
    def rpc_advertise(self) -> str:
        return self.advertise_addr("rpc")


def dev_config() -> AgentConfig:
    return AgentConfig(name=socket.gethostname(), bind_addr="127.0.0.1", dev=True,
                       log_level="DEBUG", server={"enabled": True, "bootstrap_expect": 1},
                       client={"enabled": True})


def _first_private_ip() -> str:
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(("10.255.255.255", 1))
        ip = s.getsockname()[0]
        s.close()
        return ip
    except OSError:
        return "127.0.0.1"


def load_paths(paths: list[str]) -> dict[str, Any]:
    """Read every file (or a directory's *.hcl/*.json, lexically) and merge them in order.

    Later files win; blocks merge key by key, as Nomad's ``Config.Merge`` does.
    Raises ConfigError naming ``file:line:col`` for syntax errors, unknown keys and
    wrongly typed values.
    """
    from .config_load import WARNINGS_KEY

    merged: dict[str, Any] = {}
    warnings: list[str] = []
    for path in paths:
        for f in config_files(path):
            data = load_file(f)
            warnings += data.pop(WARNINGS_KEY, [])
            merged = merge(merged, data)
    if warnings:
        merged[WARNINGS_KEY] = warnings
    return merged


def config_files(path: str) -> list[str]:
    """The files ``-config path`` names: the file itself, or a directory's config files."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path)
                       if n.endswith((".hcl", ".json")) and not n.startswith(".")
                       and os.path.isfile(os.path.join(path, n)))
        return [os.path.join(path, n) for n in names]
    if os.path.exists(path):
        return [path]
    raise ConfigError(f"Error loading configuration from {path}: stat {path}: "
                      "no such file or directory")


def load_file(path: str) -> dict[str, Any]:
    """One file → its checked settings (ConfigError lists each problem with its position)."""
    from .config_load import ConfigFileError, parse_text

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"Error loading configuration from {path}: {err}") from None
    try:
        return parse_text(text, path)
    except ConfigFileError as err:
        raise ConfigError(f"Error loading configuration from {path}:\n"
                          + "\n".join(f"  * {p}" for p in err.problems)) from None


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def apply(cfg: AgentConfig, data: dict[str, Any]) -> AgentConfig:
    """Overlay loaded settings (``load_paths`` output) on ``cfg``; returns ``cfg``."""
    from .config_load import WARNINGS_KEY

    data = dict(data)
    cfg.load_warnings += data.pop(WARNINGS_KEY, [])
    for key in ("name", "region", "datacenter", "data_dir", "bind_addr", "log_level", "log_file"):
        if key in data:
            setattr(cfg, key, str(data[key]))
    for key in ("ports", "addresses", "advertise", "server", "client"):
        if key in data:
            if not isinstance(data[key], dict):
                raise ConfigError(f"{key} must be a block")
            setattr(cfg, key, merge(getattr(cfg, key), data[key]))
    cfg.ports = {k: int(v) for k, v in cfg.ports.items()}
    cfg.extra = merge(cfg.extra, {k: v for k, v in data.items()
                                  if k not in {"ports", "addresses", "advertise", "server", "client"}})
    return cfg


def startup_warnings(cfg: AgentConfig) -> list[str]:
    """Warnings to print before the agent starts (missing certificate files...)."""
    from .config_check import startup_warnings as _check

    return list(cfg.load_warnings) + _check(cfg)
