"""The exec and java drivers through the CLI against real agents: namespaces, chroot,
user, memory limit and OOM event, `nomad alloc exec`, re-attach after `kill -9`, a jar
built here. Needs root and cgroups v1 (the drivers' own requirements)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest

from conftest import Agent, pids_with_marker, wait_for, write_job
from pynomad.drivers.isolation import cgroups

ok, why = cgroups.available()
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not ok,
                                reason=f"exec needs root and cgroups v1 ({why})")

ISOLATED = '''
job "iso" {
  datacenters = ["dc1"]
  group "web" {
    task "shell" {
      driver       = "exec"
      kill_timeout = "1s"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo pid=$$; id -un; echo dir=$NOMAD_TASK_DIR; test -e %(outside)s && echo LEAK; exec sleep 300"]
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
  group "hog" {
    restart {
      attempts = 0
      mode     = "fail"
    }
    reschedule {
      attempts  = 0
      unlimited = false
    }
    task "grow" {
      driver = "exec"
      config {
        command = "python3"
        args    = ["-c", "x = []\\nwhile True: x.append(bytearray(8 << 20))"]
      }
      resources {
        cpu    = 100
        memory = 40
      }
    }
  }
}
'''


def _alloc(agent: Agent, job: str, group: str, status: str) -> dict:
    allocs = agent.wait_allocs(
        job, lambda a: [x for x in a if x["TaskGroup"] == group and x["ClientStatus"] == status],
        timeout=90, what=f"{job}/{group} {status}")
    return next(x for x in allocs if x["TaskGroup"] == group and x["ClientStatus"] == status)


def test_exec_task_is_isolated_limited_and_exec_enters_it(dev_agent: Agent, tmp_path) -> None:
    outside = tmp_path / "host-only-file"
    outside.write_text("not for tasks")
    job = write_job(tmp_path, "iso.nomad", ISOLATED % {"outside": outside})
    dev_agent.nomad("job", "run", "-detach", str(job))

    web = _alloc(dev_agent, "iso", "web", "running")["ID"]
    logs = wait_for(lambda: (lambda out: out if "dir=" in out else None)(
        dev_agent.nomad("alloc", "logs", web, "shell").stdout), what="task output")
    assert logs.splitlines() == ["pid=1", "nobody", "dir=/local"]   # pid 1, nobody, no LEAK

    ps = dev_agent.nomad("alloc", "exec", "-i=false", web, "ps", "-o", "pid,user,args").stdout
    rows = [line.split(None, 2) for line in ps.splitlines()[1:]]
    assert rows[0][:2] == ["1", "nobody"] and rows[0][2].startswith("sleep 300")
    assert len(rows) == 2      # only the task and ps itself: a pid namespace of its own
    seen = dev_agent.nomad("alloc", "exec", "-i=false", web, "/bin/sh", "-c",
                           f"id -un; ls /alloc/logs; cat {outside}", check=False)
    assert seen.returncode != 0 and "No such file" in seen.stderr
    assert seen.stdout.splitlines()[0] == "nobody" and "shell.stdout.0" in seen.stdout

    hog = _alloc(dev_agent, "iso", "hog", "failed")["ID"]
    status = dev_agent.nomad("alloc", "status", hog).stdout
    assert 'Exit Code: 137, Signal: 9, Exit Message: "OOM Killed"' in status
    info = dev_agent.get(f"/v1/allocation/{hog}")
    terminated = [e for e in info["TaskStates"]["grow"]["Events"] if e["Type"] == "Terminated"]
    assert terminated[-1]["Details"]["oom_killed"] == "true"

    dev_agent.nomad("job", "stop", "iso")
    path = f"/sys/fs/cgroup/memory/nomad/{web}.shell"
    wait_for(lambda: not os.path.exists(path), 30, what="cgroup removed")


SLEEPER = '''
job "keep" {
  datacenters = ["dc1"]
  group "g" {
    task "t" {
      driver       = "exec"
      kill_timeout = "1s"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo up; sleep 300; echo %s"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
'''


def test_exec_task_survives_agent_kill_and_is_reattached(tmp_path) -> None:
    marker = f"keep-{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "data"
    agent = Agent(tmp_path, dev=False, data_dir=data_dir).start()
    try:
        agent.nomad("job", "run", "-detach", str(write_job(tmp_path, "k.nomad",
                                                            SLEEPER % marker)))
        alloc = _alloc(agent, "keep", "g", "running")["ID"]
        pids = wait_for(lambda: pids_with_marker(marker), 30, what="task process")
        agent.kill()
        assert pids_with_marker(marker) == pids            # the task outlives the agent
        restarted = Agent(tmp_path, dev=False, data_dir=data_dir)
        restarted.http, restarted.rpc, restarted.serf = agent.http, agent.rpc, agent.serf
        restarted.addr, restarted.config = agent.addr, agent.config
        agent = restarted.start()
        assert _alloc(agent, "keep", "g", "running")["ID"] == alloc
        assert pids_with_marker(marker) == pids            # the same process, re-attached
        ps = agent.nomad("alloc", "exec", "-i=false", alloc, "ps", "-o", "pid=,args=").stdout
        assert ps.splitlines()[0].split()[:2] == ["1", "/bin/sh"]
        state = agent.get(f"/v1/allocation/{alloc}")["TaskStates"]["t"]
        assert [e["Type"] for e in state["Events"]].count("Started") == 1
        agent.nomad("job", "stop", "keep")
        wait_for(lambda: not pids_with_marker(marker), 30, what="task stopped")
    finally:
        agent.stop()


JAVA = '''
job "hello" {
  datacenters = ["dc1"]
  type        = "batch"
  group "g" {
    task "fetch" {
      driver = "raw_exec"
      lifecycle {
        hook = "prestart"
      }
      config {
        command = "/bin/cp"
        args    = ["%s", "${NOMAD_ALLOC_DIR}/hello.jar"]
      }
    }
    task "app" {
      driver = "java"
      config {
        jar_path    = "/alloc/hello.jar"
        jvm_options = ["-Xmx32m"]
        args        = ["from", "nomad"]
      }
      resources {
        cpu    = 200
        memory = 256
      }
    }
  }
}
'''


@pytest.mark.skipif(not shutil.which("javac"), reason="needs a JDK")
def test_java_runs_a_jar_and_logs(dev_agent: Agent, tmp_path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "Hello.java").write_text(
        "public class Hello { public static void main(String[] a) {"
        " System.out.println(\"hello \" + String.join(\" \", a) + \" as \""
        " + System.getProperty(\"user.name\")); } }")
    (src / "manifest.txt").write_text("Main-Class: Hello\n")
    subprocess.run(["javac", "Hello.java"], cwd=src, check=True)
    subprocess.run(["jar", "cfm", "hello.jar", "manifest.txt", "Hello.class"], cwd=src,
                   check=True)
    node = dev_agent.get("/v1/nodes")[0]["ID"]
    attrs = dev_agent.get(f"/v1/node/{node}")["Attributes"]
    assert attrs["driver.java"] == "1" and attrs["driver.java.version"].startswith("17")

    dev_agent.nomad("job", "run", "-detach", str(write_job(tmp_path, "hello.nomad",
                                                            JAVA % (src / "hello.jar"))))
    alloc = _alloc(dev_agent, "hello", "g", "complete")["ID"]
    assert dev_agent.nomad("alloc", "logs", alloc, "app").stdout == "hello from nomad as nobody\n"
