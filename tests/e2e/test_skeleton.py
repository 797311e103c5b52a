"""The walking skeleton as a user drives it: `nomad agent -dev`, the CLI, curl-style HTTP."""

from __future__ import annotations

import json
import signal
import uuid

from conftest import Agent, pids_with_marker, wait_for, write_job


def batch_job(job_id: str, script: str, restart: str = "", reschedule: str = "") -> str:
    return f'''
job "{job_id}" {{
  type        = "batch"
  datacenters = ["dc1"]
  group "g" {{
    {restart}
    {reschedule}
    task "t" {{
      driver = "raw_exec"
      config {{
        command = "/bin/sh"
        args    = ["-c", "{script}"]
      }}
      resources {{
        cpu    = 50
        memory = 32
      }}
    }}
  }}
}}
'''


def service_job(job_id: str, marker: str, count: int = 3, extra_env: str = "") -> str:
    return f'''
job "{job_id}" {{
  datacenters = ["dc1"]
  group "web" {{
    count = {count}
    task "server" {{
      driver = "raw_exec"
      config {{
        command = "/bin/sh"
        args    = ["-c", "sleep 1000; echo {marker}"]
      }}
      env {{
        MARKER = "{marker}"
        {extra_env}
      }}
      resources {{
        cpu    = 20
        memory = 16
      }}
    }}
  }}
}}
'''


def running(allocs, n):
    live = [a for a in allocs if a["DesiredStatus"] == "run"]
    return len(live) == n and all(a["ClientStatus"] == "running" for a in live)


def test_batch_job_completes_and_logs_read_back(dev_agent: Agent):
    path = write_job(dev_agent.tmp, "hello.nomad", batch_job("hello", "echo hello-out; echo hello-err >&2"))
    out = dev_agent.nomad("job", "run", str(path)).stdout
    assert 'Monitoring evaluation' in out and "finished with status \"complete\"" in out
    allocs = dev_agent.wait_allocs("hello", lambda a: a and a[0]["ClientStatus"] == "complete")
    alloc_id = allocs[0]["ID"]
    assert dev_agent.nomad("alloc", "logs", alloc_id).stdout == "hello-out\n"
    assert dev_agent.nomad("alloc", "logs", "-stderr", alloc_id[:8]).stdout == "hello-err\n"
    status = dev_agent.nomad("job", "status", "hello").stdout
    assert "Summary" in status and "complete" in status
    listing = dev_agent.nomad("job", "status").stdout
    assert "hello" in listing and "batch" in listing
    summary = dev_agent.get("/v1/job/hello/summary")["Summary"]["g"]
    assert summary["Complete"] == 1


def test_service_count_three_runs_three_processes_and_stop_purge_cleans_up(dev_agent: Agent):
    marker = f"marker-{uuid.uuid4().hex[:10]}"
    path = write_job(dev_agent.tmp, "web.nomad", service_job("web", marker))
    dev_agent.nomad("job", "run", "-detach", str(path))
    allocs = dev_agent.wait_allocs("web", lambda a: running(a, 3), what="3 running allocs")
    wait_for(lambda: len(pids_with_marker(marker)) == 3, 30, what="3 task processes")
    stats = dev_agent.get(f"/v1/client/allocation/{allocs[0]['ID']}/stats")
    assert stats["Tasks"]["server"]["ResourceUsage"]["MemoryStats"]["RSS"] > 0
    status = dev_agent.nomad("alloc", "status", allocs[0]["ID"])
    assert "Couldn't retrieve stats" not in status.stderr and "Memory" in status.stdout
    dev_agent.nomad("job", "stop", "-purge", "web")
    wait_for(lambda: not pids_with_marker(marker), 30, what="no task processes left")
    status, body = dev_agent.request("GET", "/v1/job/web")
    assert status == 404 and b"job not found" in body


