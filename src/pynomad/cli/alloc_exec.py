"""``nomad alloc exec``: run a command in a running task over the exec WebSocket
(``/v1/client/allocation/:alloc_id/exec``), piping this terminal's stdin/stdout/stderr,
and exit with the command's exit code.

With ``-t`` (default when stdin and stdout are terminals) the local terminal is put in
raw mode, window size changes are forwarded, and the escape character (``-e``, default
``~``) followed by ``.`` at the start of a line disconnects.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
import threading
from typing import Any
from urllib.parse import quote, urlencode

from pynomad.cli.alloc import lookup_alloc
from pynomad.cli.alloc_logs import _random_job_alloc
from pynomad.cli.api import APIError
from pynomad.cli.format import SHORT_ID, go_quote, limit
from pynomad.cli.meta import Meta

HELP = {
    "alloc exec": """Usage: nomad alloc exec [options] <allocation> <command>

  Run command inside the environment of the given allocation and task.

  When ACLs are enabled, this command requires a token with the 'alloc-exec',
  'read-job', and 'list-jobs' capabilities for the allocation's namespace. If
  the task driver does not have file system isolation (as with 'raw_exec'),
  this command requires the 'alloc-node-exec', 'read-job', and 'list-jobs'
  capabilities for the allocation's namespace.

Exec Specific Options:

  -task <task-name>
    Sets the task to exec command in

  -job
    Use a random allocation from the specified job ID or prefix.

  -i
    Pass stdin to the container, defaults to true.  Pass -i=false to disable.

  -t
    Allocate a pseudo-tty, defaults to true if stdin is detected to be a tty session.
    Pass -t=false to disable explicitly.

  -e <escape_char>
    Sets the escape character for sessions with a pty (default: '~').  The escape
    character is only recognized at the beginning of a line.  The escape character
    followed by a dot ('.') closes the connection.  Setting the character to
    'none' disables any escapes and makes the session fully transparent.
