"""/v1/agent/monitor: stream the agent's log lines (Nomad's "Stream Logs").

Query: `log_level` (trace, debug, info, warn, error; default info), `log_json`,
`log_include_location`, `plain`. A logging handler is attached to the root logger for the
duration of the request; when the request asks for more detail than the agent logs, the
root level is lowered meanwhile and the agent's own handlers keep their previous level.
Frames are StreamFrames `{"Data": base64}` (`{}` heartbeats), or raw text with `plain=true`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time

from aiohttp import web

from ...server.errors import BadRequest

LEVELS = {"trace": logging.DEBUG, "debug": logging.DEBUG, "info": logging.INFO,
          "warn": logging.WARNING, "warning": logging.WARNING, "error": logging.ERROR}
NAMES = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN",
         logging.ERROR: "ERROR", logging.CRITICAL: "ERROR"}
QUEUE_MAX = 512
HEARTBEAT_S = 10.0


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/agent/monitor")
    async def monitor(request):
        q = request.query
        level_name = (q.get("log_level") or "info").lower()
        if level_name not in LEVELS:
            raise BadRequest(f"Unknown log level: {q.get('log_level')}")
        as_json = _flag(q.get("log_json"))
        location = _flag(q.get("log_include_location"))
        plain = _flag(q.get("plain"))
        resp = web.StreamResponse(headers={"Content-Type": "text/plain" if plain
                                           else "application/json"})
        await resp.prepare(request)
        handler = QueueHandler(asyncio.get_running_loop(), as_json, location)
        handler.setLevel(LEVELS[level_name])
        with attached(handler):
            await _pump(request, resp, handler, plain)
        return resp


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "t")


async def _pump(request: web.Request, resp: web.StreamResponse, handler: "QueueHandler",
                plain: bool) -> None:
    try:
        while True:
            try:
                line = await asyncio.wait_for(handler.queue.get(), HEARTBEAT_S)
            except asyncio.TimeoutError:
                if not plain:
                    await resp.write(b"{}")
                elif request.transport is None or request.transport.is_closing():
                    return
                continue
            if handler.dropped:
                dropped, handler.dropped = handler.dropped, 0
                line = f"[WARN] Monitor dropped {dropped} logs during monitor request\n" + line
            data = line.encode()
            await resp.write(data if plain else
                             json.dumps({"Data": base64.b64encode(data).decode()}).encode())
    except (ConnectionError, RuntimeError):
        return


class QueueHandler(logging.Handler):
    """Formats records Nomad-style and hands them to an asyncio queue (thread-safe)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, as_json: bool, location: bool):
        super().__init__()
        self.loop = loop
        self.as_json = as_json
        self.location = location
        self.queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_MAX)
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.render(record)
            self.loop.call_soon_threadsafe(self._put, line)
        except RuntimeError:        # the loop is closed
            pass
        except Exception:  # noqa: BLE001 - a log line must never break the caller
            self.handleError(record)

    def _put(self, line: str) -> None:
        try:
            self.queue.put_nowait(line)
        except asyncio.QueueFull:
            self.dropped += 1

    def render(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        ts += f".{int(record.msecs):03d}Z"
        level = NAMES.get(record.levelno, record.levelname)
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
        if self.as_json:
            doc = {"@level": level.lower(), "@message": message, "@module": record.name,
                   "@timestamp": ts}
            if self.location:
                doc["@caller"] = f"{record.pathname}:{record.lineno}"
            return json.dumps(doc) + "\n"
        where = f" {record.filename}:{record.lineno}:" if self.location else ""
        return f"{ts} [{level}]{' ' * (6 - len(level))}{where}{record.name}: {message}\n"


class attached:
    """Attach a handler to the root logger, lowering the root level if it needs more."""

    _active: list[QueueHandler] = []
    _saved: tuple[int, dict[logging.Handler, int]] | None = None

    def __init__(self, handler: QueueHandler):
        self.handler = handler

    def __enter__(self) -> QueueHandler:
        root = logging.getLogger()
        cls = attached
        if cls._saved is None:
            cls._saved = (root.level, {})
        old_level, pinned = cls._saved
        for h in root.handlers:
            if h not in pinned and not isinstance(h, QueueHandler):
                pinned[h] = h.level
                if h.level < old_level:
                    h.setLevel(old_level)
        cls._active.append(self.handler)
        root.addHandler(self.handler)
        root.setLevel(min([old_level] + [h.level for h in cls._active]))
        return self.handler

    def __exit__(self, *exc) -> None:
        root = logging.getLogger()
        cls = attached
        root.removeHandler(self.handler)
        cls._active.remove(self.handler)
        assert cls._saved is not None
        old_level, pinned = cls._saved
        if cls._active:
            root.setLevel(min([old_level] + [h.level for h in cls._active]))
            return
        root.setLevel(old_level)
        for h, level in pinned.items():
            h.setLevel(level)
        cls._saved = None
