"""Driver-level exec (`nomad alloc exec`): raw_exec against real processes, and the mock."""

import asyncio
import os

import pytest

from pynomad.client.driver import DriverError, ExecOptions, TaskConfig
from pynomad.drivers.mock import MockDriver
from pynomad.drivers.raw_exec import RawExecDriver


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def _cfg(tmp, command="sleep", args=("100",)):
    task_dir = os.path.join(tmp, "t")
    logs = os.path.join(tmp, "logs")
    os.makedirs(task_dir, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    return TaskConfig(id="a/t/1", alloc_id="a", task_name="t",
                      env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GREETING": "hi"},
                      config={"command": command, "args": list(args)}, task_dir=task_dir,
                      stdout_path=os.path.join(logs, "t.stdout"),
                      stderr_path=os.path.join(logs, "t.stderr"))


def _collecting(command, tty=False):
    out, err = bytearray(), bytearray()

    async def on_out(data):
        out.extend(data)

    async def on_err(data):
        err.extend(data)

    return ExecOptions(command=command, tty=tty, stdout=on_out, stderr=on_err), out, err


def test_raw_exec_runs_in_task_env_with_stdin(tmp_path):
    async def main():
        d = RawExecDriver()
        cfg = _cfg(str(tmp_path))
        h = await d.start(cfg)
        try:
            opts, out, err = _collecting(
                ["sh", "-c", 'echo "$GREETING"; pwd; cat; echo bad >&2; exit 3'])
            opts.stdin.put_nowait(b"from stdin\n")
            opts.stdin.put_nowait(None)
            res = await d.exec_streaming(h, opts)
            assert res.exit_code == 3
            assert out.decode().splitlines() == ["hi", os.path.realpath(cfg.task_dir),
                                                 "from stdin"]
            assert err == b"bad\n"
        finally:
            await d.stop(h, 1, "SIGKILL")
    run(main())


def test_raw_exec_tty(tmp_path):
    async def main():
        d = RawExecDriver()
        h = await d.start(_cfg(str(tmp_path)))
        try:
            opts, out, _ = _collecting(["sh", "-c", "tty; stty size"], tty=True)
            opts.resize.put_nowait((30, 100))
            res = await d.exec_streaming(h, opts)
            assert res.exit_code == 0
            lines = out.decode().split()
            assert lines[0].startswith("/dev/pts/")
            assert lines[1:] == ["30", "100"]
        finally:
            await d.stop(h, 1, "SIGKILL")
    run(main())


def test_raw_exec_cancel_kills_command(tmp_path):
    async def main():
        d = RawExecDriver()
        h = await d.start(_cfg(str(tmp_path)))
        marker = tmp_path / "started"
        try:
            opts, _, _ = _collecting(["sh", "-c", f"touch {marker}; exec sleep 100"])
            job = asyncio.ensure_future(d.exec_streaming(h, opts))
            while not marker.exists():
                await asyncio.sleep(0.02)
            job.cancel()
            with pytest.raises(asyncio.CancelledError):
                await job
        finally:
            await d.stop(h, 1, "SIGKILL")
    run(main())


def test_raw_exec_errors(tmp_path):
    async def main():
        d = RawExecDriver()
        h = await d.start(_cfg(str(tmp_path)))
        try:
            with pytest.raises(DriverError, match="executable file not found"):
                await d.exec_streaming(h, _collecting(["no-such-cmd-xyz"])[0])
            with pytest.raises(DriverError, match="no such file"):
                await d.exec_streaming(h, _collecting(["./missing"])[0])
            output, res = await d.exec(h, ["sh", "-c", "echo a; echo b >&2"])
            assert res.exit_code == 0 and sorted(output.split()) == [b"a", b"b"]
        finally:
            await d.stop(h, 1, "SIGKILL")
        await d.wait(h)
        with pytest.raises(DriverError, match="not running"):
            await d.exec_streaming(h, _collecting(["true"])[0])
    run(main())


def test_mock_exec_command_and_showinput():
    async def main():
        d = MockDriver()
        cfg = TaskConfig(id="a/t/1", alloc_id="a", task_name="t",
                         config={"run_for": "10s",
                                 "exec_command": {"stdout_string": "out", "exit_code": 2}})
        h = await d.start(cfg)
        opts, out, _ = _collecting(["anything"])
        assert (await d.exec_streaming(h, opts)).exit_code == 2 and out == b"out"
        opts, out, _ = _collecting(["showinput"])
        opts.stdin.put_nowait(b"typed")
        opts.stdin.put_nowait(None)
        assert (await d.exec_streaming(h, opts)).exit_code == 0
        assert out == b"TTY: false\nStdin:\ntyped\n"
        await d.stop(h, 1, "SIGINT")
        with pytest.raises(DriverError):
            await d.exec_streaming(h, _collecting(["x"])[0])
        h2 = await d.start(TaskConfig(id="a/t/2", alloc_id="a", task_name="t",
                                      config={"run_for": "10s"}))
        with pytest.raises(DriverError, match="no exec command"):
            await d.exec_streaming(h2, _collecting(["x"])[0])
        await d.stop(h2, 1, "SIGINT")
    run(main())
