"""The `raw_exec` driver: runs a plain host process through a detached executor.

Each task is started via `pynomad/drivers/executor.py` in a new session; the executor
launches the command in its own process group, writes its output to the rotating log
files and records the exit status in a file. The handle keeps the executor's and the
task's pid + start time and the status file path, so a new agent can `recover` it.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal as _signal
import subprocess
import sys
import time
from typing import Any

from pynomad.client.driver import (Driver, DriverError, ExecOptions, ExitResult, TaskConfig,
                                   TaskHandle)
from pynomad.drivers import executor as _executor_module
from pynomad.structs import DriverInfo

from . import process as proc
from .host_exec import exec_host

EXECUTOR_PATH = os.path.abspath(_executor_module.__file__)
START_TIMEOUT_S = 30.0
POLL_MIN_S = 0.02
POLL_MAX_S = 0.25
STATUS_AFTER_KILL_S = 5.0
MB = 1024 * 1024


def _resolve_command(command: str, task_dir: str, env: dict[str, str]) -> str:
    """Absolute path of `command`: as given, relative to the task dir, or from PATH."""
    if not command:
        raise DriverError("missing command in task config")
    if os.path.isabs(command):
        return command
    candidate = os.path.join(task_dir, command)
    if os.path.exists(candidate):
        return candidate
    found = shutil.which(command, path=env.get("PATH") or os.environ.get("PATH"))
    if found:
        return found
    raise DriverError(f"file {command} not found under path {task_dir}")


def _args(config: dict[str, Any]) -> list[str]:
    args = config.get("args") or []
    if isinstance(args, str):
        return [args]
    return [str(a) for a in args]


def _read_status(path: str) -> ExitResult | None:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    return ExitResult(exit_code=int(doc.get("exit_code", 0)), signal=int(doc.get("signal", 0)),
                      err=str(doc.get("err", "")), oom_killed=bool(doc.get("oom_killed")))


class RawExecDriver(Driver):
    """Runs `config.command` with `config.args`, no isolation."""

    name = "raw_exec"
    executor_path = EXECUTOR_PATH

    def __init__(self, enabled: bool = True, python: str = sys.executable):
        self.enabled = enabled
        self.python = python

    # -- fingerprint --------------------------------------------------------
    def fingerprint(self) -> DriverInfo:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if not self.enabled:
            return DriverInfo(Attributes=None, Detected=False, Healthy=False,
                              HealthDescription="disabled", UpdateTime=now)
        return DriverInfo(Attributes={"driver.raw_exec": "1"}, Detected=True, Healthy=True,
                          HealthDescription="Healthy", UpdateTime=now)

    # -- start --------------------------------------------------------------
    def _spec(self, cfg: TaskConfig) -> dict[str, Any]:
        command = _resolve_command(str(cfg.config.get("command", "")), cfg.task_dir, cfg.env)
        return {
            "command": command, "args": _args(cfg.config), "env": cfg.env, "cwd": cfg.task_dir,
            "user": cfg.user, "stdout": cfg.stdout_path, "stderr": cfg.stderr_path,
            "logs_disabled": cfg.logs_disabled, "max_files": cfg.log_max_files,
            "max_file_size": cfg.log_max_file_size_mb * MB,
            "status_path": os.path.join(cfg.task_dir, "executor.status"),
            "executor_log": os.path.join(cfg.task_dir, "executor.out"),
        }

    def _write_spec(self, cfg: TaskConfig, spec: dict[str, Any]) -> str:
        path = os.path.join(cfg.task_dir, "executor.json")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(spec, f)
        try:
            os.unlink(spec["status_path"])
        except FileNotFoundError:
            pass
        return path

    def _spawn(self, spec_path: str, log_path: str) -> subprocess.Popen:
        with open(log_path, "ab") as log:
            return subprocess.Popen(
                [self.python, "-I", "-S", self.executor_path, spec_path],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                start_new_session=True, close_fds=True)

    async def start(self, cfg: TaskConfig) -> TaskHandle:
        spec = self._spec(cfg)
        spec_path = self._write_spec(cfg, spec)
        try:
            child = self._spawn(spec_path, spec["executor_log"])
        except OSError as e:
            raise DriverError(f"failed to start executor: {e}", recoverable=True) from e
        try:
            line = await self._read_hello(child)
        finally:
            await asyncio.to_thread(child.wait)   # exits right after forking the executor
        if "error" in line or "pid" not in line:
            raise DriverError(str(line.get("error", "executor failed to start the task")))
        task_pid = int(line["pid"])
        executor_pid = int(line.get("executor_pid", child.pid))
        state = {"executor_pid": executor_pid, "executor_ctime": proc.create_time(executor_pid),
                 "task_pid": task_pid, "task_ctime": proc.create_time(task_pid),
                 "status_path": spec["status_path"], "spec_path": spec_path}
        return TaskHandle(driver=self.name, config=cfg, state=state, started_at=time.time_ns())

    async def _read_hello(self, child: subprocess.Popen) -> dict[str, Any]:
        assert child.stdout is not None
        try:
            raw = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline),
                                         START_TIMEOUT_S)
        except asyncio.TimeoutError:
            child.kill()
            raise DriverError("executor did not start in time", recoverable=True) from None
        finally:
            child.stdout.close()
        try:
            return json.loads(raw.decode() or "{}")
        except ValueError:
            return {"error": f"executor sent garbage: {raw[:200]!r}"}

    # -- wait / status ------------------------------------------------------
    def _reap_executor(self, handle: TaskHandle) -> None:
        """Collect the executor if it is our child (when the agent runs as PID 1)."""
        proc.reap(handle.state.get("executor_pid", 0))

    def _executor_alive(self, handle: TaskHandle) -> bool:
        self._reap_executor(handle)
        return proc.is_alive(handle.state.get("executor_pid", 0),
                             handle.state.get("executor_ctime", 0.0))

    def _task_alive(self, handle: TaskHandle) -> bool:
        return proc.is_alive(handle.state.get("task_pid", 0), handle.state.get("task_ctime", 0.0))

    def _status(self, handle: TaskHandle) -> ExitResult | None:
        return _read_status(handle.state.get("status_path", ""))

    async def wait(self, handle: TaskHandle) -> ExitResult:
        delay = POLL_MIN_S
        while True:
            result = self._status(handle)
            if result is not None:
                self._reap_executor(handle)
                return result
            if not self._executor_alive(handle):
                result = self._status(handle)
                if result is not None:
                    return result
                return await self._orphaned(handle)
            await asyncio.sleep(delay)
            delay = min(POLL_MAX_S, delay * 1.5)

    async def _orphaned(self, handle: TaskHandle) -> ExitResult:
        """The executor died without a status: kill what is left of the task."""
        pgid = handle.state.get("task_pid", 0)
        if self._task_alive(handle):
            proc.kill_group(pgid, _signal.SIGKILL)
        return ExitResult(exit_code=-1, err="executor exited unexpectedly")

    async def _wait_status(self, handle: TaskHandle, timeout_s: float) -> bool:
        """Wait up to `timeout_s` for the task to finish; True if it did."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        delay = POLL_MIN_S
        while True:
            if self._status(handle) is not None:
                return True
            if not self._executor_alive(handle) and not self._task_alive(handle):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(POLL_MAX_S, delay * 1.5)

    # -- control ------------------------------------------------------------
    async def stop(self, handle: TaskHandle, kill_timeout_s: float, signal_name: str) -> None:
        if self._status(handle) is not None:
            return
        pgid = handle.state.get("task_pid", 0)
        try:
            sig = proc.signal_number(signal_name or "SIGINT")
        except ValueError as e:
            raise DriverError(str(e)) from e
        if kill_timeout_s > 0 and self._task_alive(handle):
            proc.kill_group(pgid, sig)
            if await self._wait_status(handle, kill_timeout_s):
                return
        if self._task_alive(handle) or proc.group_alive(pgid):
            proc.kill_group(pgid, _signal.SIGKILL)
        await self._wait_status(handle, STATUS_AFTER_KILL_S)

    async def signal(self, handle: TaskHandle, sig: str) -> None:
        if not self._task_alive(handle):
            raise DriverError("task is not running")
        try:
            os.kill(handle.state["task_pid"], proc.signal_number(sig))
        except (ValueError, ProcessLookupError) as e:
            raise DriverError(f"failed to signal task: {e}") from e

    async def exec_streaming(self, handle: TaskHandle, opts: ExecOptions) -> ExitResult:
        if self._status(handle) is not None or not self._task_alive(handle):
            raise DriverError("task is not running")
        cfg = handle.config
        return await exec_host(opts.command, cfg.task_dir, cfg.env, cfg.user, opts)

    def recover(self, handle: TaskHandle) -> bool:
        if not handle.state:
            return False
        return (self._status(handle) is not None or self._executor_alive(handle)
                or self._task_alive(handle))

    def inspect(self, handle: TaskHandle) -> dict[str, Any]:
        info = dict(handle.state)
        info["executor_alive"] = self._executor_alive(handle)
        info["task_alive"] = self._task_alive(handle)
        status = self._status(handle)
        info["exit"] = None if status is None else {"exit_code": status.exit_code,
                                                    "signal": status.signal}
        return info
