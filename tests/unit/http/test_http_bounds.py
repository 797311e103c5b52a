"""Inputs are bounded at the edge: integers to their Go types' ranges, nesting depth, body
size per endpoint, number literals, names that reach the file system — each refused with a
400 or 413 and one line, nothing stored; unknown JSON fields are ignored."""

from __future__ import annotations

import asyncio
import json
import logging
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.http.bounds import JOB_BODY_LIMIT, MAX_DEPTH
from pynomad.server import Server, ServerConfig


def job(**over) -> dict:
    task = {"Name": "t", "Driver": "mock_driver", "Config": {"run_for": "1s"}}
    task.update(over.pop("task", {}))
    group = {"Name": "g", "Count": 1, "Tasks": [task]}
    group.update(over.pop("group", {}))
    return {"ID": "web", "Name": "web", "Type": "batch", "Datacenters": ["dc1"],
            "TaskGroups": [group], **over}


def run(body):
    async def main():
        server = Server(ServerConfig(num_schedulers=0))
        await server.start()
        agent = SimpleNamespace(server=server, client=None, config=None)
        client = TestClient(TestServer(http_app(agent)))
        await client.start_server()
        try:
            await body(client, server)
        finally:
            await client.close()
            await server.stop()
    asyncio.run(main())


def one_line(text: str) -> bool:
    return "\n" not in text.strip() and "Traceback" not in text


@pytest.mark.parametrize("path,body", [
    ("/v1/validate/job", {"Job": job(group={"Count": 10**30})}),
    ("/v1/jobs", {"Job": job(group={"Count": 10**30})}),
    ("/v1/jobs", {"Job": job(), "JobModifyIndex": 2**64}),
    ("/v1/jobs", {"Job": job(Priority=-(2**63) - 1)}),
    ("/v1/operator/scheduler/configuration", {"SchedulerAlgorithm": "binpack",
                                              "ModifyIndex": 10**23}),
    ("/v1/namespace/x", {"Name": "x", "ModifyIndex": 2**64}),
    ("/v1/namespace/x", {"Name": "x", "CreateIndex": -1}),
])
def test_integers_beyond_their_go_type_are_a_400(path, body):
    async def check(client, server):
        before = server.state.latest_index
        r = await client.put(path, data=json.dumps(body))
        text = await r.text()
        assert r.status == 400, text
        assert "out of range" in text and one_line(text)
        assert server.state.latest_index == before
    run(check)


def test_largest_in_range_integers_are_accepted():
    async def check(client, server):
        r = await client.put("/v1/namespace/x", data=json.dumps(
            {"Name": "x", "ModifyIndex": 2**64 - 1, "CreateIndex": 0}))
        assert r.status == 200, await r.text()
    run(check)


@pytest.mark.parametrize("where", ["Meta", "Submission", "deep-submission"])
def test_deep_nesting_is_a_400(where, caplog):
    depth = 10_000 if where != "Submission" else MAX_DEPTH + 1
    nested = "[" * depth + "]" * depth
    if where == "Meta":
        raw = '{"Job": {"ID": "web", "Meta": ' + nested + "}}"
    else:
        raw = ('{"Job": ' + json.dumps(job()) + ', "Submission": {"Source": "x", '
               '"VariableFlags": ' + nested + "}}")

    async def check(client, server):
        with caplog.at_level(logging.ERROR):
            r = await client.put("/v1/jobs", data=raw)
        text = await r.text()
        assert r.status == 400 and one_line(text), text
        assert "nested" in text
        assert server.state.job_by_id("default", "web") is None
        assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
    run(check)


def test_bodies_over_the_endpoint_limit_are_a_413():
    async def check(client, server):
        r = await client.put("/v1/namespace/x", data=b" " * (1024 * 1024 + 1))
        assert r.status == 413 and one_line(await r.text())

        async def chunks():  # no Content-Length: the limit still applies while reading
            for _ in range(2048):
                yield b" " * 1024
        r = await client.put("/v1/namespace/x", data=chunks())
        assert r.status == 413
        r = await client.put("/v1/jobs", data=b" " * (JOB_BODY_LIMIT + 1))
        assert r.status == 413
        # a job body may be larger than the default limit
        big = job(Meta={f"k{i}": "v" * 1000 for i in range(2000)})
        r = await client.put("/v1/jobs", data=json.dumps({"Job": big}))
        assert r.status == 200, await r.text()
    run(check)


def test_unknown_fields_are_ignored_everywhere():
    async def check(client, server):
        body = job(NewJobField=1, group={"NewGroupField": {"a": 1}},
                   task={"NewTaskField": [1], "Resources": {"CPU": 100, "MemoryMB": 64,
                                                             "NewResource": 7}})
        r = await client.put("/v1/jobs", data=json.dumps({"Job": body, "NewTopLevel": True}))
        assert r.status == 200, await r.text()
        r = await client.put("/v1/namespace/x", data=json.dumps({"Name": "x", "Newer": 1}))
        assert r.status == 200, await r.text()
        r = await client.put("/v1/operator/scheduler/configuration", data=json.dumps(
            {"SchedulerAlgorithm": "spread", "FutureKnob": True}))
        assert r.status == 200, await r.text()
        r = await client.put("/v1/search", data=json.dumps({"Prefix": "", "Context": "jobs",
                                                            "Future": 1}))
        assert r.status == 200, await r.text()
    run(check)


def test_huge_number_literal_in_parse_is_a_400():
    hcl = 'job "x" {\n  priority = ' + "9" * 5000 + '\n  group "g" { task "t" { driver = "raw_exec" } }\n}\n'

    async def check(client, server):
        r = await client.post("/v1/jobs/parse", data=json.dumps({"JobHCL": hcl}))
        text = await r.text()
        assert r.status == 400 and one_line(text), text
        assert "input.hcl:2" in text
        hcl2 = hcl.replace("9" * 5000, "9" * 30)
        r = await client.post("/v1/jobs/parse", data=json.dumps({"JobHCL": hcl2}))
        assert r.status == 400 and "whole number" in await r.text()
    run(check)


@pytest.mark.parametrize("name,reason", [("..", "cannot be '..'"), (".", "cannot be '.'"),
                                         ("a/b", "slashes"), ("x" * 201, "longer than 200")])
def test_task_names_that_would_escape_are_refused(name, reason):
    async def check(client, server):
        r = await client.put("/v1/jobs", data=json.dumps({"Job": job(task={"Name": name})}))
        text = await r.text()
        assert r.status == 400 and reason in text, text
        assert server.state.job_by_id("default", "web") is None
    run(check)


@pytest.mark.parametrize("query", ["index=" + "9" * 30, "index=-1", "index=abc",
                                   "wait=10x"])
def test_bad_query_parameters_are_a_400(query):
    async def check(client, server):
        r = await client.get(f"/v1/jobs?{query}")
        assert r.status == 400 and one_line(await r.text())
    run(check)
