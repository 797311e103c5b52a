"""GET/POST /v1/job/:id/scale and PUT /v1/system/reconcile/summaries over HTTP, against an
in-process server."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.server import Server, ServerConfig
from pynomad.structs import Job, Resources, Task, TaskGroup


def _job(count=2) -> Job:
    task = Task(Name="t", Driver="raw_exec", Config={"command": "sleep"},
                Resources=Resources(CPU=100, MemoryMB=64))
    return Job(ID="web", Type="batch", TaskGroups=[TaskGroup(Name="g", Count=count,
                                                             Tasks=[task])])


@pytest.fixture
def api():
    def runner(body):
        async def main():
            server = Server(ServerConfig(num_schedulers=1))
            await server.start()
            agent = SimpleNamespace(server=server, client=None, config=None)
            client = TestClient(TestServer(http_app(agent)))
            await client.start_server()
            try:
                await server.jobs.register(_job())
                await body(client, server)
            finally:
                await client.close()
                await server.stop()
        asyncio.run(main())
    return runner


def test_scale_then_read_scale_status(api):
    async def body(client, server):
        resp = await client.get("/v1/job/web/scale")
        assert resp.status == 200, await resp.text()
        status = await resp.json()
        assert status["TaskGroups"]["g"] == {"Desired": 2, "Placed": 0, "Running": 0,
                                             "Healthy": 0, "Unhealthy": 0, "Events": None}
        assert status["JobID"] == "web" and status["Namespace"] == "default"
        assert int(resp.headers["X-Nomad-Index"]) >= 1

        resp = await client.post("/v1/job/web/scale", json={
            "Count": 5, "Target": {"Group": "g"}, "Message": "submitted using the Nomad CLI",
            "PolicyOverride": False})
        assert resp.status == 200, await resp.text()
        out = await resp.json()
        assert out["EvalID"] and out["Index"] == int(resp.headers["X-Nomad-Index"])
        assert set(out) >= {"EvalID", "EvalCreateIndex", "JobModifyIndex", "Index", "Warnings"}
        job = server.state.job_by_id("default", "web")
        assert (job.Version, job.TaskGroups[0].Count) == (1, 5)

        status = await (await client.get("/v1/job/web/scale")).json()
        g = status["TaskGroups"]["g"]
        assert g["Desired"] == 5
        assert g["Events"][0]["Count"] == 5 and g["Events"][0]["PreviousCount"] == 2
        assert g["Events"][0]["Message"] == "submitted using the Nomad CLI"
    api(body)


def test_scale_errors_have_their_codes(api):
    async def body(client, server):
        cases = [
            ("/v1/job/nope/scale", {"Count": 1, "Target": {"Group": "g"}}, 404, "not found"),
            ("/v1/job/web/scale", {"Count": 1, "Target": {"Group": "x"}}, 400,
             'task group "x" specified for scaling does not exist in job'),
            ("/v1/job/web/scale", {"Count": -1, "Target": {"Group": "g"}}, 400, "negative"),
            ("/v1/job/web/scale", {"Count": 1, "Target": {"Job": "other", "Group": "g"}}, 400,
             "did not match URL"),
            ("/v1/job/web/scale", {"Count": "3", "Target": {"Group": "g"}}, 400, "Count"),
            ("/v1/job/web/scale", {"Count": 1}, 400, "missing task group name"),
        ]
        for path, payload, code, text in cases:
            resp = await client.post(path, json=payload)
            body_text = await resp.text()
            assert resp.status == code, (payload, body_text)
            assert text in body_text and "\n" not in body_text.strip()
        resp = await client.post("/v1/job/web/scale", data=b"")
        assert resp.status == 400
        resp = await client.get("/v1/job/nope/scale")
        assert resp.status == 404 and await resp.text() == "job not found"
        resp = await client.delete("/v1/job/web/scale")
        assert resp.status == 405
        job = server.state.job_by_id("default", "web")
        assert (job.Version, job.TaskGroups[0].Count) == (0, 2)
    api(body)


def test_reconcile_summaries_route(api):
    async def body(client, server):
        for method in ("PUT", "POST"):
            resp = await client.request(method, "/v1/system/reconcile/summaries")
            assert resp.status == 200, await resp.text()
            assert int(resp.headers["X-Nomad-Index"]) == server.state.latest_index
        resp = await client.get("/v1/system/reconcile/summaries")
        assert resp.status == 405
    api(body)
