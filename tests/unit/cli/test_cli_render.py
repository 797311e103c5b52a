"""End-to-end rendering of commands against a fake API serving docs sample JSON."""

from __future__ import annotations

import json

import pytest
from conftest import API_DOCS, doc_sample

EVAL_ID = "a9c9945b-2b45-4e1e-9dd5-5c5ee4f8f47b"
ALLOC_ID = "a8198d79-cfdb-6593-a999-1e9adabcba2e"
NODE_ID = "fb2170a8-257d-3c64-b14d-bc06cc94e34c"


def _service_job() -> dict:
    job = doc_sample("jobs.mdx", "Read Job")
    job.update(Type="service", Periodic=None, ParameterizedJob=None, Namespace="default",
               SubmitTime=1500998400000000000, Stop=False)
    return job


def test_job_list(run_cli, fake_nomad) -> None:
    jobs = doc_sample("jobs.mdx", "List Jobs")
    jobs[0]["SubmitTime"] = 1500998400000000000
    jobs.append(dict(jobs[0], ID="job-b", Type="batch", Priority=40, Status="dead",
                     Stop=True, Periodic=True))
    fake_nomad.route("GET", "/v1/jobs", jobs)
    code, out, err = run_cli("job", "status")
    assert (code, err) == (0, "")
    assert out == ("ID       Type            Priority  Status          Submit Date\n"
                   "example  service         50        pending         2017-07-25T16:00:00Z\n"
                   "job-b    batch/periodic  40        dead (stopped)  2017-07-25T16:00:00Z\n")


def test_job_status_detail(run_cli, fake_nomad) -> None:
    fake_nomad.route("GET", "/v1/jobs", doc_sample("jobs.mdx", "List Jobs"))
    fake_nomad.route("GET", "/v1/job/example", _service_job())
    fake_nomad.route("GET", "/v1/job/example/summary", doc_sample("jobs.mdx", "Read Job Summary"))
    allocs = doc_sample("jobs.mdx", "List Job Allocations")
    fake_nomad.route("GET", "/v1/job/example/allocations", allocs)
    fake_nomad.route("GET", "/v1/job/example/evaluations",
                     doc_sample("jobs.mdx", "List Job Evaluations"))
    fake_nomad.route("GET", "/v1/job/example/deployment", None)
    code, out, err = run_cli("job", "status", "-verbose", "ex")
    assert (code, err) == (0, "")
    head, _, rest = out.partition("\n\nSummary\n")
    assert head == ("ID            = example\n"
                    "Name          = example\n"
                    "Submit Date   = 2017-07-25T16:00:00Z\n"
                    "Type          = service\n"
                    "Priority      = 50\n"
                    "Datacenters   = dc1\n"
                    "Namespace     = default\n"
                    "Node Pool     = prod\n"
                    "Status        = running\n"
                    "Periodic      = false\n"
                    "Parameterized = false")
    assert rest.startswith("Task Group  Queued  Starting  Running  Failed  Complete  Lost  Unknown\n"
                           "cache       0       0         1        0       0         0     0\n")
    assert "\nEvaluations\nID  " in rest
    a = allocs[0]
    assert "\nAllocations\nID                                    Eval ID" in rest
    assert a["ID"] in rest and "example.cache[0]" not in rest


def test_job_prefix_matches_multiple(run_cli, fake_nomad) -> None:
    jobs = doc_sample("jobs.mdx", "List Jobs")
    jobs.append(dict(jobs[0], ID="example2"))

    def by_prefix(query, body):
        prefix = query.get("prefix", [""])[0]
        return 200, [j for j in jobs if j["ID"].startswith(prefix)], 5
    fake_nomad.route("GET", "/v1/jobs", handler=by_prefix)
    code, out, err = run_cli("job", "status", "exa")
    assert code == 1
    assert err.startswith('Prefix "exa" matched multiple jobs\n\nID        Type')
    assert run_cli("job", "status", "zzz")[2] == 'No job(s) with prefix or ID "zzz" found\n'


