"""The agent's `tls { ... }` block → SSL contexts for the HTTP API and the RPC port.

Every TLS context the agent uses is built here:

* :func:`http_server_context` — HTTPS on the HTTP port (`tls.http`); client certificates
  signed by `ca_file` are required when `verify_https_client` is set.
* :func:`rpc_server_context` — mTLS on the RPC port (`tls.rpc`): peers must present a
  certificate signed by `ca_file`.
* :func:`rpc_client_context` — the client agent's side of the RPC port: presents the
  agent's certificate and verifies the server's against `ca_file`; with
  `verify_server_hostname` the server's certificate must be for ``server.<region>.nomad``
  (:func:`rpc_server_name`).

Unusable settings (a missing or unreadable file, a key that does not match its
certificate) raise :class:`~pynomad.agent.config.ConfigError` naming the file.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from typing import Any

from .config import ConfigError

_VERSIONS = {"tls10": ssl.TLSVersion.TLSv1, "tls11": ssl.TLSVersion.TLSv1_1,
             "tls12": ssl.TLSVersion.TLSv1_2, "tls13": ssl.TLSVersion.TLSv1_3}


@dataclass(frozen=True)
class TLSSettings:
    http: bool = False
    rpc: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    verify_server_hostname: bool = False
    verify_https_client: bool = False
    tls_min_version: str = "tls12"

    @property
    def enabled(self) -> bool:
        return self.http or self.rpc


def settings(extra: dict[str, Any] | None) -> TLSSettings:
    """The `tls` block of the agent configuration's extra settings (a block may be a list)."""
    block = (extra or {}).get("tls") or {}
    blocks = block if isinstance(block, list) else [block]
    merged: dict[str, Any] = {}
    for b in blocks:
        if isinstance(b, dict):
            merged.update(b)
    return TLSSettings(
        http=_bool(merged.get("http")), rpc=_bool(merged.get("rpc")),
        ca_file=str(merged.get("ca_file") or ""), cert_file=str(merged.get("cert_file") or ""),
        key_file=str(merged.get("key_file") or ""),
        verify_server_hostname=_bool(merged.get("verify_server_hostname")),
        verify_https_client=_bool(merged.get("verify_https_client")),
        tls_min_version=str(merged.get("tls_min_version") or "tls12").lower())


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() in ("true", "1")


def rpc_server_name(region: str) -> str:
    """The name a server certificate must hold when `verify_server_hostname` is set."""
    return f"server.{region}.nomad"


def validate(tls: TLSSettings) -> None:
    """Fail early (before anything listens) when enabled TLS cannot be set up."""
    if tls.http:
        http_server_context(tls)
    if tls.rpc:
        rpc_server_context(tls)


def http_server_context(tls: TLSSettings) -> ssl.SSLContext:
    ctx = _server_context(tls, "http")
    if tls.verify_https_client:
        _require_file(tls.ca_file, "tls.ca_file", "verify_https_client")
        _load_ca(ctx, tls.ca_file)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def rpc_server_context(tls: TLSSettings) -> ssl.SSLContext:
    ctx = _server_context(tls, "rpc")
    _require_file(tls.ca_file, "tls.ca_file", "rpc")
    _load_ca(ctx, tls.ca_file)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def rpc_client_context(tls: TLSSettings) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = _min_version(tls)
    _require_file(tls.ca_file, "tls.ca_file", "rpc")
    _load_ca(ctx, tls.ca_file)
    _load_pair(ctx, tls, "rpc")
    ctx.verify_mode = ssl.CERT_REQUIRED
    # The chain is always verified; the name only with verify_server_hostname, and then
    # against server.<region>.nomad (passed as server_hostname by the RPC client).
    ctx.check_hostname = tls.verify_server_hostname
    return ctx


def _server_context(tls: TLSSettings, kind: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = _min_version(tls)
    _load_pair(ctx, tls, kind)
    return ctx


def _min_version(tls: TLSSettings) -> ssl.TLSVersion:
    try:
        return _VERSIONS[tls.tls_min_version]
    except KeyError:
        raise ConfigError(f"tls.tls_min_version: unknown TLS version {tls.tls_min_version!r} "
                          f"(one of {', '.join(_VERSIONS)})") from None


def _require_file(path: str, key: str, kind: str) -> None:
    if not path:
        raise ConfigError(f"{key} is required when tls.{kind} is enabled")
    if not os.path.isfile(path):
        raise ConfigError(f"{key}: open {path}: no such file or directory")
    if not os.access(path, os.R_OK):
        raise ConfigError(f"{key}: open {path}: permission denied")


def _load_ca(ctx: ssl.SSLContext, path: str) -> None:
    try:
        ctx.load_verify_locations(cafile=path)
    except (ssl.SSLError, OSError, ValueError) as err:
        raise ConfigError(f"tls.ca_file: failed to load CA file {path}: "
                          f"{_reason(err)}") from None


def _load_pair(ctx: ssl.SSLContext, tls: TLSSettings, kind: str) -> None:
    _require_file(tls.cert_file, "tls.cert_file", kind)
    _require_file(tls.key_file, "tls.key_file", kind)
    try:
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
    except (ssl.SSLError, OSError, ValueError) as err:
        raise ConfigError(f"tls.cert_file/tls.key_file: failed to load cert {tls.cert_file} "
                          f"with key {tls.key_file}: {_reason(err)}") from None


def _reason(err: BaseException) -> str:
    if isinstance(err, ssl.SSLError) and err.reason:
        return err.reason.lower().replace("_", " ")
    return str(getattr(err, "strerror", None) or err)
