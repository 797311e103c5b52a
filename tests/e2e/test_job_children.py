"""Child jobs against a real `nomad agent -dev`, driven through the CLI as a user would:
a periodic job launched with `nomad job periodic force`, a parameterized job dispatched with
`nomad job dispatch -meta k=v <payload file>` (the payload lands in the task's local dir),
both running to completion with raw_exec and listed by `nomad job status <parent>`."""

from __future__ import annotations

import json

from conftest import Agent, wait_for, write_job

PERIODIC = '''
job "cleanup" {
  datacenters = ["dc1"]
  type        = "batch"
  periodic {
    cron             = "0 0 1 1 *"
    prohibit_overlap = true
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo cleaned up"]
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
'''

PARAMETERIZED = '''
job "encode" {
  datacenters = ["dc1"]
  type        = "batch"
  meta {
    preset = "fast"
  }
  parameterized {
    payload       = "required"
    meta_required = ["input"]
    meta_optional = ["quality"]
  }
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "echo input=${NOMAD_META_input} preset=${NOMAD_META_preset}; cat ${NOMAD_TASK_DIR}/in/payload.txt"]
      }
      dispatch_payload {
        file = "in/payload.txt"
      }
      resources {
        cpu    = 20
        memory = 16
      }
    }
  }
}
'''


def completed_alloc(agent: Agent, job_id: str) -> dict:
    from urllib.parse import quote

    path = f"/v1/job/{quote(job_id, safe='')}/allocations"
    allocs = wait_for(lambda: (a := agent.get(path)) and all(x["ClientStatus"] == "complete"
                                                             for x in a) and a,
                      60, what=f"{job_id} complete")
    assert len(allocs) == 1
    return allocs[0]


def test_periodic_force_runs_a_child(dev_agent: Agent):
    agent = dev_agent
    run = agent.nomad("job", "run", str(write_job(agent.tmp, "periodic.nomad", PERIODIC)))
    assert "Approximate next launch time" in run.stdout
    assert agent.get("/v1/job/cleanup/evaluations") == []  # the parent is never evaluated

    forced = agent.nomad("job", "periodic", "force", "cleanup")
    assert 'Evaluation triggered by job "cleanup/periodic-' in forced.stdout
    kids = [j for j in agent.get("/v1/jobs?prefix=cleanup/periodic-") if j["ParentID"] == "cleanup"]
    assert len(kids) == 1
    child = kids[0]["ID"]
    alloc = completed_alloc(agent, child)
    assert agent.nomad("alloc", "logs", alloc["ID"]).stdout == "cleaned up\n"

    status = agent.nomad("job", "status", "cleanup").stdout
    assert "Periodic             = true" in status and "Next Periodic Launch" in status
    assert "Previously Launched Jobs" in status and child in status

    status, body = agent.request("POST", "/v1/job/encode-missing/periodic/force")
    assert status == 404
    agent.nomad("job", "run", str(write_job(agent.tmp, "param.nomad", PARAMETERIZED)))
    status, body = agent.request("POST", "/v1/job/encode/periodic/force")
    assert (status, body) == (400, b"can't force launch non-periodic job")


def test_dispatch_with_meta_and_payload(dev_agent: Agent):
    agent = dev_agent
    agent.nomad("job", "run", str(write_job(agent.tmp, "param.nomad", PARAMETERIZED)))
    payload = write_job(agent.tmp, "payload.txt", "frames 1-100\n")

    missing = agent.nomad("job", "dispatch", "-meta", "input=a.mp4", "encode", check=False)
    assert missing.returncode == 1
    assert "Payload is not provided but required by parameterized job" in missing.stderr
    unknown = agent.nomad("job", "dispatch", "-meta", "input=a.mp4", "-meta", "x=1", "encode",
                          str(payload), check=False)
    assert "Dispatch request included unpermitted metadata keys: [x]" in unknown.stderr

    out = agent.nomad("job", "dispatch", "-meta", "input=a.mp4", "encode", str(payload)).stdout
    line = next(x for x in out.splitlines() if x.startswith("Dispatched Job ID"))
    child = line.split("=", 1)[1].strip()
    assert child.startswith("encode/dispatch-")
    assert "finished with status \"complete\"" in out

    alloc = completed_alloc(agent, child)
    logs = agent.nomad("alloc", "logs", alloc["ID"]).stdout
    assert logs == "input=a.mp4 preset=fast\nframes 1-100\n"

    from urllib.parse import quote

    job = agent.get(f"/v1/job/{quote(child, safe='')}")
    assert job["ParentID"] == "encode" and job["Dispatched"] is True
    assert job["Meta"] == {"preset": "fast", "input": "a.mp4"}
    status = agent.nomad("job", "status", "encode").stdout
    assert "Parameterized = true" in status and "Dispatched Jobs" in status and child in status

    status, body = agent.request("POST", "/v1/job/encode/dispatch",
                                 {"Meta": {"input": "b"}, "Payload": "aGk="})
    assert status == 200
    reply = json.loads(body)
    assert set(reply) >= {"Index", "JobCreateIndex", "EvalID", "EvalCreateIndex",
                          "DispatchedJobID"}