def test_failing_task_restarts_then_fails(dev_agent: Agent):
    restart = 'restart {\n attempts = 1\n delay = "1s"\n interval = "1h"\n mode = "fail"\n }'
    resched = 'reschedule {\n attempts = 0\n unlimited = false\n }'
    path = write_job(dev_agent.tmp, "boom.nomad", batch_job("boom", "echo boom; exit 3", restart, resched))
    dev_agent.nomad("job", "run", "-detach", str(path))
    allocs = dev_agent.wait_allocs("boom", lambda a: a and a[0]["ClientStatus"] == "failed",
                                   what="failed alloc")
    state = dev_agent.get(f"/v1/allocation/{allocs[0]['ID']}")["TaskStates"]["t"]
    assert state["State"] == "dead" and state["Failed"] is True and state["Restarts"] == 1
    types = [e["Type"] for e in state["Events"]]
    assert "Restarting" in types and "Not Restarting" in types
    assert len(dev_agent.allocs("boom")) == 1  # reschedule attempts = 0: no replacement


def test_changing_the_job_creates_version_one_and_replaces_allocs(dev_agent: Agent):
    marker = f"marker-{uuid.uuid4().hex[:10]}"
    path = write_job(dev_agent.tmp, "ver.nomad", service_job("ver", marker, count=2))
    dev_agent.nomad("job", "run", "-detach", str(path))
    first = dev_agent.wait_allocs("ver", lambda a: running(a, 2))
    write_job(dev_agent.tmp, "ver.nomad", service_job("ver", marker, count=2, extra_env='V = "2"'))
    dev_agent.nomad("job", "run", "-detach", str(path))
    wait_for(lambda: dev_agent.get("/v1/job/ver")["Version"] == 1, 10, what="version 1")
    old_ids = {a["ID"] for a in first}
    after = dev_agent.wait_allocs(
        "ver", lambda a: running([x for x in a if x["ID"] not in old_ids], 2), what="replacements")
    assert {a["JobVersion"] for a in after if a["DesiredStatus"] == "run"} == {1}
    versions = dev_agent.get("/v1/job/ver/versions")["Versions"]
    assert [v["Version"] for v in versions] == [1, 0]
    source = dev_agent.get("/v1/job/ver/submission?version=1")
    assert source["Source"] == path.read_text() and source["Format"] == "hcl2"
    assert dev_agent.request("GET", "/v1/job/ver/submission?version=7")[0] == 404
    wait_for(lambda: len(pids_with_marker(marker)) == 2, 30, what="old processes stopped")


def test_bad_input_gets_clear_errors(dev_agent: Agent):
    status, body = dev_agent.request("POST", "/v1/jobs", b"{not json")
    assert status == 400 and body
    # unknown fields are ignored (as Nomad's decoder): the error is about what is missing
    status, body = dev_agent.request("POST", "/v1/jobs", {"Job": {"ID": "x", "Bogus": 1}})
    assert status == 400 and b"Missing job task groups" in body
    status, body = dev_agent.request("POST", "/v1/jobs", {"Job": {"ID": "x", "TaskGroups": []}})
    assert status == 400 and b"task groups" in body
    for path in ("/v1/job/nope", "/v1/allocation/nope", "/v1/evaluation/nope", "/v1/node/nope"):
        status, body = dev_agent.request("GET", path)
        assert status == 404 and b"not found" in body, path
    assert dev_agent.get("/v1/jobs") == []
    proc = dev_agent.nomad("job", "status", "nope", check=False)
    assert proc.returncode == 1 and 'No job(s) with prefix or ID "nope" found' in proc.stderr


def test_python_nomad_client(dev_agent: Agent):
    import nomad

    client = nomad.Nomad(host="127.0.0.1", port=dev_agent.http, timeout=10)
    job = json.loads(dev_agent.nomad("job", "run", "-output",
                                     str(write_job(dev_agent.tmp, "py.nomad",
                                                   batch_job("py", "echo from-python")))).stdout)
    resp = client.job.register_job("py", job)
    assert resp["EvalID"]
    wait_for(lambda: client.job.get_allocations("py") and
             client.job.get_allocations("py")[0]["ClientStatus"] == "complete", 30)
    assert [j["ID"] for j in client.jobs.get_jobs()] == ["py"]
    assert client.job.get_job("py")["Type"] == "batch"
    assert client.nodes.get_nodes()[0]["Status"] == "ready"
    assert client.agent.get_members()["Members"][0]["Status"] == "alive"
    client.job.deregister_job("py", purge=True)
    assert client.jobs.get_jobs() == []


