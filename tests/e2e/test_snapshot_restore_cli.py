"""`nomad operator snapshot save|restore|inspect` and `nomad operator raft list-peers`
against a durable single-server agent, driven through the CLI as a user would."""

from __future__ import annotations

import pytest
from conftest import Agent, wait_for, write_job

JOB = '''
job "snapjob" {
  datacenters = ["dc1"]
  group "web" {
    task "server" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["1000"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
'''


@pytest.fixture
def durable_agent(tmp_path):
    agent = Agent(tmp_path, dev=False, data_dir=tmp_path / "data").start()
    yield agent
    agent.stop()


def test_save_purge_restore(durable_agent: Agent, tmp_path):
    agent = durable_agent
    agent.nomad("job", "run", str(write_job(tmp_path, "snap.nomad.hcl", JOB)))
    agent.wait_allocs("snapjob", lambda a: any(x["ClientStatus"] == "running" for x in a))

    snap = tmp_path / "backup.snap"
    out = agent.nomad("operator", "snapshot", "save", str(snap)).stdout
    assert out.strip() == f"State file written to {snap}"
    info = agent.nomad("operator", "snapshot", "inspect", str(snap)).stdout.splitlines()
    assert [line.split()[0] for line in info[:5]] == ["ID", "Size", "Index", "Term", "Version"]

    agent.nomad("job", "stop", "-purge", "snapjob")
    wait_for(lambda: agent.request("GET", "/v1/job/snapjob")[0] == 404, what="job purged")

    out = agent.nomad("operator", "snapshot", "restore", str(snap)).stdout
    assert out.strip() == "Snapshot Restored"
    assert agent.get("/v1/job/snapjob")["ID"] == "snapjob"
    assert "snapjob" in agent.nomad("job", "status").stdout

    # durable: a restart comes back with the restored state
    agent.stop_all_jobs = lambda: None  # keep the job through the restart
    agent.stop()
    agent.start()
    del agent.stop_all_jobs  # the fixture's stop cleans up as usual
    assert agent.get("/v1/job/snapjob")["ID"] == "snapjob"


def test_list_peers_and_corrupt_restore(durable_agent: Agent, tmp_path):
    agent = durable_agent
    out = agent.nomad("operator", "raft", "list-peers").stdout.splitlines()
    assert out[0].split() == ["Node", "ID", "Address", "State", "Voter", "RaftProtocol"]
    assert len(out) == 2
    row = out[1].split()
    assert row[3:] == ["leader", "true", "3"]
    assert row[2] == f"127.0.0.1:{agent.rpc}"

    bad = tmp_path / "corrupt.snap"
    bad.write_bytes(b"\x1f\x8b this is not a snapshot")
    res = agent.nomad("operator", "snapshot", "restore", str(bad), check=False)
    assert res.returncode == 1
    assert res.stderr.startswith("Error restoring snapshot:")
    assert "400" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    status, _ = agent.request("GET", "/v1/jobs")
    assert status == 200
