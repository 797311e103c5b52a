"""The raw_exec driver against real processes."""

import asyncio
import os
import pwd
import signal
import tempfile
import time

import msgspec
import pytest

from pynomad.client.driver import DriverError, TaskConfig, TaskHandle
from pynomad.drivers.raw_exec import RawExecDriver
from pynomad.drivers.raw_exec.process import is_alive


def _read(path):
    with open(path) as f:
        return f.read()


def _cfg(tmp, command, args, task="t", **kw):
    task_dir = os.path.join(tmp, task)
    logs = os.path.join(tmp, "logs")
    os.makedirs(task_dir, exist_ok=True)
    os.makedirs(logs, exist_ok=True)
    return TaskConfig(id=f"a/{task}/1", alloc_id="a", task_name=task,
                      env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GREETING": "hi"},
                      config={"command": command, "args": args}, task_dir=task_dir,
                      stdout_path=os.path.join(logs, f"{task}.stdout"),
                      stderr_path=os.path.join(logs, f"{task}.stderr"), **kw)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def test_fingerprint():
    assert RawExecDriver().fingerprint().Detected
    info = RawExecDriver(enabled=False).fingerprint()
    assert not info.Detected and info.HealthDescription == "disabled"


def test_exit_code_and_logs(tmp_path):
    async def main():
        d = RawExecDriver()
        cfg = _cfg(str(tmp_path), "sh", ["-c", "echo $GREETING; echo oops >&2; exit 3"])
        h = await d.start(cfg)
        res = await d.wait(h)
        assert (res.exit_code, res.signal) == (3, 0)
        assert _read(cfg.stdout_path + ".0") == "hi\n"
        assert _read(cfg.stderr_path + ".0") == "oops\n"
    run(main())


def test_stop_sends_sigint_to_group(tmp_path):
    async def main():
        d = RawExecDriver()
        h = await d.start(_cfg(str(tmp_path), "sleep", ["100"]))
        assert d.inspect(h)["task_alive"]
        await d.stop(h, kill_timeout_s=5, signal_name="SIGINT")
        res = await d.wait(h)
        assert res.signal == signal.SIGINT and res.exit_code == 128 + signal.SIGINT
        assert not is_alive(h.state["task_pid"], h.state["task_ctime"])
    run(main())


def test_stop_escalates_to_sigkill(tmp_path):
    async def main():
        d = RawExecDriver()
        script = "trap '' INT; echo ready; while true; do sleep 0.05; done"
        cfg = _cfg(str(tmp_path), "sh", ["-c", script])
        h = await d.start(cfg)
        for _ in range(200):   # wait for the trap to be installed
            if os.path.exists(cfg.stdout_path + ".0") and _read(cfg.stdout_path + ".0"):
                break
            await asyncio.sleep(0.02)
        await d.stop(h, kill_timeout_s=0.3, signal_name="SIGINT")
        res = await d.wait(h)
        assert res.signal == signal.SIGKILL
    run(main())


def test_recover_from_serialized_handle(tmp_path):
    async def main():
        d = RawExecDriver()
        h = await d.start(_cfg(str(tmp_path), "sh", ["-c", "sleep 0.5; exit 7"]))
        blob = h.encode()
        del h
        fresh = RawExecDriver()            # as after an agent restart
        h2 = TaskHandle.decode(blob)
        assert fresh.recover(h2)
        res = await fresh.wait(h2)
        assert res.exit_code == 7
        assert fresh.recover(h2)           # finished tasks still have their status
    run(main())


def test_task_survives_executor_parent_and_handle_recovers_after_exit(tmp_path):
    async def main():
        d = RawExecDriver()
        h = await d.start(_cfg(str(tmp_path), "true", []))
        await d.wait(h)
        data = msgspec.msgpack.encode(h)
        for _ in range(500):                  # the executor exits just after the task
            if not d._executor_alive(h):
                break
            await asyncio.sleep(0.01)
        os.unlink(h.state["status_path"])     # no status, no process: gone
        assert not RawExecDriver().recover(msgspec.msgpack.decode(data, type=TaskHandle))
    run(main())


