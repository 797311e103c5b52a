"""The task driver interface: what the task runner asks of `raw_exec`, `mock`, etc.

A driver turns a `TaskConfig` into a running workload and hands back a `TaskHandle`, a
small serializable record the client persists so that, after an agent restart, the
driver can `recover` the handle and keep waiting on the same workload.
"""

from __future__ import annotations

import abc
import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import msgspec

from pynomad.structs import DriverInfo


class DriverError(Exception):
    """A driver failed to start or control a task.

    `recoverable` errors go through the restart policy; others fail the task at once
    ("Error was unrecoverable"), as Nomad's `structs.IsRecoverable` does.
    """

    def __init__(self, message: str, recoverable: bool = False):
        super().__init__(message)
        self.recoverable = recoverable


class TaskNotFoundError(DriverError):
    """The handle does not name a task this driver can reach."""


class TaskNotRunningError(DriverError):
    """The task has no running workload to act on (exec, signal)."""


class TaskConfig(msgspec.Struct, kw_only=True):
    """What a driver needs to start one task. Paths are absolute host paths."""

    id: str                              # unique per start: "<alloc_id>/<task>/<n>"
    alloc_id: str
    task_name: str
    job_name: str = ""
    group_name: str = ""
    env: dict[str, str] = {}
    config: dict[str, Any] = {}          # the task's `config {}` block, interpolated
    alloc_dir: str = ""                  # <data_dir>/alloc/<id>/alloc (shared)
    task_dir: str = ""                   # <data_dir>/alloc/<id>/<task> (cwd)
    local_dir: str = ""
    secrets_dir: str = ""
    log_dir: str = ""                    # <alloc_dir>/logs
    stdout_path: str = ""                # base path; files are <base>.<n>
    stderr_path: str = ""
    log_max_files: int = 10
    log_max_file_size_mb: int = 10
    logs_disabled: bool = False
    user: str = ""
    cpu: int = 0                         # MHz
    memory_mb: int = 0
    memory_max_mb: int = 0


class TaskHandle(msgspec.Struct, kw_only=True):
    """A started task, as persisted in the client state DB (driver-specific `state`)."""

    driver: str
    config: TaskConfig
    state: dict[str, Any] = {}
    started_at: int = 0                  # unix ns

    def encode(self) -> bytes:
        return msgspec.msgpack.encode(self)

    @classmethod
    def decode(cls, data: bytes) -> "TaskHandle":
        return msgspec.msgpack.decode(data, type=cls)


class ExitResult(msgspec.Struct, kw_only=True):
    """How a task ended: `exit_code` (128+n for a signal, like a shell), `signal`, `err`."""

    exit_code: int = 0
    signal: int = 0
    err: str = ""
    oom_killed: bool = False

    def successful(self) -> bool:
        return self.exit_code == 0 and self.signal == 0 and not self.err


async def _discard(data: bytes) -> None:
    return None


@dataclass
class ExecOptions:
    """One command to run inside a running task (Nomad's drivers.ExecOptions).

    `stdin` carries input chunks; `None` means stdin was closed. `stdout`/`stderr` are
    awaited with each output chunk. `resize` carries (height, width) for a TTY.
    """

    command: list[str]
    tty: bool = False
    stdin: "asyncio.Queue[bytes | None]" = field(default_factory=asyncio.Queue)
    stdout: Callable[[bytes], Awaitable[None]] = _discard
    stderr: Callable[[bytes], Awaitable[None]] = _discard
    resize: "asyncio.Queue[tuple[int, int]]" = field(default_factory=asyncio.Queue)


class Driver(abc.ABC):
    """Base class of every task driver."""

    name: str = ""

    @abc.abstractmethod
    def fingerprint(self) -> DriverInfo:
        """Whether the driver is usable here, plus `driver.<name>.*` attributes."""

    @abc.abstractmethod
    async def start(self, cfg: TaskConfig) -> TaskHandle:
        """Start the task; raise DriverError if it cannot be started."""

    @abc.abstractmethod
    async def wait(self, handle: TaskHandle) -> ExitResult:
        """Block until the task exits. Safe to call again after `recover`."""

    @abc.abstractmethod
    async def stop(self, handle: TaskHandle, kill_timeout_s: float, signal_name: str) -> None:
        """Send `signal_name` (default SIGINT), wait `kill_timeout_s`, then force-kill."""

    @abc.abstractmethod
    async def signal(self, handle: TaskHandle, sig: str) -> None:
        """Deliver a signal (name like "SIGHUP") to the task."""

    @abc.abstractmethod
    def recover(self, handle: TaskHandle) -> bool:
        """Re-attach to a task started by a previous agent; False if it is gone."""

    async def exec_streaming(self, handle: TaskHandle, opts: ExecOptions) -> ExitResult:
        """Run `opts.command` in the task's environment, streaming its input and output
        (`nomad alloc exec`). Cancelling the call kills the command. Raise DriverError if
        the command cannot be started."""
        raise DriverError(f"driver {self.name!r} does not support exec")

    async def exec(self, handle: TaskHandle, command: list[str],
                   timeout_s: float | None = None) -> tuple[bytes, ExitResult]:
        """Run a command to completion with no input; (combined output, exit result)."""
        out = bytearray()

        async def collect(data: bytes) -> None:
            out.extend(data)

        opts = ExecOptions(command=list(command), stdout=collect, stderr=collect)
        opts.stdin.put_nowait(None)
        try:
            result = await asyncio.wait_for(self.exec_streaming(handle, opts), timeout_s)
        except asyncio.TimeoutError:
            raise DriverError("exec timed out") from None
        return bytes(out), result

    def inspect(self, handle: TaskHandle) -> dict[str, Any]:
        """Driver-specific details about a task (for debugging and the API)."""
        return dict(handle.state)

    async def destroy(self, handle: TaskHandle) -> None:
        """Release resources held for a finished task (default: nothing)."""

    def attributes(self) -> dict[str, str]:
        """Node attributes contributed by this driver (`driver.<name>` and friends)."""
        info = self.fingerprint()
        if not info.Detected:
            return {}
        attrs = {f"driver.{self.name}": "1"}
        attrs.update(info.Attributes or {})
        return attrs
