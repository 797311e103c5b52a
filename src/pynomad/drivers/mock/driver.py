"""The `mock` driver: simulated tasks for tests and benchmarks (no processes).

Task config (Nomad's mock driver names): `run_for` (duration; 0 = exit at once),
`exit_code`, `exit_signal`, `exit_err_msg`, `start_error`, `start_error_recoverable`,
`start_block_for`, `kill_after`, `signal_error`, `stdout_string`, `stdout_repeat`,
`stdout_repeat_duration`. A handle carries the start time, so `recover` after an
agent restart resumes the remaining `run_for`.
"""

from __future__ import annotations

import asyncio
import signal as _signal
import time
from dataclasses import dataclass, field
from typing import Any

from pynomad.helper.clock import SYSTEM_CLOCK, Clock
from pynomad.client.driver import (Driver, DriverError, ExecOptions, ExitResult, TaskConfig,
                                   TaskHandle)
from pynomad.helper.goformat import SECOND, parse_duration
from pynomad.drivers.executor import FileRotator
from pynomad.drivers.raw_exec.process import signal_number
from pynomad.structs import DriverInfo

MB = 1024 * 1024


def _dur_s(config: dict[str, Any], key: str) -> float:
    return parse_duration(config.get(key) or 0) / SECOND


@dataclass
class _MockTask:
    handle: TaskHandle
    done: asyncio.Event = field(default_factory=asyncio.Event)
    result: ExitResult | None = None
    runner: asyncio.Task | None = None
    kill_sig: int = 0


class MockDriver(Driver):
    """Pretends to run tasks according to their config."""

    name = "mock_driver"

    def __init__(self, clock: Clock = SYSTEM_CLOCK, name: str = "mock_driver"):
        self.name = name
        self.clock = clock
        self._tasks: dict[str, _MockTask] = {}

    def fingerprint(self) -> DriverInfo:
        return DriverInfo(Attributes={f"driver.{self.name}": "1"}, Detected=True, Healthy=True,
                          HealthDescription="Healthy",
                          UpdateTime=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

    async def start(self, cfg: TaskConfig) -> TaskHandle:
        conf = cfg.config
        block = _dur_s(conf, "start_block_for")
        if block:
            await self.clock.sleep(block)
        if conf.get("start_error"):
            raise DriverError(str(conf["start_error"]),
                              recoverable=bool(conf.get("start_error_recoverable")))
        state = {"started_ns": self.clock.now_ns(), "run_for_s": _dur_s(conf, "run_for")}
        handle = TaskHandle(driver=self.name, config=cfg, state=state,
                            started_at=state["started_ns"])
        self._launch(handle)
        return handle

    def _launch(self, handle: TaskHandle) -> _MockTask:
        task = _MockTask(handle)
        self._tasks[handle.config.id] = task
        task.runner = asyncio.get_running_loop().create_task(self._run(task))
        return task

    def _exit_result(self, conf: dict[str, Any]) -> ExitResult:
        return ExitResult(exit_code=int(conf.get("exit_code", 0) or 0),
                          signal=int(conf.get("exit_signal", 0) or 0),
                          err=str(conf.get("exit_err_msg", "") or ""))

    async def _run(self, task: _MockTask) -> None:
        conf = task.handle.config.config
        elapsed = (self.clock.now_ns() - task.handle.state["started_ns"]) / 1e9
        remaining = max(0.0, task.handle.state["run_for_s"] - elapsed)
        writer = asyncio.get_running_loop().create_task(self._write_output(task.handle))
        try:
            await self.clock.sleep(remaining)
            self._finish(task, self._exit_result(conf))
        finally:
            writer.cancel()

    async def _write_output(self, handle: TaskHandle) -> None:
        cfg = handle.config
        text = str(cfg.config.get("stdout_string", "") or "")
        if not text or not cfg.stdout_path or cfg.logs_disabled:
            return
        rotator = FileRotator(cfg.stdout_path, cfg.log_max_files, cfg.log_max_file_size_mb * MB)
        try:
            repeat = int(cfg.config.get("stdout_repeat", 0) or 0)
            every = _dur_s(cfg.config, "stdout_repeat_duration")
            rotator.write(text.encode())
            for _ in range(repeat):
                await self.clock.sleep(every)
                rotator.write(text.encode())
        finally:
            rotator.close()

    def _finish(self, task: _MockTask, result: ExitResult) -> None:
        if task.result is None:
            task.result = result
            task.done.set()

    def _get(self, handle: TaskHandle) -> _MockTask:
        task = self._tasks.get(handle.config.id)
        if task is None:
            raise DriverError("task not found")
        return task

    async def wait(self, handle: TaskHandle) -> ExitResult:
        task = self._get(handle)
        await task.done.wait()
        assert task.result is not None
        return task.result

    async def stop(self, handle: TaskHandle, kill_timeout_s: float, signal_name: str) -> None:
        task = self._tasks.get(handle.config.id)
        if task is None or task.result is not None:
            return
        kill_after = _dur_s(handle.config.config, "kill_after")
        if kill_after:
            try:
                await asyncio.wait_for(task.done.wait(), min(kill_after, kill_timeout_s)
                                       if kill_timeout_s > 0 else 0)
            except asyncio.TimeoutError:
                pass
        if task.runner is not None:
            task.runner.cancel()
        try:
            sig = signal_number(signal_name or "SIGINT")
        except ValueError as e:
            raise DriverError(str(e)) from e
        if kill_after and kill_after > kill_timeout_s:
            sig = int(_signal.SIGKILL)
        self._finish(task, ExitResult(exit_code=128 + sig, signal=sig))

    async def signal(self, handle: TaskHandle, sig: str) -> None:
        task = self._get(handle)
        err = handle.config.config.get("signal_error")
        if err:
            raise DriverError(str(err))
        try:
            task.kill_sig = signal_number(sig)
        except ValueError as e:
            raise DriverError(str(e)) from e

    async def exec_streaming(self, handle: TaskHandle, opts: ExecOptions) -> ExitResult:
        """Nomad's mock exec: runs the task's `exec_command` block (`run_for`,
        `stdout_string`, `stderr_string`, `exit_code`); the command `showinput` echoes
        stdin back instead."""
        task = self._get(handle)
        if task.result is not None:
            raise DriverError("task is not running")
        spec = handle.config.config.get("exec_command")
        if isinstance(spec, list):
            spec = spec[0] if spec else None
        if opts.command == ["showinput"]:
            data = bytearray()
            while (chunk := await opts.stdin.get()) is not None:
                data += chunk
            spec = {"stdout_string": f"TTY: {str(opts.tty).lower()}\nStdin:\n"
                                     f"{data.decode(errors='replace')}\n"}
        if not isinstance(spec, dict):
            raise DriverError("no exec command is configured")
        await self.clock.sleep(_dur_s(spec, "run_for"))
        if spec.get("stdout_string"):
            await opts.stdout(str(spec["stdout_string"]).encode())
        if spec.get("stderr_string"):
            await opts.stderr(str(spec["stderr_string"]).encode())
        return ExitResult(exit_code=int(spec.get("exit_code", 0) or 0))

    def recover(self, handle: TaskHandle) -> bool:
        if handle.config.id in self._tasks:
            return True
        if "started_ns" not in handle.state:
            return False
        self._launch(handle)
        return True

    async def destroy(self, handle: TaskHandle) -> None:
        task = self._tasks.pop(handle.config.id, None)
        if task is not None and task.runner is not None:
            task.runner.cancel()