def test_command_not_found(tmp_path):
    async def main():
        with pytest.raises(DriverError) as e:
            await RawExecDriver().start(_cfg(str(tmp_path), "definitely-not-a-command", []))
        assert not e.value.recoverable
    run(main())


def test_relative_command_in_task_dir(tmp_path):
    async def main():
        cfg = _cfg(str(tmp_path), "local/run.sh", [])
        os.makedirs(os.path.join(cfg.task_dir, "local"))
        script = os.path.join(cfg.task_dir, "local", "run.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho from-script\n")
        os.chmod(script, 0o755)
        d = RawExecDriver()
        h = await d.start(cfg)
        assert (await d.wait(h)).exit_code == 0
        assert _read(cfg.stdout_path + ".0") == "from-script\n"
    run(main())


def test_signal(tmp_path):
    async def main():
        d = RawExecDriver()
        cfg = _cfg(str(tmp_path), "sh", ["-c", "trap 'echo got-hup; exit 0' HUP; echo ready; "
                                               "while true; do sleep 0.05; done"])
        h = await d.start(cfg)
        for _ in range(200):
            if os.path.exists(cfg.stdout_path + ".0") and _read(cfg.stdout_path + ".0"):
                break
            await asyncio.sleep(0.02)
        await d.signal(h, "SIGHUP")
        res = await d.wait(h)
        assert res.exit_code == 0
        assert "got-hup" in _read(cfg.stdout_path + ".0")
    run(main())


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_runs_as_user_nobody():
    base = tempfile.mkdtemp(prefix="pynomad-rawexec-")
    os.chmod(base, 0o755)

    async def main():
        d = RawExecDriver()
        cfg = _cfg(base, "id", ["-u"], user="nobody")
        h = await d.start(cfg)
        assert (await d.wait(h)).exit_code == 0
        assert _read(cfg.stdout_path + ".0").strip() == str(pwd.getpwnam("nobody").pw_uid)
    run(main())


def test_unknown_user_fails(tmp_path):
    async def main():
        with pytest.raises(DriverError):
            await RawExecDriver().start(_cfg(str(tmp_path), "true", [], user="no-such-user-x"))
    run(main())


def test_start_is_fast_enough_to_be_usable(tmp_path):
    async def main():
        d = RawExecDriver()
        t0 = time.monotonic()
        h = await d.start(_cfg(str(tmp_path), "true", []))
        await d.wait(h)
        return time.monotonic() - t0
    assert run(main()) < 30   # sanity only; no timing assertions beyond "it finishes"


AGENT_SCRIPT = r"""
import asyncio, os, sys
from pynomad.client.driver import TaskConfig
from pynomad.drivers.raw_exec import RawExecDriver
async def main():
    tmp = sys.argv[1]
    cfg = TaskConfig(id="a/t/1", alloc_id="a", task_name="t", env={"PATH": os.environ["PATH"]},
                     config={"command": "sh", "args": ["-c", "sleep 0.7; echo done; exit 5"]},
                     task_dir=tmp, stdout_path=tmp + "/t.stdout", stderr_path=tmp + "/t.stderr")
    h = await RawExecDriver().start(cfg)
    sys.stdout.buffer.write(h.encode().hex().encode() + b"\n")
    sys.stdout.flush()
    await asyncio.sleep(3600)
asyncio.run(main())
"""


def test_task_survives_agent_kill_9(tmp_path):
    import subprocess
    import sys
    agent = subprocess.Popen([sys.executable, "-c", AGENT_SCRIPT, str(tmp_path)],
                             stdout=subprocess.PIPE)
    try:
        blob = bytes.fromhex(agent.stdout.readline().decode().strip())
    finally:
        agent.kill()          # SIGKILL the "agent"
        agent.wait()
        agent.stdout.close()
    handle = TaskHandle.decode(blob)

    async def main():
        d = RawExecDriver()
        assert d.recover(handle)
        return await d.wait(handle)
    res = run(main())
    assert res.exit_code == 5
    assert _read(str(tmp_path / "t.stdout.0")) == "done\n"
