"""Fixtures for CLI tests: docs sample JSON, a fake Nomad HTTP API, and a CLI runner."""

from __future__ import annotations

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from pynomad.cli.main import main

API_DOCS = Path(__file__).resolve().parents[4] / "shared" / "reference/nomad-docs-v1.6.5/api-docs"


def doc_sample(filename: str, heading: str, index: int = 0) -> Any:
    """The ``index``-th JSON sample response under ``## heading`` in an api-docs page."""
    text = (API_DOCS / filename).read_text()
    start = text.index(f"## {heading}\n")
    nxt = text.find("\n## ", start + 3)
    section = text[start: nxt if nxt != -1 else len(text)]
    blocks = re.findall(r"### Sample Response\s*```json\n(.*?)```", section, re.S)
    return json.loads(blocks[index])


class FakeNomad:
    """A threaded HTTP server answering canned JSON for (method, path) routes."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[dict[str, list[str]], Any], tuple[int, Any, int]]] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]], Any, dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((self.command, parts.path, query, body, dict(self.headers)))
                handler = fake.routes.get((self.command, parts.path))
                if handler is None:
                    status, data, index = 404, "no route", 0
                else:
                    status, data, index = handler(query, body)
                raw = (data if isinstance(data, str) else json.dumps(data)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("X-Nomad-Index", str(index))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, method: str, path: str, data: Any = None, status: int = 200,
              index: int = 10, handler: Callable[..., tuple[int, Any, int]] | None = None) -> None:
        self.routes[(method, path)] = handler or (lambda q, b: (status, data, index))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_nomad(monkeypatch: pytest.MonkeyPatch):
    fake = FakeNomad()
    monkeypatch.setenv("NOMAD_ADDR", fake.address)
    yield fake
    fake.close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NOMAD_ADDR", "NOMAD_REGION", "NOMAD_NAMESPACE", "NOMAD_TOKEN",
                "NOMAD_CLI_FORCE_COLOR", "NOMAD_CACERT", "NOMAD_SKIP_VERIFY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NOMAD_CLI_NO_COLOR", "1")
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run ``nomad <args>`` in-process; return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
