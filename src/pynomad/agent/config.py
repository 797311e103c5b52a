"""Agent configuration: HCL or JSON files, merged in order, plus command-line flags.

Files in a directory are merged in lexical order; later values win, blocks merge key by key.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass, field
from typing import Any

KNOWN_TOP_LEVEL = {
    "name", "region", "datacenter", "data_dir", "plugin_dir", "bind_addr", "log_level",
    "log_json", "log_file", "log_rotate_bytes", "log_rotate_duration", "log_rotate_max_files",
    "log_include_location", "enable_debug", "enable_syslog", "syslog_facility",
    "disable_update_check", "disable_anonymous_signature", "leave_on_interrupt",
    "leave_on_terminate", "http_api_response_headers", "advertise", "addresses", "ports",
    "server", "client", "acl", "tls", "telemetry", "consul", "vault", "autopilot", "limits",
    "ui", "plugin", "audit", "sentinel", "reporting", "keyring",
}


class ConfigError(Exception):
    pass


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
    """Read every file (or directory's *.hcl/*.json, lexically) and merge them."""
    merged: dict[str, Any] = {}
    for path in paths:
        if os.path.isdir(path):
            files = sorted(os.path.join(path, n) for n in os.listdir(path)
                           if n.endswith((".hcl", ".json")))
        elif os.path.exists(path):
            files = [path]
        else:
            raise ConfigError(f"Error loading configuration from {path}: no such file or directory")
        for f in files:
            merged = merge(merged, load_file(f))
    return merged


def load_file(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path}:{err.lineno}:{err.colno}: {err.msg}") from None
    else:
        import hcl2

        try:
            data = _unwrap(hcl2.loads(text))
        except Exception as err:  # python-hcl2 raises lark errors with positions
            raise ConfigError(f"{path}: {_first_line(err)}") from None
    unknown = sorted(set(data) - KNOWN_TOP_LEVEL)
    if unknown:
        raise ConfigError(f"{path}: unexpected keys {', '.join(unknown)}")
    return data


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _unwrap(value: Any) -> Any:
    """python-hcl2's raw shapes → plain values: quoted strings unquoted, blocks merged."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        if value and all(_is_block(v) for v in value):
            out: dict[str, Any] = {}
            for v in value:
                out = merge(out, _unwrap(v))
            return out
        return [_unwrap(v) for v in value]
    if isinstance(value, dict):
        return {_unwrap(k): _unwrap(v) for k, v in value.items() if k != "__is_block__"}
    return value


def _is_block(v: Any) -> bool:
    """A block, or a labelled block (`plugin "raw_exec" {}` → {'"raw_exec"': {block}})."""
    if not isinstance(v, dict):
        return False
    if v.get("__is_block__"):
        return True
    return len(v) == 1 and _is_block(next(iter(v.values())))


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def apply(cfg: AgentConfig, data: dict[str, Any]) -> AgentConfig:
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
