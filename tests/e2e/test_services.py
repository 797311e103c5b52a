"""Nomad native service discovery end to end: a raw_exec job with a `provider = "nomad"`
service on a dev agent, seen through `nomad service list/info` and gone after stop."""

from __future__ import annotations

import json

from conftest import wait_for, write_job

JOB = """
job "svc" {
  datacenters = ["dc1"]
  group "g" {
    network {
      port "http" {}
    }
    service {
      name     = "web"
      port     = "http"
      provider = "nomad"
      tags     = ["v1", "e2e"]
    }
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "exec sleep 300"]
      }
    }
  }
}
"""


def test_service_registered_listed_and_removed_on_stop(dev_agent):
    a = dev_agent
    a.nomad("job", "run", "-detach", str(write_job(a.tmp, "svc.nomad.hcl", JOB)))
    allocs = a.wait_allocs("svc", lambda al: al and al[0]["ClientStatus"] == "running",
                           what="svc running")
    alloc_id = allocs[0]["ID"]
    regs = wait_for(lambda: a.get("/v1/service/web"), 60, what="web registered")
    assert len(regs) == 1
    reg = regs[0]
    assert reg["ID"] == f"_nomad-task-{alloc_id}-group-web-http"
    assert reg["JobID"] == "svc" and reg["AllocID"] == alloc_id and reg["Port"] > 0
    ports = a.get(f"/v1/allocation/{alloc_id}")["AllocatedResources"]["Shared"]["Ports"]
    assert reg["Port"] == ports[0]["Value"]

    out = a.nomad("service", "list").stdout
    assert out.splitlines()[0].split() == ["Service", "Name", "Tags"]
    assert "web" in out and "[e2e,v1]" in out   # the union of tags, sorted
    info = a.nomad("service", "info", "web").stdout
    assert f"{reg['Address']}:{reg['Port']}" in info and alloc_id[:8] in info
    verbose = a.nomad("service", "info", "-verbose", "web").stdout
    assert reg["ID"] in verbose and "Datacenter   = dc1" in verbose
    assert json.loads(a.nomad("service", "info", "-json", "web").stdout)[0]["ID"] == reg["ID"]
    assert "No service registrations found" in a.nomad("service", "info", "-tag=nope",
                                                       "web").stdout

    a.nomad("job", "stop", "-detach", "svc")
    wait_for(lambda: a.get("/v1/service/web") == [], 60, what="web deregistered")
    assert "No service registrations found" in a.nomad("service", "list").stdout


def test_service_delete_by_id(dev_agent):
    a = dev_agent
    a.nomad("job", "run", "-detach", str(write_job(a.tmp, "svc.nomad.hcl", JOB)))
    reg = wait_for(lambda: a.get("/v1/service/web"), 60, what="web registered")[0]
    out = a.nomad("service", "delete", "web", reg["ID"]).stdout
    assert "Successfully deleted service registration" in out
    assert a.get("/v1/service/web") == []
    missing = a.nomad("service", "delete", "web", reg["ID"], check=False)
    assert missing.returncode == 1 and "Error deleting service registration" in missing.stderr
