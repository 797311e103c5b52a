"""Operator controls against a real `nomad agent -dev`: scheduler configuration, node
eligibility, node drain and `job plan`, driven through the CLI as a user would."""

from __future__ import annotations

import json

from conftest import Agent, wait_for, write_job


def service_job(job_id: str, count: int = 1, sleep: str = "1000") -> str:
    return f'''
job "{job_id}" {{
  datacenters = ["dc1"]
  group "web" {{
    count = {count}
    task "server" {{
      driver = "raw_exec"
      config {{
        command = "/bin/sleep"
        args    = ["{sleep}"]
      }}
      resources {{
        cpu    = 20
        memory = 16
      }}
    }}
  }}
}}
'''


def node_id(agent: Agent) -> str:
    return agent.get("/v1/nodes")[0]["ID"]


def running(allocs, n):
    live = [a for a in allocs if a["DesiredStatus"] == "run"]
    return len(live) == n and all(a["ClientStatus"] == "running" for a in live)


def test_scheduler_config_round_trip(dev_agent: Agent):
    out = dev_agent.nomad("operator", "scheduler", "get-config").stdout
    assert "Scheduler Algorithm           = binpack" in out
    assert "Preemption System Scheduler   = true" in out
    index = int(out.strip().splitlines()[-1].split("=")[1])
    assert out.strip().splitlines()[-1].startswith("Modify Index")

    res = dev_agent.nomad("operator", "scheduler", "set-config", "-scheduler-algorithm=spread",
                          "-preempt-service-scheduler=true", f"-check-index={index}")
    assert res.stdout.strip() == "Scheduler configuration updated!"
    cfg = json.loads(dev_agent.nomad("operator", "scheduler", "get-config", "-json").stdout)
    assert cfg["SchedulerAlgorithm"] == "spread"
    assert cfg["PreemptionConfig"]["ServiceSchedulerEnabled"] is True
    assert cfg["ModifyIndex"] > index

    stale = dev_agent.nomad("operator", "scheduler", "set-config", "-pause-eval-broker=true",
                            f"-check-index={index}", check=False)
    assert stale.returncode == 1 and "could not be atomically updated" in stale.stdout
    bad = dev_agent.nomad("operator", "scheduler", "set-config", "-scheduler-algorithm=random",
                          check=False)
    assert bad.returncode == 1

    # the HTTP API: CAS via ?cas=, bad bodies are 400s
    status, body = dev_agent.request("PUT", "/v1/operator/scheduler/configuration?cas=1",
                                     {"SchedulerAlgorithm": "binpack"})
    assert status == 200 and json.loads(body)["Updated"] is False
    status, body = dev_agent.request("PUT", "/v1/operator/scheduler/configuration",
                                     {"SchedulerAlgorithm": "nope"})
    assert status == 400 and b"invalid scheduler algorithm" in body
    status, _ = dev_agent.request("PUT", "/v1/operator/scheduler/configuration?cas=x", {})
    assert status == 400
    status, _ = dev_agent.request("PUT", "/v1/operator/scheduler/configuration", b"{not json")
    assert status == 400


def test_eligibility_blocks_then_places(dev_agent: Agent):
    nid = node_id(dev_agent)
    out = dev_agent.nomad("node", "eligibility", "-disable", nid).stdout
    assert "ineligible for scheduling" in out
    assert dev_agent.get(f"/v1/node/{nid}")["SchedulingEligibility"] == "ineligible"

    path = write_job(dev_agent.tmp, "elig.nomad", service_job("elig"))
    dev_agent.nomad("job", "run", "-detach", str(path))
    wait_for(lambda: any(ev["Status"] == "blocked" for ev in dev_agent.get("/v1/job/elig/evaluations")),
             30, what="blocked eval")
    assert dev_agent.allocs("elig") == []

    dev_agent.nomad("node", "eligibility", "-enable", nid)
    dev_agent.wait_allocs("elig", lambda a: running(a, 1), what="alloc placed after -enable")
    events = [e["Message"] for e in dev_agent.get(f"/v1/node/{nid}")["Events"]]
    assert "Node marked as ineligible for scheduling" in events
    assert events[-1] == "Node marked as eligible for scheduling"

    status, body = dev_agent.request("POST", f"/v1/node/{nid}/eligibility", {"Eligibility": "bogus"})
    assert status == 400 and b"invalid scheduling eligibility" in body
    status, _ = dev_agent.request("POST", "/v1/node/not-a-node/eligibility", {"Eligibility": "eligible"})
    assert status == 404
    status, body = dev_agent.request("POST", f"/v1/node/{nid}/evaluate")
    assert status == 200 and json.loads(body)["EvalIDs"]