def test_eval_status(run_cli, fake_nomad) -> None:
    ev = doc_sample("evaluations.mdx", "Read Evaluation")
    fake_nomad.route("GET", "/v1/evaluations", [ev])
    fake_nomad.route("GET", f"/v1/evaluation/{ev['ID']}", ev)
    code, out, err = run_cli("eval", "status", "-verbose", ev["ID"][:6])
    assert (code, err) == (0, "")
    assert out.startswith(f"ID                 = {ev['ID']}\nCreate Time        = ")
    assert "Placement Failures = N/A - In Progress\n" in out
    assert ('\nFailed Placements\nTask Group "cache" (failed to place 1 allocation):\n'
            '  * No nodes were eligible for evaluation\n'
            '  * No nodes are available in datacenter "dc1"\n\n') in out
    assert fake_nomad.requests[0][2]["prefix"] == [ev["ID"][:6]]


def test_eval_list(run_cli, fake_nomad) -> None:
    fake_nomad.route("GET", "/v1/evaluations", doc_sample("evaluations.mdx", "List Evaluations"))
    code, out, _ = run_cli("eval", "list")
    assert out.split("\n")[0] == ("ID        Priority  Triggered By  Job ID   Namespace  "
                                  "Node ID  Status    Placement Failures")


def test_alloc_status(run_cli, fake_nomad) -> None:
    alloc = doc_sample("allocations.mdx", "Read Allocation")
    fake_nomad.route("GET", "/v1/allocations", [alloc])
    fake_nomad.route("GET", f"/v1/allocation/{alloc['ID']}", alloc)
    code, out, err = run_cli("alloc", "status", "a8198d")
    assert code == 0
    assert err.startswith("Couldn't retrieve stats: Unexpected response code: 404")
    assert out.startswith(f"ID                   = {alloc['ID']}\n"
                          "Eval ID              = 5456bd7a\n"
                          "Name                 = example.cache[0]\n")
    assert ('Task "redis" is "running"\nTask Resources:\n'
            "CPU      Memory  Disk     Addresses\n"
            "500 MHz  10 MiB  300 MiB  db: 127.0.0.1:23116\n\n"
            "Task Events:\nStarted At     = 2017-07-25T23:36:26Z\nFinished At    = N/A\n"
            "Total Restarts = 0\nLast Restart   = N/A\n\nRecent Events:\n"
            "Time                  Type      Description\n"
            "2017-05-25T21:22:59Z  Started   Task started by client\n") in out


def test_alloc_status_short_id_rejected(run_cli, fake_nomad) -> None:
    assert run_cli("alloc", "status", "a") == (
        1, "", "Identifier must contain at least two characters.\n")


def test_node_status_list(run_cli, fake_nomad) -> None:
    fake_nomad.route("GET", "/v1/nodes", doc_sample("nodes.mdx", "List Nodes"))
    code, out, err = run_cli("node", "status")
    assert out == ("ID        Node Pool  DC   Name     Class   Drain  Eligibility  Status\n"
                   "f7476465  default    dc1  nomad-4  <none>  false  eligible     ready\n")


def test_server_members(run_cli, fake_nomad) -> None:
    fake_nomad.route("GET", "/v1/agent/members", doc_sample("agent.mdx", "List Members"))
    fake_nomad.route("GET", "/v1/status/leader", json.dumps("127.0.0.1:4647"))
    code, out, err = run_cli("server", "members")
    assert (code, err) == (0, "")
    assert out == ("Name              Address    Port  Status  Leader  Raft Version  Build     "
                   "Datacenter  Region\n"
                   "bacon-mac.global  127.0.0.1  4648  alive   true                  0.5.5dev  "
                   "dc1         global\n")


def _eval(status: str, **extra) -> dict:
    return dict({"ID": EVAL_ID, "JobID": "example", "Status": status, "CreateIndex": 5,
                 "TriggeredBy": "job-register"}, **extra)