def test_node_and_server_status(dev_agent: Agent):
    nodes = dev_agent.nomad("node", "status").stdout
    assert "ready" in nodes and "eligible" in nodes
    members = dev_agent.nomad("server", "members").stdout
    assert "alive" in members and "global" in members


def test_agent_restart_with_data_dir_keeps_jobs_and_reattaches(tmp_path):
    marker = f"marker-{uuid.uuid4().hex[:10]}"
    data_dir = tmp_path / "data"
    agent = Agent(tmp_path, dev=False, data_dir=data_dir).start()
    try:
        path = write_job(tmp_path, "keep.nomad", service_job("keep", marker, count=1))
        agent.nomad("job", "run", "-detach", str(path))
        agent.wait_allocs("keep", lambda a: running(a, 1))
        pids = wait_for(lambda: pids_with_marker(marker), 30, what="task process")
        agent.kill()
        restarted = Agent(tmp_path, dev=False, data_dir=data_dir)
        restarted.http, restarted.rpc, restarted.serf = agent.http, agent.rpc, agent.serf
        restarted.addr, restarted.config = agent.addr, agent.config
        agent = restarted.start()
        assert [j["ID"] for j in agent.get("/v1/jobs")] == ["keep"]
        allocs = agent.wait_allocs("keep", lambda a: running(a, 1))
        assert len(allocs) == 1
        assert pids_with_marker(marker) == pids  # the same process, not a second copy
    finally:
        agent.stop()
    wait_for(lambda: not pids_with_marker(marker), 30, what="task stopped")


def test_dev_agent_shutdown_stops_its_tasks(tmp_path):
    marker = f"marker-{uuid.uuid4().hex[:10]}"
    agent = Agent(tmp_path).start()
    try:
        path = write_job(tmp_path, "dev.nomad", service_job("dev", marker, count=1))
        agent.nomad("job", "run", "-detach", str(path))
        agent.wait_allocs("dev", lambda a: running(a, 1))
        wait_for(lambda: pids_with_marker(marker), 30, what="task process")
        agent.kill(signal.SIGINT)
        assert not pids_with_marker(marker)
    finally:
        agent.stop()


def test_example_template_job_renders_and_runs(dev_agent: Agent, examples):
    dev_agent.nomad("job", "run", str(examples / "batch-raw_exec-template.hcl"))
    allocs = dev_agent.wait_allocs("raw_exec", lambda a: a and a[0]["ClientStatus"] == "complete",
                                   what="template job complete")
    assert dev_agent.nomad("alloc", "logs", allocs[0]["ID"], "bash").stdout.startswith("my pid is ")


def test_alloc_signal_and_restart(dev_agent: Agent):
    marker = f"marker-{uuid.uuid4().hex[:10]}"
    path = write_job(dev_agent.tmp, "sig.nomad", service_job("sig", marker, count=1))
    dev_agent.nomad("job", "run", "-detach", str(path))
    (alloc,) = dev_agent.wait_allocs("sig", lambda a: running(a, 1))
    dev_agent.nomad("alloc", "signal", "-s", "SIGCONT", alloc["ID"], "server")
    first = wait_for(lambda: pids_with_marker(marker), 30, what="task process")
    dev_agent.nomad("alloc", "restart", alloc["ID"])

    def events():
        return [e["Type"] for e in
                dev_agent.get(f"/v1/allocation/{alloc['ID']}")["TaskStates"]["server"]["Events"]]
    wait_for(lambda: "Restarting" in events() and events()[-1] == "Started", 60,
             what="restarted task")
    assert "Signaling" in events()
    wait_for(lambda: pids_with_marker(marker) and pids_with_marker(marker) != first, 30,
             what="a new task process")
    proc = dev_agent.nomad("alloc", "signal", alloc["ID"], "nope", check=False)
    assert proc.returncode == 1 and "nope" in proc.stderr
