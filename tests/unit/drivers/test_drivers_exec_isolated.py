"""The exec and java drivers against real processes, namespaces and cgroups (root only)."""

import asyncio
import os
import shutil
import subprocess
import uuid

import pytest

from pynomad.client.driver import DriverError, TaskConfig
from pynomad.drivers.exec import ExecDriver
from pynomad.drivers.isolation import cgroups
from pynomad.drivers.java import JavaDriver

ok, why = cgroups.available()
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not ok,
                                reason=f"needs root and cgroups v1 ({why})")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 90))


def task_config(tmp_path, command="sleep", args=("100",), memory_mb=64, **config):
    alloc_id = f"test-{uuid.uuid4()}"
    shared = tmp_path / "alloc"
    task_dir = tmp_path / "web"
    for path, mode in ((shared, 0o755), (shared / "logs", 0o777), (task_dir, 0o755),
                       (task_dir / "local", 0o777), (task_dir / "secrets", 0o777),
                       (task_dir / "tmp", 0o1777)):
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
    return TaskConfig(
        id=f"{alloc_id}/web/1", alloc_id=alloc_id, task_name="web",
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "GREETING": "hi"},
        config={"command": command, "args": list(args), **config}, alloc_dir=str(shared),
        task_dir=str(task_dir), local_dir=str(task_dir / "local"),
        stdout_path=str(shared / "logs" / "web.stdout"),
        stderr_path=str(shared / "logs" / "web.stderr"), cpu=250, memory_mb=memory_mb)


def stdout(cfg):
    return open(cfg.stdout_path + ".0").read()


async def finish(driver, handle, timeout=0.5):
    await driver.stop(handle, timeout, "SIGTERM")
    result = await driver.wait(handle)
    await driver.destroy(handle)
    return result


def test_task_is_pid_1_chrooted_as_nobody_with_alloc_local_secrets(tmp_path):
    outside = tmp_path / "outside-marker"
    outside.write_text("host only")
    script = ('echo pid=$$; id -un; echo "$GREETING"; ls -d /alloc /local /secrets /tmp; '
              f'test -e {outside} && echo LEAK; test -e {tmp_path} && echo LEAK; '
              'test -e /proc/1/cmdline && echo proc-ok; echo hi > /usr/x 2>/dev/null || echo ro')
    cfg = task_config(tmp_path, "/bin/sh", ["-c", script])

    async def main():
        d = ExecDriver()
        h = await d.start(cfg)
        return await d.wait(h), h

    result, h = run(main())
    out = stdout(cfg)
    assert result.exit_code == 0, out
    assert "pid=1\nnobody\nhi\n/alloc\n/local\n/secrets\n/tmp\n" in out
    assert "LEAK" not in out and "proc-ok" in out and "ro" in out
    assert not os.path.exists(h.state["cgroup"]["memory"])   # removed when it exited


def test_memory_limit_kills_and_reports_oom(tmp_path):
    grow = "x=[]\nwhile True: x.append(bytearray(8 << 20))"
    cfg = task_config(tmp_path, "python3", ["-c", grow], memory_mb=40)

    async def main():
        d = ExecDriver()
        h = await d.start(cfg)
        limit = open(os.path.join(h.state["cgroup"]["memory"], "memory.limit_in_bytes")).read()
        return limit, await d.wait(h)

    limit, result = run(main())
    assert int(limit) == 40 << 20
    assert result.oom_killed and result.err == "OOM Killed" and result.signal == 9


def test_exec_enters_the_tasks_namespaces_and_root(tmp_path):
    cfg = task_config(tmp_path)

    async def main():
        d = ExecDriver()
        h = await d.start(cfg)
        try:
            out, res = await d.exec(h, ["sh", "-c", "id -un; echo $GREETING; cat /proc/1/cmdline;"
                                        " echo; ls /local >/dev/null && echo root-ok"])
            with pytest.raises(DriverError, match="executable file not found"):
                await d.exec(h, ["no-such-command"])
            usage = await d.stats(h)
        finally:
            result = await finish(d, h)
        return out.decode(), res, usage, result, h

    out, res, usage, result, h = run(main())
    assert res.exit_code == 0
    assert out.splitlines()[:2] == ["nobody", "hi"]
    assert "/usr/bin/sleep" in out and "root-ok" in out
    assert str(h.state["task_pid"]) in usage["Pids"]
    assert usage["ResourceUsage"]["MemoryStats"]["Usage"] > 0
    assert result.signal == 9      # sleep as pid 1 ignores SIGTERM: killed after the timeout


def test_host_pid_mode_and_capabilities(tmp_path):
    script = "echo pid=$$; grep CapEff /proc/self/status"
    cfg = task_config(tmp_path, "/bin/sh", ["-c", script], pid_mode="host", cap_drop=["all"],
                      cap_add=["chown"])

    async def main():
        d = ExecDriver()
        h = await d.start(cfg)
        await d.wait(h)
        bad = task_config(tmp_path / "b", cap_add=["net_raw"])
        with pytest.raises(DriverError, match="does not allow the following capabilities"):
            await d.start(bad)
        with pytest.raises(DriverError, match="pid_mode must be"):
            await d.start(task_config(tmp_path / "c", pid_mode="bogus"))

    run(main())
    out = stdout(cfg)
    assert "pid=1\n" not in out
    assert "CapEff:\t0000000000000001" in out     # CAP_CHOWN only