def test_drain_single_node_stops_service_allocs(dev_agent: Agent):
    nid = node_id(dev_agent)
    path = write_job(dev_agent.tmp, "drainme.nomad", service_job("drainme"))
    dev_agent.nomad("job", "run", str(path))
    dev_agent.wait_allocs("drainme", lambda a: running(a, 1), what="alloc running")

    res = dev_agent.nomad("node", "drain", "-enable", "-yes", "-deadline", "1m", "-m", "maint",
                          nid, timeout=90)
    assert "drain strategy set" in res.stdout and f"Drain complete for node {nid}" in res.stdout
    node = dev_agent.get(f"/v1/node/{nid}")
    assert node["SchedulingEligibility"] == "ineligible" and node["DrainStrategy"] is None
    assert node["LastDrain"]["Status"] == "complete"
    assert node["LastDrain"]["Meta"] == {"message": "maint"}
    messages = [e["Message"] for e in node["Events"]]
    assert "Node drain strategy set" in messages and "Node drain complete" in messages
    allocs = dev_agent.allocs("drainme")
    assert allocs and all(a["DesiredStatus"] == "stop" for a in allocs)
    assert all(a["ClientStatus"] == "complete" for a in allocs)
    full = dev_agent.get(f"/v1/allocation/{allocs[0]['ID']}")
    assert full["DesiredTransition"]["Migrate"] is True
    # nowhere to migrate to: the replacement waits in a blocked eval
    assert any(ev["Status"] == "blocked" for ev in dev_agent.get("/v1/job/drainme/evaluations"))

    # disabling the drain-less node's ineligibility brings the work back
    dev_agent.nomad("node", "drain", "-disable", "-yes", nid)
    assert dev_agent.get(f"/v1/node/{nid}")["SchedulingEligibility"] == "eligible"
    dev_agent.wait_allocs("drainme", lambda a: running(a, 1), what="replacement placed")

    status, body = dev_agent.request("POST", f"/v1/node/{nid}/drain", {"DrainSpec": {"Deadline": "x"}})
    assert status == 400


def test_job_plan_new_and_changed(dev_agent: Agent):
    path = write_job(dev_agent.tmp, "plan.nomad", service_job("plan", count=1))
    res = dev_agent.nomad("job", "plan", str(path), check=False)
    assert res.returncode == 1, res.stdout + res.stderr
    assert '+ Job: "plan"' in res.stdout
    assert '+ Task Group: "web" (1 create)' in res.stdout
    assert "All tasks successfully allocated." in res.stdout
    assert "Job Modify Index: 0" in res.stdout
    assert dev_agent.get("/v1/jobs") == []  # nothing registered

    dev_agent.nomad("job", "run", str(path))
    dev_agent.wait_allocs("plan", lambda a: running(a, 1), what="plan job running")
    index = dev_agent.get("/v1/job/plan")["JobModifyIndex"]

    same = dev_agent.nomad("job", "plan", str(path), check=False)
    assert same.returncode == 0, same.stdout + same.stderr
    assert 'Job: "plan"' in same.stdout and "(1 ignore)" in same.stdout

    changed = write_job(dev_agent.tmp, "plan2.nomad", service_job("plan", count=3, sleep="2000"))
    res = dev_agent.nomad("job", "plan", str(changed), check=False)
    assert res.returncode == 1, res.stdout + res.stderr
    assert '+/- Job: "plan"' in res.stdout
    assert '+/- Count: "1" => "3" (forces create)' in res.stdout
    assert "forces create/destroy update" in res.stdout
    assert f"Job Modify Index: {index}" in res.stdout
    assert f"nomad job run -check-index {index}" in res.stdout
    assert len(dev_agent.allocs("plan")) == 1  # the plan changed nothing

    stale = dev_agent.nomad("job", "run", "-check-index", str(index + 1000), str(changed), check=False)
    assert stale.returncode == 1
    dev_agent.nomad("job", "run", "-detach", "-check-index", str(index), str(changed))

    status, body = dev_agent.request("POST", "/v1/job/other/plan",
                                     {"Job": json.loads(_job_json(dev_agent, path))})
    assert status == 400 and b"does not match" in body
    status, _ = dev_agent.request("POST", "/v1/job/plan/plan", b"[]")
    assert status == 400


def _job_json(agent: Agent, path) -> str:
    out = agent.nomad("job", "run", "-output", str(path)).stdout
    return json.dumps(json.loads(out)["Job"])


def test_default_scheduler_config_from_agent_file(tmp_path):
    hcl = ('server {\n  default_scheduler_config {\n    scheduler_algorithm = "spread"\n'
           '    preemption_config {\n      batch_scheduler_enabled = true\n    }\n  }\n}\n')
    agent = Agent(tmp_path, extra_hcl=hcl).start()
    try:
        cfg = agent.get("/v1/operator/scheduler/configuration")["SchedulerConfig"]
        assert cfg["SchedulerAlgorithm"] == "spread"
        assert cfg["PreemptionConfig"]["BatchSchedulerEnabled"] is True
        assert cfg["PreemptionConfig"]["SystemSchedulerEnabled"] is True
    finally:
        agent.stop()


def test_host_volume_from_agent_file_gates_placement(tmp_path):
    (tmp_path / "certs").mkdir()
    hcl = (f'client {{\n  host_volume "certs" {{\n    path = "{tmp_path / "certs"}"\n'
           '    read_only = true\n  }\n}\n')
    agent = Agent(tmp_path, extra_hcl=hcl).start()
    try:
        status = agent.nomad("node", "status", "-verbose", "-self").stdout
        assert f"certs  true      {tmp_path / 'certs'}" in status
        volume = ('  group "web" {\n    volume "certs" {\n      type      = "host"\n'
                  '      source    = "certs"\n      read_only = READ_ONLY\n    }\n')
        text = service_job("rw").replace('  group "web" {\n', volume)
        agent.nomad("job", "run", "-detach", str(write_job(
            tmp_path, "rw.nomad", text.replace("READ_ONLY", "false"))))
        def failure():
            out = agent.nomad("job", "status", "rw").stdout
            return out if "Placement Failure" in out else None

        out = wait_for(failure, what="placement failure")
        assert 'Constraint "missing compatible host volumes": 1 nodes excluded by filter' in out
        agent.nomad("job", "run", "-detach", str(write_job(
            tmp_path, "ro.nomad", text.replace("READ_ONLY", "true").replace('"rw"', '"ro"'))))
        agent.wait_allocs("ro", lambda allocs: running(allocs, 1), what="ro running")
        agent.stop_all_jobs()
    finally:
        agent.stop()
