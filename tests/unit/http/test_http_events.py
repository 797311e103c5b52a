"""/v1/event/stream through the HTTP API of a real in-process server (no client): ndjson
frames, topic/namespace filters, index replay, heartbeats and ACLs."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.http.routes import events as events_route
from pynomad.server import Server, ServerConfig

JOB = {"ID": "web", "Name": "web", "Type": "batch", "Datacenters": ["dc1"],
       "TaskGroups": [{"Name": "g", "Count": 1, "Tasks": [
           {"Name": "t", "Driver": "mock_driver", "Config": {"run_for": "1s"}}]}]}


def run(body, acl: bool = False):
    async def main():
        server = Server(ServerConfig(num_schedulers=1, acl_enabled=acl))
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


class Lines:
    """Reads a streaming response line by line (each line one JSON value)."""

    def __init__(self, resp):
        self.resp = resp

    async def next(self) -> dict:
        line = await asyncio.wait_for(self.resp.content.readline(), 30)
        assert line.endswith(b"\n"), line
        return json.loads(line)

    async def until(self, pred) -> list[dict]:
        seen = []
        while True:
            frame = await self.next()
            seen.append(frame)
            if pred(frame):
                return seen


def has_event(topic, typ, key):
    return lambda f: any(e["Topic"] == topic and e["Type"] == typ and e["Key"] == key
                         for e in f.get("Events", []))


def test_stream_job_events_with_key_filter_and_index_replay():
    async def body(c, server):
        resp = await c.get("/v1/event/stream", params=[("topic", "Job:web"),
                                                       ("topic", "Evaluation")])
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        lines = Lines(resp)
        r = await c.put("/v1/jobs", json={"Job": dict(JOB, ID="other", Name="other")})
        assert r.status == 200
        r = await c.put("/v1/jobs", json={"Job": JOB})
        assert r.status == 200
        frames = await lines.until(has_event("Job", "JobRegistered", "web"))
        registered = frames[-1]
        assert set(registered) == {"Index", "Events"}
        job_events = [e for e in registered["Events"] if e["Topic"] == "Job"]
        assert job_events[0]["Payload"]["Job"]["ID"] == "web"
        assert job_events[0]["Index"] == registered["Index"]
        assert job_events[0]["Namespace"] == "default"
        # the other job shows up only through its evaluation (topic Evaluation, all keys)
        for f in frames:
            for e in f["Events"]:
                assert e["Topic"] == "Evaluation" or e["Key"] == "web"
        resp.close()
        # a new subscriber replays the buffer from an index
        resp = await c.get("/v1/event/stream",
                           params={"topic": "Job:web", "index": str(registered["Index"])})
        first = await Lines(resp).next()
        assert first["Index"] == registered["Index"]
        assert first["Events"][0]["Type"] == "JobRegistered"
        resp.close()
    run(body)


def test_namespace_filter():
    async def body(c, server):
        assert (await c.put("/v1/namespace/prod", json={"Name": "prod"})).status == 200
        prod = Lines(await c.get("/v1/event/stream",
                                 params={"topic": "Job", "namespace": "prod"}))
        every = Lines(await c.get("/v1/event/stream", params={"topic": "Job", "namespace": "*"}))
        await c.put("/v1/jobs", json={"Job": JOB})
        await c.put("/v1/jobs", json={"Job": dict(JOB, Namespace="prod")})
        frames = await prod.until(has_event("Job", "JobRegistered", "web"))
        assert {e["Namespace"] for f in frames for e in f["Events"]} == {"prod"}
        frames = await every.until(lambda f: any(e["Namespace"] == "prod"
                                                 for e in f["Events"]))
        assert {e["Namespace"] for f in frames for e in f["Events"]} == {"default", "prod"}
    run(body)


def test_heartbeats_are_empty_objects(monkeypatch):
    monkeypatch.setattr(events_route, "HEARTBEAT_S", 0.05)

    async def body(c, server):
        resp = await c.get("/v1/event/stream", params={"topic": "Node"})
        assert await Lines(resp).next() == {}
        resp.close()
    run(body)


def test_bad_query_is_rejected():
    async def body(c, server):
        assert (await c.get("/v1/event/stream", params={"index": "x"})).status == 400
        assert (await c.get("/v1/event/stream", params={"topic": ":web"})).status == 400
    run(body)


def test_subscriber_detaches_when_client_disconnects(monkeypatch):
    monkeypatch.setattr(events_route, "HEARTBEAT_S", 0.05)

    async def body(c, server):
        resp = await c.get("/v1/event/stream")
        await Lines(resp).next()
        assert len(server.events.subscriptions) == 1
        resp.close()
        for _ in range(200):
            if not server.events.subscriptions:
                break
            await asyncio.sleep(0.05)
        assert not server.events.subscriptions
    run(body)


def test_acl_per_topic():
    async def body(c, server):
        assert (await c.get("/v1/event/stream", params={"topic": "Job"})).status == 403
        root = await (await c.post("/v1/acl/bootstrap")).json()
        m = {"X-Nomad-Token": root["SecretID"]}
        rules = 'namespace "default" { policy = "read" }\nnode { policy = "read" }'
        r = await c.post("/v1/acl/policy/ro", json={"Name": "ro", "Rules": rules}, headers=m)
        assert r.status == 200
        tok = await (await c.post("/v1/acl/token", json={"Type": "client", "Policies": ["ro"]},
                                  headers=m)).json()
        ro = {"X-Nomad-Token": tok["SecretID"]}
        for params in ({"topic": "Job"}, [("topic", "Allocation"), ("topic", "Node")]):
            r = await c.get("/v1/event/stream", params=params, headers=ro)
            assert r.status == 200
            r.close()
        for params in ({}, {"topic": "*"}, {"topic": "ACLToken"},
                       {"topic": "Job", "namespace": "prod"},
                       {"topic": "Job", "namespace": "*"}):
            r = await c.get("/v1/event/stream", params=params, headers=ro)
            assert r.status == 403, params
            assert await r.text() == "Permission denied"
        r = await c.get("/v1/event/stream", headers=m)  # management: all topics
        assert r.status == 200
        r.close()
    run(body, acl=True)
