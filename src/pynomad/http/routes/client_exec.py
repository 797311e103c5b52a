"""/v1/client/allocation/:alloc_id/exec: `nomad alloc exec` over a WebSocket.

Query: `task`, `command` (a JSON array of strings), `tty` (bool), `ws_handshake` (the first
frame then carries `{"version":1,"auth_token":...}`). Bad requests are refused with a plain
HTTP error before the upgrade (404 unknown allocation/task or task not running, 400 missing
task/command). Then frames are JSON text messages, as in Nomad:

  client → agent: {"stdin":{"data":b64}}, {"stdin":{"close":true}},
                  {"tty_size":{"height":h,"width":w}}, {} (heartbeat)
  agent → client: {"stdout":{"data":b64}}, {"stderr":{"data":b64}},
                  {"stdout":{"close":true}}, {"stderr":{"close":true}},
                  {"exited":true,"result":{"exit_code":N}}

A failure after the upgrade closes the socket with code 1008 (policy violation) and the
error text as reason; 1011 for an internal error. The client leaving kills the command.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging

from aiohttp import WSCloseCode, WSMsgType, web

from ...client.driver import DriverError, ExecOptions
from ...server.errors import BadRequest, NotFound
from ..common import AGENT

log = logging.getLogger("pynomad.http.exec")
CLOSE_REASON_MAX = 120          # a close frame's reason is at most 123 bytes
HEARTBEAT_S = 10.0


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/client/allocation/{alloc}/exec")
    async def alloc_exec(request):
        tr, command, tty = _validate(request)
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        await ExecSession(ws, tr, command, tty).run(request.query.get("ws_handshake") == "true")
        return ws


def _validate(request):
    """The task runner, command and tty flag of a well-formed exec request."""
    agent = request.app[AGENT]
    alloc_id = request.match_info["alloc"]
    q = request.query
    client = getattr(agent, "client", None)
    runner = client.alloc_runner(alloc_id) if client is not None else None
    if runner is None:
        raise NotFound(f'Unknown allocation "{alloc_id}"')
    task = q.get("task", "")
    if not task:
        raise BadRequest("task is not present")
    tr = runner.tasks.get(task)
    if tr is None:
        raise NotFound(f'unknown task name "{task}"')
    raw = q.get("command", "")
    try:
        command = json.loads(raw) if raw else []
    except ValueError:
        raise BadRequest(f"failed to unmarshal command into json: {raw}") from None
    if not isinstance(command, list) or not all(isinstance(c, str) for c in command):
        raise BadRequest("command must be a JSON array of strings")
    if not command or not command[0]:
        raise BadRequest("command is not present")
    tty_raw = q.get("tty", "false").lower() or "false"
    if tty_raw not in ("true", "false", "1", "0", "t", "f"):
        raise BadRequest(f"tty value is not a boolean: {q.get('tty')}")
    if tr.handle is None or tr.dead:
        raise NotFound(f'task "{task}" is not running.')
    return tr, command, tty_raw in ("true", "1", "t")


class ExecSession:
    """Bridges one WebSocket and one command run by the task's driver."""

    def __init__(self, ws: web.WebSocketResponse, tr, command: list[str], tty: bool):
        self.ws = ws
        self.tr = tr
        self._send_lock = asyncio.Lock()
        self.opts = ExecOptions(command=command, tty=tty, stdout=self._out("stdout"),
                                stderr=self._out("stderr"))

    def _out(self, stream: str):
        async def send(data: bytes) -> None:
            await self._send({stream: {"data": base64.b64encode(data).decode()}})
        return send

    async def _send(self, frame: dict) -> None:
        async with self._send_lock:
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(frame))

    async def run(self, handshake: bool) -> None:
        reader = asyncio.ensure_future(self._read(handshake))
        command = asyncio.ensure_future(self.tr.exec(self.opts))
        try:
            await asyncio.wait({reader, command}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not command.done():      # the client left: kill the command
                command.cancel()
                await asyncio.gather(command, return_exceptions=True)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        if self.ws.closed or command.cancelled():
            return
        err = command.exception()
        if err is None:
            result = command.result()
            await self._send({"stdout": {"close": True}})
            await self._send({"stderr": {"close": True}})
            await self._send({"exited": True, "result": {"exit_code": result.exit_code}})
            await self.ws.close()
        elif isinstance(err, DriverError):
            await self._close_error(WSCloseCode.POLICY_VIOLATION, str(err))
        else:
            log.error("exec in task %s failed", self.tr.name, exc_info=err)
            await self._close_error(WSCloseCode.INTERNAL_ERROR, f"internal error: {err}")

    async def _close_error(self, code: int, message: str) -> None:
        await self.ws.close(code=code, message=message.encode()[:CLOSE_REASON_MAX])

    async def _read(self, handshake: bool) -> None:
        """Forward client frames until the client closes the socket."""
        try:
            async for msg in self.ws:
                if msg.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    continue
                if handshake:           # the auth frame; no ACLs to check here
                    handshake = False
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    continue
                if isinstance(frame, dict):
                    self._handle(frame)
        finally:
            self.opts.stdin.put_nowait(None)

    def _handle(self, frame: dict) -> None:
        stdin = frame.get("stdin")
        if isinstance(stdin, dict):
            if stdin.get("data"):
                try:
                    self.opts.stdin.put_nowait(base64.b64decode(stdin["data"]))
                except (ValueError, TypeError):
                    pass
            if stdin.get("close"):
                self.opts.stdin.put_nowait(None)
        size = frame.get("tty_size")
        if isinstance(size, dict):
            try:
                self.opts.resize.put_nowait((int(size.get("height") or 0),
                                             int(size.get("width") or 0)))
            except (TypeError, ValueError):
                pass
