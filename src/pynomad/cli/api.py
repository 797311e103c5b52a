"""A minimal synchronous client for Nomad's ``/v1`` HTTP API, built on ``http.client``.

Kept dependency-free (no aiohttp) so that ``nomad`` starts quickly. Errors are
raised as :class:`APIError` with Go's wording so that commands can print them
verbatim, e.g. ``Unexpected response code: 404 (job not found)`` or
``Get "http://127.0.0.1:4646/v1/jobs": dial tcp 127.0.0.1:4646: connect:
connection refused``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

DEFAULT_ADDRESS = "http://127.0.0.1:4646"


def path_id(value: str) -> str:
    """An ID as one URL path segment (job IDs may hold `/`, e.g. dispatched children)."""
    return quote(value, safe="")


class APIError(Exception):
    """An API request failed; ``str(err)`` is the Go client's error text."""

    def __init__(self, message: str, status: int = 0, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass
class QueryMeta:
    """Response metadata from the ``X-Nomad-*`` headers."""

    last_index: int = 0
    known_leader: bool = False
    next_token: str = ""


@dataclass
class Config:
    """Connection settings: flags override the ``NOMAD_*`` environment variables."""

    address: str = DEFAULT_ADDRESS
    region: str = ""
    namespace: str = ""
    token: str = ""
    ca_cert: str = ""
    ca_path: str = ""
    client_cert: str = ""
    client_key: str = ""
    tls_server_name: str = ""
    insecure: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Config":
        env = os.environ
        return cls(
            address=env.get("NOMAD_ADDR") or DEFAULT_ADDRESS,
            region=env.get("NOMAD_REGION", ""),
            namespace=env.get("NOMAD_NAMESPACE", ""),
            token=env.get("NOMAD_TOKEN", ""),
            ca_cert=env.get("NOMAD_CACERT", ""),
            ca_path=env.get("NOMAD_CAPATH", ""),
            client_cert=env.get("NOMAD_CLIENT_CERT", ""),
            client_key=env.get("NOMAD_CLIENT_KEY", ""),
            tls_server_name=env.get("NOMAD_TLS_SERVER_NAME", ""),
            insecure=env.get("NOMAD_SKIP_VERIFY", "").lower() in ("1", "true", "t"),
        )


class Client:
    """Issues requests against one agent, reusing a keep-alive connection."""

    def __init__(self, config: Config) -> None:
        self.config = config
        address = config.address if "://" in config.address else "http://" + config.address
        parts = urlsplit(address)
        self.scheme = parts.scheme or "http"
        self.host = parts.hostname or "127.0.0.1"
        default_port = 443 if self.scheme == "https" else 4646
        try:
            self.port = parts.port or default_port
        except ValueError:
            raise APIError(f"invalid address {config.address!r}") from None
        self.base = f"{self.scheme}://{parts.netloc}"
        self._conn: http.client.HTTPConnection | None = None
        # Built up front so that a bad CA or client certificate is reported once, clearly.
        self._ssl = self._ssl_context() if self.scheme == "https" else None

    # ------------------------------------------------------------------ #
    # public helpers
    # ------------------------------------------------------------------ #

    def get(self, path: str, params: dict[str, Any] | None = None,
            namespace: str | None = None) -> tuple[Any, QueryMeta]:
        return self.request("GET", path, params=params, namespace=namespace)

    def put(self, path: str, body: Any = None, params: dict[str, Any] | None = None,
            namespace: str | None = None) -> tuple[Any, QueryMeta]:
        return self.request("PUT", path, body=body, params=params, namespace=namespace)

    def post(self, path: str, body: Any = None, params: dict[str, Any] | None = None,
             namespace: str | None = None) -> tuple[Any, QueryMeta]:
        return self.request("POST", path, body=body, params=params, namespace=namespace)

    def delete(self, path: str, params: dict[str, Any] | None = None,
               namespace: str | None = None) -> tuple[Any, QueryMeta]:
        return self.request("DELETE", path, params=params, namespace=namespace)

    def set_region(self, region: str) -> None:
        self.config.region = region

    def set_namespace(self, namespace: str) -> None:
        self.config.namespace = namespace

    def request(self, method: str, path: str, body: Any = None,
                params: dict[str, Any] | None = None,
                namespace: str | None = None) -> tuple[Any, QueryMeta]:
        """Send one request and decode the JSON response."""
        resp = self.open(method, path, body=body, params=params, namespace=namespace)
        try:
            raw = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise APIError(f"{method.title()} {_q(self.url(path))}: {_describe(exc)}") from None
        meta = _meta(resp)
        if not raw.strip():
            return None, meta
        try:
            return json.loads(raw), meta
        except ValueError:
            raise APIError(f"error decoding response: invalid JSON from {path}") from None

    def open(self, method: str, path: str, body: Any = None,
             params: dict[str, Any] | None = None, namespace: str | None = None,
             stream: bool = False) -> http.client.HTTPResponse:
        """Send a request and return the raw response once it is known to be 2xx."""
        url = self._target(path, params, namespace)
        payload = None if body is None else json.dumps(body).encode()
        headers = {"User-Agent": "pynomad-cli", "Accept-Encoding": "identity"}
        headers.update(self.config.headers)
        if self.config.token:
            headers["X-Nomad-Token"] = self.config.token
        if payload is not None:
            headers["Content-Type"] = "application/json"
        resp = self._send(method, url, payload, headers, stream)
        if resp.status // 100 != 2:
            text = resp.read().decode("utf-8", "replace").rstrip("\n")
            raise APIError(f"Unexpected response code: {resp.status} ({text})", resp.status, text)
        return resp

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ #
    # internals
    # ------------------------------------------------------------------ #

    def _target(self, path: str, params: dict[str, Any] | None, namespace: str | None) -> str:
        query: dict[str, Any] = {}
        if self.config.region:
            query["region"] = self.config.region
        ns = namespace if namespace is not None else self.config.namespace
        if ns:
            query["namespace"] = ns
        for key, value in (params or {}).items():
            if value is None or value is False or value == "":
                continue
            if isinstance(value, (list, tuple)):
                query[key] = [str(v) for v in value]   # repeated: ?address=a&address=b
            else:
                query[key] = "true" if value is True else str(value)
        return path + ("?" + urlencode(query, doseq=True, quote_via=quote) if query else "")

    def _connection(self, stream: bool) -> http.client.HTTPConnection:
        if stream or self._conn is None:
            if self.scheme == "https":
                conn: http.client.HTTPConnection = _HTTPSConnection(
                    self.host, self.port, context=self._ssl,
                    server_name=self.config.tls_server_name)
            else:
                conn = http.client.HTTPConnection(self.host, self.port)
            if stream:
                return conn
            self._conn = conn
        return self._conn

    def _send(self, method: str, url: str, payload: bytes | None,
              headers: dict[str, str], stream: bool) -> http.client.HTTPResponse:
        for attempt in (0, 1):
            reused = self._conn is not None and not stream
            conn = self._connection(stream)
            try:
                conn.request(method, url, body=payload, headers=headers)
                return conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if reused and attempt == 0:
                    continue
                raise APIError(f"{method.title()} {_q(self.base + url)}: {_describe(exc)}") from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise APIError(f"{method.title()} {_q(self.base + url)}: "
                               f"{self._dial_error(exc)}") from None
        raise AssertionError("unreachable")

    def _dial_error(self, exc: BaseException) -> str:
        if isinstance(exc, ssl.SSLError):
            return _tls_error(exc)
        if isinstance(exc, (ConnectionRefusedError, socket.gaierror, TimeoutError)) or (
                isinstance(exc, OSError) and exc.errno is not None):
            return f"dial tcp {self.host}:{self.port}: connect: {_describe(exc)}"
        return _describe(exc)

    def _ssl_context(self) -> ssl.SSLContext:
        """CA, client certificate and verification settings → one context (APIError if unusable)."""
        cfg = self.config
        for path, what in ((cfg.ca_cert, "CA file"), (cfg.client_cert, "client cert"),
                           (cfg.client_key, "client key")):
            if path and not os.path.isfile(path):
                raise APIError(f"failed to load {what}: open {path}: no such file or directory")
        if cfg.client_key and not cfg.client_cert:
            raise APIError("a client key needs a client cert (-client-cert)")
        try:
            ctx = ssl.create_default_context(cafile=cfg.ca_cert or None,
                                             capath=cfg.ca_path or None)
        except (ssl.SSLError, OSError) as exc:
            raise APIError(f"failed to load CA file {cfg.ca_cert or cfg.ca_path}: "
                           f"{_ssl_reason(exc)}") from None
        if cfg.client_cert:
            try:
                ctx.load_cert_chain(cfg.client_cert, cfg.client_key or None)
            except (ssl.SSLError, OSError) as exc:
                raise APIError(f"failed to load client cert {cfg.client_cert}"
                               + (f" with key {cfg.client_key}" if cfg.client_key else "")
                               + f": {_ssl_reason(exc)}") from None
        if cfg.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx


class _HTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection that can verify the server as another name (-tls-server-name)."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None,
                 server_name: str = "") -> None:
        super().__init__(host, port, context=context)
        self._ctx = context
        self._server_name = server_name

    def connect(self) -> None:
        if not self._server_name or self._ctx is None:
            super().connect()
            return
        http.client.HTTPConnection.connect(self)
        self.sock = self._ctx.wrap_socket(self.sock, server_hostname=self._server_name)


def _ssl_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.lower().replace("_", " ")
    return (getattr(exc, "strerror", None) or str(exc)).lower()


def _tls_error(exc: ssl.SSLError) -> str:
    """Go's wording for a failed TLS handshake."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"tls: failed to verify certificate: {exc.verify_message or _ssl_reason(exc)}"
    return f"remote error: tls: {_ssl_reason(exc)}"


def _q(text: str) -> str:
    return '"' + text + '"'


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"lookup failed: {exc.strerror or exc}"
    if isinstance(exc, TimeoutError):
        return "i/o timeout"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "EOF"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or exc.__class__.__name__


def _meta(resp: http.client.HTTPResponse) -> QueryMeta:
    meta = QueryMeta()
    try:
        meta.last_index = int(resp.getheader("X-Nomad-Index") or 0)
    except ValueError:
        meta.last_index = 0
    meta.known_leader = (resp.getheader("X-Nomad-KnownLeader") or "") == "true"
    meta.next_token = resp.getheader("X-Nomad-NextToken") or ""
    return meta