def test_job_run_monitor(run_cli, fake_nomad, tmp_path) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps({"Job": {"ID": "example", "Type": "service"}}))
    fake_nomad.route("POST", "/v1/jobs", {"EvalID": EVAL_ID, "JobModifyIndex": 7, "Warnings": ""})
    states = iter(["pending", "complete"])

    def eval_handler(query, body):
        return 200, _eval(next(states, "complete")), 20 if "index" in query else 10
    fake_nomad.route("GET", f"/v1/evaluation/{EVAL_ID}", handler=eval_handler)
    fake_nomad.route("GET", f"/v1/evaluation/{EVAL_ID}/allocations", [
        {"ID": ALLOC_ID, "NodeID": NODE_ID, "TaskGroup": "cache", "DesiredStatus": "run",
         "ClientStatus": "pending", "CreateIndex": 6}])
    code, out, err = run_cli("job", "run", "-json", str(job_file))
    assert (code, err) == (0, "")
    lines = [line.split(": ", 1)[-1] if ": " in line else line for line in out.splitlines()]
    assert out.splitlines()[0].startswith("==> ")
    assert lines == ['Monitoring evaluation "a9c9945b"',
                     'Evaluation triggered by job "example"',
                     'Allocation "a8198d79" created: node "fb2170a8", group "cache"',
                     'Evaluation status changed: "pending" -> "complete"',
                     'Evaluation "a9c9945b" finished with status "complete"']
    body = fake_nomad.requests[0][3]
    assert body["Job"] == {"ID": "example", "Type": "service"}
    assert body["Submission"]["Format"] == "json"
    assert "index" not in fake_nomad.requests[1][2]
    assert fake_nomad.requests[3][2]["index"] == ["10"]


def test_job_run_placement_failure_exit_2(run_cli, fake_nomad, tmp_path) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps({"ID": "example"}))
    fake_nomad.route("POST", "/v1/jobs", {"EvalID": EVAL_ID})
    failed = {"cache": {"NodesEvaluated": 1, "DimensionExhausted": {"memory": 1},
                        "NodesExhausted": 1, "CoalescedFailures": 2}}
    fake_nomad.route("GET", f"/v1/evaluation/{EVAL_ID}",
                     _eval("complete", FailedTGAllocs=failed, BlockedEval="b1b2b3b4-0000"))
    fake_nomad.route("GET", f"/v1/evaluation/{EVAL_ID}/allocations", [])
    code, out, _ = run_cli("job", "run", "-json", str(job_file))
    assert code == 2
    assert 'finished with status "complete" but failed to place all allocations:' in out
    assert ': Task Group "cache" (failed to place 3 allocations):\n' in out
    assert "\n      * Resources exhausted on 1 nodes\n" in out
    assert '\n      * Dimension "memory" exhausted on 1 nodes\n' in out
    assert 'Evaluation "b1b2b3b4" waiting for additional capacity to place remainder' in out


def test_job_run_detach_and_output(run_cli, fake_nomad, tmp_path) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps({"Job": {"ID": "web", "Name": "<web>"}}))
    code, out, _ = run_cli("job", "run", "-json", "-output", str(job_file))
    assert code == 0
    assert out == '{\n    "Job": {\n        "ID": "web",\n        "Name": "\\u003cweb\\u003e"\n    }\n}\n'
    fake_nomad.route("POST", "/v1/jobs", {"EvalID": EVAL_ID})
    assert run_cli("job", "run", "-json", "-detach", str(job_file)) == (
        0, f"Job registration successful\nEvaluation ID: {EVAL_ID}\n", "")


def test_job_run_check_index_conflict(run_cli, fake_nomad, tmp_path) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps({"ID": "example"}))
    fake_nomad.route("POST", "/v1/jobs", "Enforcing job modify index 5: job exists with "
                     "conflicting job modify index: 6", status=400)
    code, _, err = run_cli("job", "run", "-json", "-check-index", "5", str(job_file))
    assert code == 1
    assert err == ("Enforcing job modify index 5: job exists with conflicting job modify "
                   "index: 6\nJob not updated\n")
    assert fake_nomad.requests[-1][3]["EnforceIndex"] is True


def test_job_stop_detach(run_cli, fake_nomad) -> None:
    fake_nomad.route("GET", "/v1/jobs", doc_sample("jobs.mdx", "List Jobs"))
    fake_nomad.route("DELETE", "/v1/job/example", {"EvalID": EVAL_ID})
    assert run_cli("job", "stop", "-purge", "-detach", "example") == (0, EVAL_ID + "\n", "")
    assert fake_nomad.requests[-1][2]["purge"] == ["true"]


def test_job_validate_json(run_cli, fake_nomad, tmp_path) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps({"ID": "example"}))
    fake_nomad.route("POST", "/v1/validate/job", {"DriverConfigValidated": True,
                                                  "ValidationErrors": None, "Error": "",
                                                  "Warnings": ""})
    assert run_cli("job", "validate", "-json", str(job_file)) == (
        0, "Job validation successful\n", "")
    fake_nomad.route("POST", "/v1/validate/job", {"DriverConfigValidated": True,
                                                  "Error": "1 error occurred:\n\t* bad"})
    code, _, err = run_cli("job", "validate", "-json", str(job_file))
    assert code == 1 and err == "Job validation errors:\n1 error occurred:\n\t* bad\n"


