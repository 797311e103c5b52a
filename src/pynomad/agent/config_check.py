"""Start-up checks of a loaded agent configuration that are worth a warning, not a crash.

:func:`startup_warnings` names each file or directory the configuration points
to that is missing or unusable (TLS certificates, log file, host volumes...)
and each setting pynomad accepts but ignores (Enterprise-only ones), so the agent
can print them as ``==> Warning: ...`` lines at start-up.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

# (block, key) pairs holding a path to an existing file.
_FILE_KEYS = (("tls", "ca_file"), ("tls", "cert_file"), ("tls", "key_file"),
              ("consul", "ca_file"), ("consul", "cert_file"), ("consul", "key_file"),
              ("consul", "grpc_ca_file"), ("vault", "ca_file"), ("vault", "cert_file"),
              ("vault", "key_file"))
_ENTERPRISE = (("server", "license_path"), ("server", "redundancy_zone"),
               ("server", "non_voting_server"), ("server", "upgrade_version"),
               ("autopilot", "enable_redundancy_zones"), ("autopilot", "disable_upgrade_migration"),
               ("autopilot", "enable_custom_upgrades"))


def startup_warnings(cfg: Any) -> list[str]:
    """Every problem worth telling the operator about before the agent starts."""
    blocks = {"server": cfg.server, "client": cfg.client, **(cfg.extra or {})}
    warnings = list(_missing_files(blocks))
    warnings += list(_tls_warnings(blocks.get("tls") or {}))
    warnings += list(_path_warnings(cfg))
    warnings += list(_enterprise_warnings(blocks))
    return warnings


def _get(blocks: dict[str, Any], block: str, key: str) -> Any:
    section = blocks.get(block)
    return section.get(key) if isinstance(section, dict) else None


def _missing_files(blocks: dict[str, Any]) -> Iterator[str]:
    for block, key in _FILE_KEYS:
        path = _get(blocks, block, key)
        if path and not os.path.isfile(str(path)):
            yield f"{block}.{key}: file {path} does not exist"
    ca_path = _get(blocks, "vault", "ca_path")
    if ca_path and not os.path.isdir(str(ca_path)):
        yield f"vault.ca_path: directory {ca_path} does not exist"


def _tls_warnings(tls: dict[str, Any]) -> Iterator[str]:
    for kind in ("http", "rpc"):
        if not tls.get(kind):
            continue
        missing = [k for k in ("cert_file", "key_file")
                   if not tls.get(k) or not os.path.isfile(str(tls[k]))]
        if missing:
            yield (f"tls.{kind} is enabled but {' and '.join('tls.' + m for m in missing)} "
                   f"{'is' if len(missing) == 1 else 'are'} missing: {kind.upper()} TLS cannot be used")


def _path_warnings(cfg: Any) -> Iterator[str]:
    if cfg.log_file:
        parent = os.path.dirname(os.path.abspath(cfg.log_file))
        if not os.path.isdir(parent):
            yield f"log_file: directory {parent} does not exist; logging to stdout only"
        elif not os.access(parent, os.W_OK):
            yield f"log_file: directory {parent} is not writable; logging to stdout only"
    if cfg.data_dir and not cfg.dev:
        existing = _existing_ancestor(cfg.data_dir)
        if not os.path.isdir(cfg.data_dir) and not os.access(existing, os.W_OK):
            yield (f"data_dir: {cfg.data_dir} does not exist and cannot be created "
                   f"({existing} is not writable)")
        elif os.path.isdir(cfg.data_dir) and not os.access(cfg.data_dir, os.W_OK):
            yield f"data_dir: {cfg.data_dir} is not writable"
    plugin_dir = (cfg.extra or {}).get("plugin_dir")
    if plugin_dir and not os.path.isdir(str(plugin_dir)):
        yield f"plugin_dir: directory {plugin_dir} does not exist"
    for name, vol in sorted(((cfg.client or {}).get("host_volume") or {}).items()):
        path = vol.get("path") if isinstance(vol, dict) else None
        if not path:
            yield f'client.host_volume "{name}": missing path'
        elif not os.path.exists(str(path)):
            yield f'client.host_volume "{name}": path {path} does not exist'


def _existing_ancestor(path: str) -> str:
    current = os.path.abspath(path)
    while not os.path.exists(current):
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return current


def _enterprise_warnings(blocks: dict[str, Any]) -> Iterator[str]:
    for block, key in _ENTERPRISE:
        if _get(blocks, block, key) not in (None, "", False):
            yield f"{block}.{key} is a Nomad Enterprise setting; ignored"
    for block in ("sentinel", "audit"):
        if blocks.get(block):
            yield f"the {block} block is a Nomad Enterprise feature; ignored"