""",
}


def exec_cmd(meta: Meta, args: list[str]) -> int:
    """``nomad alloc exec [-task t] [-job] [-i] [-t] [-e c] <alloc> <command> [args...]``."""
    is_tty = os.isatty(0) and os.isatty(1)
    opts, args = meta.parse(args, {"task": "str", "job": "bool", "i": "bool", "t": "bool",
                                   "e": "str", "verbose": "bool"},
                            initial={"i": True, "t": is_tty, "e": "~"})
    if opts["t"] and not opts["i"]:
        raise meta.usage_error("-i must be enabled if running with tty")
    escape = opts["e"]
    if escape != "none" and len(escape) != 1:
        raise meta.usage_error("-e requires 'none' or a single character")
    if not args:
        raise meta.usage_error("A job ID is required" if opts["job"] else
                               "An allocation ID is required")
    if len(args) < 2:
        raise meta.usage_error("A command is required")
    alloc_id = _random_job_alloc(meta, args[0]) if opts["job"] else args[0]
    alloc = lookup_alloc(meta, alloc_id, opts["verbose"],
                         "Alloc ID must contain at least two characters.")
    assert alloc is not None
    task = _pick_task(meta, alloc, opts["task"])
    session = _Session(meta, alloc, task, args[1:], opts["i"], opts["t"],
                       None if escape == "none" else escape.encode())
    return session.run()


def _pick_task(meta: Meta, alloc: dict[str, Any], flag_task: str) -> str:
    job = alloc.get("Job") or {}
    group = next((g for g in job.get("TaskGroups") or []
                  if g.get("Name") == alloc.get("TaskGroup")), None)
    names = [t.get("Name", "") for t in (group or {}).get("Tasks") or []]
    if flag_task:
        if names and flag_task not in names:
            raise meta.fail(f"Could not find task named: {flag_task}, found:\n"
                            + "\n".join(f"* {n}" for n in names))
        return flag_task
    if len(names) == 1:
        return names[0]
    if not names:
        raise meta.fail("Could not find allocation task group: "
                        f"{alloc.get('TaskGroup')}")
    lines = [f"Allocation {go_quote(limit(alloc['ID'], SHORT_ID))} is running the following "
             "tasks:"] + [f"  * {n}" for n in names]
    raise meta.fail("\n".join(lines) + "\n\nPlease specify the task.")


class _Session:
    """One exec session: the WebSocket plus local stdin/stdout plumbing."""

    def __init__(self, meta: Meta, alloc: dict[str, Any], task: str, command: list[str],
                 stdin: bool, tty: bool, escape: bytes | None):
        self.meta = meta
        self.alloc = alloc
        self.task = task
        self.command = command
        self.stdin = stdin
        self.tty = tty
        self.escape = escape
        self.exit_code: int | None = None
        self._close_reason = ""

    # -- connection ------------------------------------------------------------------
    def _url_and_headers(self) -> tuple[str, dict[str, str], Any]:
        client = self.meta.client()
        cfg = client.config
        params: dict[str, str] = {"task": self.task, "command": json.dumps(self.command),
                                  "tty": "true" if self.tty else "false"}
        if cfg.region:
            params["region"] = cfg.region
        ns = self.alloc.get("Namespace") or cfg.namespace
        if ns:
            params["namespace"] = ns
        scheme = "wss" if client.scheme == "https" else "ws"
        path = f"/v1/client/allocation/{self.alloc['ID']}/exec"
        url = f"{scheme}://{client.base.split('://', 1)[1]}{path}?" + urlencode(params,
                                                                              quote_via=quote)
        headers = dict(cfg.headers)
        if cfg.token:
            headers["X-Nomad-Token"] = cfg.token
        return url, headers, client._ssl

    def run(self) -> int:
        restore = _raw_terminal() if self.tty and os.isatty(0) else None
        try:
            return asyncio.run(self._main())
        finally:
            if restore is not None:
                restore()

    async def _main(self) -> int:
        import aiohttp

        url, headers, ssl_ctx = self._url_and_headers()
        async with aiohttp.ClientSession() as http:
            try:
                ws = await http.ws_connect(
                    url, headers=headers, ssl=ssl_ctx, heartbeat=10.0,
                    max_msg_size=16 * 1024 * 1024,
                    server_hostname=self.meta.client().config.tls_server_name or None)
            except aiohttp.WSServerHandshakeError as exc:
                raise self.meta.fail(
                    f"failed to exec into task: {self._handshake_error(exc)}") from None
            except (aiohttp.ClientError, OSError) as exc:
                raise self.meta.fail(f"failed to exec into task: {exc}") from None
            async with ws:
                return await self._stream(ws)

    def _handshake_error(self, exc: Any) -> str:
        """The agent's reason for refusing the upgrade (it answers plain GETs alike)."""
        try:
            self.meta.client().get(f"/v1/client/allocation/{self.alloc['ID']}/exec",
                                   {"task": self.task, "command": json.dumps(self.command)},
                                   namespace=self.alloc.get("Namespace") or None)
        except APIError as api_err:
            return str(api_err)
        return f"Unexpected response code: {exc.status} ({exc.message})"

    async def _stream(self, ws: Any) -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        if self.stdin:
            self._start_stdin(ws, loop, stop)
        else:
            await ws.send_str(json.dumps({"stdin": {"close": True}}))
        if self.tty:
            self._watch_winch(ws, loop)
        receiver = asyncio.ensure_future(self._receive(ws))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({receiver, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not receiver.done():        # escape sequence: disconnect
            receiver.cancel()
            return 0
        receiver.result()
        if self.exit_code is not None:
            return self.exit_code
        self.meta.ui.error("failed to exec into task: "
                           + (self._close_reason or "connection closed before the command exited"))
        return 1

    async def _receive(self, ws: Any) -> None:
        import aiohttp

        out, err = sys.stdout.buffer, sys.stderr.buffer
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING,
                            aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = json.loads(msg.data)
            except ValueError:
                continue
            for key, sink in (("stdout", out), ("stderr", err)):
                part = frame.get(key)
                if isinstance(part, dict) and part.get("data"):
                    sink.write(base64.b64decode(part["data"]))
                    sink.flush()
            if frame.get("exited"):
                self.exit_code = int((frame.get("result") or {}).get("exit_code") or 0)
        if msg.type == aiohttp.WSMsgType.CLOSE and isinstance(msg.extra, str):
            self._close_reason = msg.extra
        elif msg.type == aiohttp.WSMsgType.ERROR:
            self._close_reason = str(msg.data)

    # -- local input -----------------------------------------------------------------
    def _start_stdin(self, ws: Any, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
        def send(frame: dict) -> None:
            try:
                asyncio.run_coroutine_threadsafe(_safe_send(ws, frame), loop)
            except RuntimeError:    # the session already ended
                pass

        def pump() -> None:
            escaper = _Escaper(self.escape if self.tty else None)
            while True:
                try:
                    data = os.read(0, 32 * 1024)
                except OSError:
                    data = b""
                if not data:
                    send({"stdin": {"close": True}})
                    return
                data, disconnect = escaper.feed(data)
                if data:
                    send({"stdin": {"data": base64.b64encode(data).decode()}})
                if disconnect:
                    loop.call_soon_threadsafe(stop.set)
                    return

        threading.Thread(target=pump, daemon=True).start()

    def _watch_winch(self, ws: Any, loop: asyncio.AbstractEventLoop) -> None:
        def resize() -> None:
            try:
                size = os.get_terminal_size(1 if os.isatty(1) else 0)
            except OSError:
                return
            loop.create_task(_safe_send(ws, {"tty_size": {"height": size.lines,
                                                          "width": size.columns}}))

        resize()
        try:
            loop.add_signal_handler(signal.SIGWINCH, resize)
        except (ValueError, RuntimeError, NotImplementedError):
            pass


async def _safe_send(ws: Any, frame: dict) -> None:
    try:
        if not ws.closed:
            await ws.send_str(json.dumps(frame))
    except (ConnectionError, RuntimeError):
        pass


class _Escaper:
    """Recognises ``<escape>.`` at the start of a line (ssh-style) in raw terminal input."""

    def __init__(self, escape: bytes | None):
        self.escape = escape
        self.line_start = True
        self.pending = False

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        if self.escape is None:
            return data, False
        out = bytearray()
        for b in data:
            ch = bytes([b])
            if self.pending:
                self.pending = False
                if ch == b".":
                    return bytes(out), True
                if ch != self.escape:
                    out += self.escape
                out += ch
            elif self.line_start and ch == self.escape:
                self.pending = True
                continue
            else:
                out += ch
            self.line_start = ch in (b"\r", b"\n")
        return bytes(out), False


def _raw_terminal():
    """Put stdin in raw mode; returns a function restoring the previous mode."""
    import termios
    import tty

    try:
        saved = termios.tcgetattr(0)
        tty.setraw(0)
    except termios.error:
        return None

    def restore() -> None:
        try:
            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        except termios.error:
            pass

    return restore
