"""`nomad alloc fs` and `nomad alloc exec` against a real `nomad agent -dev` running a
raw_exec job, driven through the CLI as a user would."""

from __future__ import annotations

import subprocess

from conftest import NOMAD, Agent, wait_for, write_job

JOB = '''
job "shell" {
  datacenters = ["dc1"]
  group "g" {
    task "t" {
      driver = "raw_exec"
      env {
        GREETING = "hello-from-env"
      }
      config {
        command = "/bin/sh"
        args    = ["-c", "echo started > ${NOMAD_TASK_DIR}/note.txt; echo out-line; exec sleep 300"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
'''


def _running_alloc(agent: Agent) -> str:
    agent.nomad("job", "run", "-detach", str(write_job(agent.tmp, "shell.nomad.hcl", JOB)))
    allocs = agent.wait_allocs("shell", lambda a: a and a[0]["ClientStatus"] == "running",
                               what="shell alloc running")
    alloc_id = allocs[0]["ID"]
    wait_for(lambda: "note.txt" in agent.nomad("alloc", "fs", alloc_id, "t/local").stdout,
             what="task wrote its note")
    return alloc_id


def test_alloc_fs_and_exec(dev_agent: Agent) -> None:
    alloc_id = _running_alloc(dev_agent)

    root = dev_agent.nomad("alloc", "fs", alloc_id[:8]).stdout
    assert root.splitlines()[0].split() == ["Mode", "Size", "Modified", "Time", "Name"]
    names = [line.split()[-1] for line in root.splitlines()[1:]]
    assert "alloc/" in names and "t/" in names

    assert dev_agent.nomad("fs", alloc_id, "t/local/note.txt").stdout == "started\n"
    stat = dev_agent.nomad("alloc", "fs", "-stat", "-H", alloc_id, "t/local/note.txt").stdout
    assert stat.splitlines()[1].split()[1] == "8"
    assert stat.splitlines()[1].endswith("note.txt")
    logs = dev_agent.nomad("alloc", "fs", "-tail", "-n", "1", alloc_id, "alloc/logs/t.stdout.0")
    assert logs.stdout == "out-line\n"
    missing = dev_agent.nomad("alloc", "fs", alloc_id, "t/nope", check=False)
    assert missing.returncode == 1 and "Error stating file" in missing.stderr

    res = dev_agent.nomad("alloc", "exec", "-i=false", alloc_id, "/bin/sh", "-c",
                          "echo hi; echo $GREETING; pwd; echo err >&2; exit 3", check=False)
    assert res.returncode == 3, res.stderr
    lines = res.stdout.splitlines()
    assert lines[:2] == ["hi", "hello-from-env"]
    assert lines[2].endswith(f"{alloc_id}/t")
    assert res.stderr == "err\n"

    proc = subprocess.run([NOMAD, "alloc", "exec", "-i", "-task", "t", alloc_id, "cat"],
                          input="line one\nline two\n", capture_output=True, text=True,
                          env=dev_agent.env(), timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "line one\nline two\n"), proc.stderr

    bad = dev_agent.nomad("alloc", "exec", "-i=false", alloc_id, "no-such-command-xyz",
                          check=False)
    assert bad.returncode == 1 and "executable file not found" in bad.stderr
    bad_task = dev_agent.nomad("alloc", "exec", "-task", "nope", alloc_id, "true", check=False)
    assert bad_task.returncode == 1 and "Could not find task named: nope" in bad_task.stderr


def test_monitor_and_agent_info(dev_agent: Agent) -> None:
    info = dev_agent.nomad("agent-info").stdout.splitlines()
    assert "nomad" in info and "  server = true" in info
    mon = subprocess.Popen([NOMAD, "monitor", "-log-level", "debug"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=dev_agent.env())
    try:
        wait_for(lambda: dev_agent.get("/v1/agent/self"), what="agent answers")
        _running_alloc(dev_agent)    # the task runner logs its events at INFO
        seen = []
        while not any("Started" in line for line in seen):
            line = mon.stdout.readline().decode()
            assert line, mon.stderr.read().decode()
            seen.append(line)
        assert any("[INFO]" in line for line in seen)
    finally:
        mon.terminate()
        mon.wait(30)
