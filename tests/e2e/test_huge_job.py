"""A job with a count far beyond what the cluster holds: the agent keeps answering while it
is scheduled, the evaluation ends with what fits placed and the rest queued behind a
blocked evaluation; counts beyond Go's int range are refused at the edge."""

import json
import time

from conftest import wait_for

HUGE = 2_147_483_648


def huge_job(count):
    return {"Job": {"ID": "huge", "Type": "service", "Datacenters": ["dc1"], "TaskGroups": [{
        "Name": "g", "Count": count, "Tasks": [{
            "Name": "t", "Driver": "raw_exec",
            "Config": {"command": "sleep", "args": ["3600"]},
            "Resources": {"CPU": 1000, "MemoryMB": 256}}]}]}}


def test_agent_answers_while_a_huge_count_is_scheduled(dev_agent):
    status, body = dev_agent.request("POST", "/v1/jobs", huge_job(HUGE))
    assert status == 200, body
    eval_id = json.loads(body)["EvalID"]
    answered = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, _ = dev_agent.request("GET", "/v1/agent/health")
        assert status == 200
        answered += 1
        ev = dev_agent.get(f"/v1/evaluation/{eval_id}")
        if ev["Status"] != "pending":
            break
        time.sleep(0.05)
    assert answered >= 1 and ev["Status"] == "complete", ev
    placed = len(dev_agent.allocs("huge"))
    assert placed >= 1 and ev["QueuedAllocations"] == {"g": HUGE - placed}
    blocked = dev_agent.get(f"/v1/evaluation/{ev['BlockedEval']}")
    assert blocked["Status"] == "blocked"
    summary = dev_agent.get("/v1/job/huge/summary")["Summary"]["g"]
    assert summary["Queued"] == HUGE - placed
    dev_agent.request("DELETE", "/v1/job/huge?purge=true")
    # canceled by the purge's successful evaluation (or, if capacity freed by the purge
    # woke it first, completed with nothing left to place): no longer blocked either way
    wait_for(lambda: dev_agent.get(f"/v1/evaluation/{blocked['ID']}")["Status"]
             in ("canceled", "complete"), 60, what="the blocked evaluation finished")


def test_count_beyond_go_int_is_refused(dev_agent):
    for path in ("/v1/jobs", "/v1/validate/job"):
        status, body = dev_agent.request("POST", path, huge_job(10**30))
        assert status == 400, (path, body)
    assert dev_agent.get("/v1/jobs") == []