def test_a_new_driver_recovers_the_running_task(tmp_path):
    cfg = task_config(tmp_path, "/bin/sh", ["-c", "echo started; sleep 1; echo finished"])

    async def main():
        h = await ExecDriver().start(cfg)
        again = ExecDriver()
        recovered = again.recover(h)
        if asyncio.iscoroutine(recovered):
            recovered = await recovered
        return recovered, await again.wait(h)

    recovered, result = run(main())
    assert recovered and result.exit_code == 0
    assert stdout(cfg) == "started\nfinished\n"


def test_missing_command_fails_to_start(tmp_path):
    with pytest.raises(DriverError, match="file nope not found"):
        run(ExecDriver().start(task_config(tmp_path, "nope")))


@pytest.mark.skipif(not shutil.which("javac"), reason="needs a JDK")
def test_java_runs_a_jar_built_here_and_logs(tmp_path):
    cfg = task_config(tmp_path, memory_mb=256)
    src = tmp_path / "src"
    src.mkdir()
    (src / "Hello.java").write_text(
        "public class Hello { public static void main(String[] a) {"
        " System.out.println(\"hello \" + String.join(\",\", a) + \" as \""
        " + System.getProperty(\"user.name\")); System.err.println(\"to stderr\"); } }")
    (src / "manifest.txt").write_text("Main-Class: Hello\n")
    subprocess.run(["javac", "Hello.java"], cwd=src, check=True)
    subprocess.run(["jar", "cfm", os.path.join(cfg.local_dir, "hello.jar"), "manifest.txt",
                    "Hello.class"], cwd=src, check=True)
    shutil.copy(src / "Hello.class", cfg.local_dir)
    cfg.config = {"jar_path": "local/hello.jar", "args": ["a", "b"], "jvm_options": ["-Xmx32m"]}

    async def main():
        d = JavaDriver()
        info = d.fingerprint()
        h = await d.start(cfg)
        result = await d.wait(h)
        by_class = task_config(tmp_path / "k", memory_mb=256)
        shutil.copy(src / "Hello.class", by_class.local_dir)
        by_class.config = {"class": "Hello", "class_path": "/local", "args": ["c"]}
        result2 = await d.wait(await d.start(by_class))
        return info, result, result2, stdout(by_class)

    info, result, result2, out2 = run(main())
    assert info.Attributes["driver.java"] == "1" and info.Attributes["driver.java.version"]
    assert result.exit_code == 0 and result2.exit_code == 0
    assert stdout(cfg) == "hello a,b as nobody\n"
    assert open(cfg.stderr_path + ".0").read() == "to stderr\n"
    assert out2 == "hello c as nobody\n"


@pytest.mark.skipif(not shutil.which("javac"), reason="needs a JDK")
def test_java_without_isolation_runs_a_plain_process(tmp_path):
    cfg = task_config(tmp_path, memory_mb=256)
    (tmp_path / "Hi.java").write_text(
        "public class Hi { public static void main(String[] a) {"
        " System.out.println(System.getProperty(\"user.dir\")); } }")
    subprocess.run(["javac", "-d", cfg.local_dir, str(tmp_path / "Hi.java")], check=True)
    cfg.config = {"class": "Hi", "class_path": cfg.local_dir}

    async def main():
        d = JavaDriver(isolate=False)
        h = await d.start(cfg)
        assert "cgroup" not in h.state
        return await d.wait(h)

    assert run(main()).exit_code == 0
    assert stdout(cfg) == cfg.task_dir + "\n"     # the host's view: no chroot


def test_kill_signal_reaches_a_task_that_handles_it_and_no_pivot_root(tmp_path):
    script = 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done'
    cfg = task_config(tmp_path, "/bin/sh", ["-c", script])

    async def main():
        d = ExecDriver()
        d.set_config({"no_pivot_root": True})
        h = await d.start(cfg)
        for _ in range(100):
            if "ready" in open(cfg.stdout_path + ".0").read():
                break
            await asyncio.sleep(0.05)
        await d.stop(h, 10.0, "SIGTERM")
        return await d.wait(h)

    result = run(main())
    assert (result.exit_code, result.signal) == (0, 0)
    assert stdout(cfg) == "ready\ngot-term\n"


def test_root_tasks_keep_the_legacy_capabilities(tmp_path):
    cfg = task_config(tmp_path, "/bin/sh", ["-c", "id -u; grep CapEff /proc/self/status"])
    cfg.user = "root"

    async def main():
        d = ExecDriver()
        return await d.wait(await d.start(cfg))

    assert run(main()).exit_code == 0
    uid, capeff = stdout(cfg).splitlines()
    assert uid == "0" and int(capeff.split()[1], 16) & (1 << 21)    # CAP_SYS_ADMIN


def test_fingerprint_needs_root(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    info = ExecDriver().fingerprint()
    assert (info.Detected, info.Healthy, info.HealthDescription) == \
        (False, False, "Driver must run as root")
    assert not JavaDriver().fingerprint().Detected