@pytest.mark.parametrize("flag,name", [([], "nomad-init-example-service-docker.nomad.hcl"),
                                       (["-short"], "nomad-init-example-short.nomad.hcl")])
def test_job_init(run_cli, tmp_path, monkeypatch, flag, name) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli("job", "init", *flag) == (0, "Example job file written to example.nomad.hcl\n", "")
    expected = (API_DOCS.parents[2] / "examples" / "nomad-jobs" / name).read_text()
    assert (tmp_path / "example.nomad.hcl").read_text() == expected
    assert run_cli("init", *flag) == (1, "", "Job 'example.nomad.hcl' already exists\n")


def test_alloc_logs_tail(fake_nomad, capfd) -> None:
    alloc = doc_sample("allocations.mdx", "Read Allocation")
    fake_nomad.route("GET", "/v1/allocations", [alloc])
    fake_nomad.route("GET", f"/v1/allocation/{alloc['ID']}", alloc)
    body = "".join(f"line {i}\n" for i in range(30))
    fake_nomad.route("GET", f"/v1/client/fs/logs/{alloc['ID']}", body)
    from pynomad.cli.main import main

    assert main(["alloc", "logs", "-tail", "-n", "3", alloc["ID"][:8]]) == 0
    out, _ = capfd.readouterr()
    assert out == "line 27\nline 28\nline 29\n"
    query = fake_nomad.requests[-1][2]
    assert query["origin"] == ["end"] and query["offset"] == ["360"]
    assert query["plain"] == ["true"] and query["task"] == ["redis"]
    assert main(["alloc", "logs", "-stderr", alloc["ID"][:8], "redis"]) == 0
    out, _ = capfd.readouterr()
    assert out == body
    assert fake_nomad.requests[-1][2]["type"] == ["stderr"]


def test_status_routes_by_search(run_cli, fake_nomad) -> None:
    fake_nomad.route("POST", "/v1/search", {"Matches": {"jobs": [], "nodes": [NODE_ID],
                                                         "allocs": [], "evals": []}})
    stub = doc_sample("nodes.mdx", "List Nodes")[0]
    fake_nomad.route("GET", "/v1/nodes", [dict(stub, ID=NODE_ID)])
    fake_nomad.route("GET", f"/v1/node/{NODE_ID}", dict(stub, ID=NODE_ID))
    fake_nomad.route("GET", f"/v1/node/{NODE_ID}/allocations", [])
    fake_nomad.route("GET", "/v1/client/stats", {"Uptime": 3725, "CPUTicksConsumed": 12.5,
                                                  "Memory": {"Used": 1 << 30, "Total": 2 << 30},
                                                  "DiskStats": []})
    code, out, _ = run_cli("status", "fb21")
    assert code == 0
    assert out.startswith(f"ID              = {NODE_ID}\nName            = nomad-4\n")
    assert "\nUptime          = 1h2m5s\n" in out
    assert "\nAllocations\nNo allocations placed\n" in out


def test_run_monitors_deployment(run_cli, fake_nomad, tmp_path) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps({"ID": "example"}))
    dep = doc_sample("deployments.mdx", "Read Deployment")
    dep.update(Status="successful", StatusDescription="Deployment completed successfully")
    fake_nomad.route("POST", "/v1/jobs", {"EvalID": EVAL_ID})
    fake_nomad.route("GET", f"/v1/evaluation/{EVAL_ID}", _eval("complete", DeploymentID=dep["ID"]))
    fake_nomad.route("GET", f"/v1/evaluation/{EVAL_ID}/allocations", [])
    fake_nomad.route("GET", f"/v1/deployment/{dep['ID']}", dep)
    code, out, err = run_cli("job", "run", "-json", str(job_file))
    assert (code, err) == (0, "")
    short = dep["ID"][:8]
    assert f'Evaluation within deployment: "{short}"' in out
    assert f'Monitoring deployment "{short}"\n    \n' in out
    assert (f"ID          = {short}\nJob ID      = {dep['JobID']}\n"
            f"Job Version = {dep['JobVersion']}\nStatus      = successful\n"
            "Description = Deployment completed successfully\n\nDeployed\nTask Group  ") in out
