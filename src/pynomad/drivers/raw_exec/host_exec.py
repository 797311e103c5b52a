"""Run one extra command beside a task on the host (`nomad alloc exec` for raw_exec).

The command runs in the task's directory with the task's environment (and as the task's
user when the agent is root), in its own session. Without a TTY stdin/stdout/stderr are
pipes; with one they all share a pseudo-terminal that becomes the command's controlling
terminal and follows the client's window size. Cancelling `exec_host` kills the command's
process group.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import signal as _signal
import struct
import termios
from typing import Any

from pynomad.client.driver import DriverError, ExecOptions, ExitResult
from pynomad.drivers.executor import _credentials

READ_SIZE = 32 * 1024


def resolve(command: str, cwd: str, env: dict[str, str], root: str = "") -> str:
    """Absolute path of `command`: as given (with a slash), from the task's PATH, or
    relative to the task dir. With `root` (a task's root seen from the host, like
    /proc/<pid>/root) every path is looked up under it."""
    if not command:
        raise DriverError("command is not present")
    if "/" in command:
        path = command if os.path.isabs(command) else os.path.join(cwd, command)
        if os.path.exists(root + path):
            return root + path
        raise DriverError(f'exec: "{command}": stat {command}: no such file or directory')
    search = env.get("PATH") or ("" if root else os.environ.get("PATH")) or ""
    if root:
        search = os.pathsep.join(root + d for d in search.split(os.pathsep) if d.startswith("/"))
    found = shutil.which(command, path=search)
    if found:
        return found
    raise DriverError(f'exec: "{command}": executable file not found in $PATH')


def _env(env: dict[str, str], user: str) -> dict[str, str]:
    out = dict(env)
    if user:
        import pwd
        try:
            pw = pwd.getpwnam(user)
            out.setdefault("USER", pw.pw_name)
            out.setdefault("HOME", pw.pw_dir)
        except KeyError:
            pass
    return out


def _exit_result(returncode: int) -> ExitResult:
    if returncode < 0:
        return ExitResult(exit_code=128 - returncode, signal=-returncode)
    return ExitResult(exit_code=returncode)


def _set_winsize(fd: int, height: int, width: int) -> None:
    if height > 0 and width > 0:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


def _make_controlling_tty() -> None:  # runs in the child between fork and exec
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


async def exec_host(command: list[str], cwd: str, env: dict[str, str], user: str,
                    opts: ExecOptions) -> ExitResult:
    """Run `command` and stream it through `opts`; returns when it exited and its output
    was delivered."""
    if not command:
        raise DriverError("command is not present")
    argv = [resolve(command[0], cwd, env), *command[1:]]
    try:
        creds = _credentials(user)
    except OSError as e:
        raise DriverError(str(e)) from e
    return await run_streaming(argv, opts, cwd=cwd, env=_env(env, user), **creds)


async def run_streaming(argv: list[str], opts: ExecOptions, cwd: str, env: dict[str, str],
                        **creds: Any) -> ExitResult:
    """Run `argv` (already resolved) in its own session, streaming it through `opts`."""
    kwargs: dict[str, Any] = dict(cwd=cwd or None, env=env, start_new_session=True, **creds)
    if opts.tty:
        return await _exec_tty(argv, kwargs, opts)
    return await _exec_pipes(argv, kwargs, opts)


async def _exec_pipes(argv: list[str], kwargs: dict[str, Any], opts: ExecOptions) -> ExitResult:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, **kwargs)
    except (OSError, ValueError) as e:
        raise DriverError(f"failed to start command: {e}") from e
    assert proc.stdin and proc.stdout and proc.stderr

    async def feed() -> None:
        assert proc.stdin is not None
        try:
            while (data := await opts.stdin.get()) is not None:
                proc.stdin.write(data)
                await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            proc.stdin.close()

    async def pump(stream: asyncio.StreamReader, sink) -> None:
        while data := await stream.read(READ_SIZE):
            await sink(data)

    feeder = asyncio.ensure_future(feed())
    try:
        await asyncio.gather(pump(proc.stdout, opts.stdout), pump(proc.stderr, opts.stderr))
        return _exit_result(await proc.wait())
    finally:
        feeder.cancel()
        _kill(proc)


async def _exec_tty(argv: list[str], kwargs: dict[str, Any], opts: ExecOptions) -> ExitResult:
    master, slave = os.openpty()
    while not opts.resize.empty():  # a size known up front applies before the command runs
        height, width = opts.resize.get_nowait()
        _set_winsize(master, height, width)
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=slave, stdout=slave, stderr=slave,
            preexec_fn=_make_controlling_tty, **kwargs)
    except (OSError, ValueError) as e:
        os.close(master)
        raise DriverError(f"failed to start command: {e}") from e
    finally:
        os.close(slave)
    os.set_blocking(master, False)
    loop = asyncio.get_running_loop()
    chunks: asyncio.Queue[bytes] = asyncio.Queue()

    def readable() -> None:
        try:
            data = os.read(master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:   # EIO: every holder of the slave side closed it
            data = b""
        if not data:
            loop.remove_reader(master)
        chunks.put_nowait(data)

    async def feed() -> None:
        while (data := await opts.stdin.get()) is not None:
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(master, view):]
                except BlockingIOError:
                    await asyncio.sleep(0.01)
                except OSError:
                    return

    async def resize() -> None:
        while True:
            height, width = await opts.resize.get()
            try:
                _set_winsize(master, height, width)
            except OSError:
                pass

    loop.add_reader(master, readable)
    helpers = [asyncio.ensure_future(feed()), asyncio.ensure_future(resize())]
    try:
        while data := await chunks.get():
            await opts.stdout(data)
        return _exit_result(await proc.wait())
    finally:
        for h in helpers:
            h.cancel()
        loop.remove_reader(master)
        os.close(master)
        _kill(proc)


def _kill(proc: asyncio.subprocess.Process) -> None:
    """Kill what is left of the command's process group (it has its own session)."""
    try:
        os.killpg(proc.pid, _signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass
