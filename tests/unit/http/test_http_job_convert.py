"""Jobs go through Nomad's API-to-struct conversion before validation: what Nomad's
`structs.Job` does not keep (a task's disk, unknown volume types, server-owned fields) is
dropped, not refused."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from aiohttp.test_utils import TestClient, TestServer

from pynomad.http.app import http_app
from pynomad.jobspec import parse_job
from pynomad.server import Server, ServerConfig

HCL = """
job "disk" {
  datacenters = ["dc1"]
  type = "batch"
  update { max_parallel = 2  stagger = "10s"  health_check = "task_states" }
  group "g" {
    network {
      port "http" {}
    }
    volume "junk" { type = "nfs" source = "x" }
    service {
      name = "svc"
      provider = "nomad"
      on_update = "ignore_warnings"
      check { type = "tcp" port = "http" interval = "10s" timeout = "2s" }
    }
    task "t" {
      driver = "mock_driver"
      config { run_for = "1s" }
      resources {
        cpu    = 100
        memory = 64
        disk   = 500
      }
      service {
        name = "tsvc"
        provider = "nomad"
        check {
          type = "tcp" port = "http" interval = "10s" timeout = "2s" task = "other"
        }
      }
    }
  }
}
"""


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


def test_task_disk_is_dropped_not_refused_as_nomad_1_6_does():
    job = parse_job(HCL, "disk.nomad", env={})
    assert job["TaskGroups"][0]["Tasks"][0]["Resources"]["DiskMB"] == 500

    async def check(client, server):
        r = await client.put("/v1/validate/job", data=json.dumps({"Job": job}))
        out = await r.json()
        assert out["ValidationErrors"] == [] and out["Error"] == "", out
        r = await client.put("/v1/jobs", data=json.dumps({"Job": job}))
        assert r.status == 200, await r.text()
        stored = server.state.job_by_id("default", "disk")
        tg = stored.TaskGroups[0]
        assert tg.Tasks[0].Resources.DiskMB == 0
        assert tg.Volumes is None                                   # type "nfs": ignored
        assert tg.Services[0]["Checks"][0]["OnUpdate"] == "ignore_warnings"  # inherited
        assert tg.Tasks[0].Services[0]["Checks"][0]["TaskName"] == ""
        assert (stored.Update.MaxParallel, stored.Update.Stagger) == (2, 10 * 10**9)
        assert stored.Update.HealthCheck == ""                      # kept in the group only
        r = await client.put("/v1/job/disk/plan", data=json.dumps({"Job": job}))
        assert r.status == 200, await r.text()
    run(check)


def test_server_owned_fields_echoed_back_are_reset():
    job = parse_job(HCL, "disk.nomad", env={})
    job.update(ParentID="someone-else", Dispatched=True, Version=42, Status="dead",
               Stable=True, CreateIndex=9999, JobModifyIndex=9999, SubmitTime=1)

    async def check(client, server):
        r = await client.put("/v1/jobs", data=json.dumps({"Job": job}))
        assert r.status == 200, await r.text()
        stored = server.state.job_by_id("default", "disk")
        assert stored.ParentID == "" and not stored.Dispatched
        assert stored.Version == 0 and not stored.Stable
        assert stored.CreateIndex < 9999 and stored.Status != "dead"
    run(check)
