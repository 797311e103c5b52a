"""Deployments against a real `nomad agent -dev`, driven through the CLI as a user would:
a canary update held for promotion, `nomad deployment promote`, the rolling rest of the
update, `nomad deployment list|status`, "Latest Deployment" in `nomad job status`, and
`nomad job revert`."""

from __future__ import annotations

from conftest import Agent, wait_for, write_job


def web_job(sleep: str) -> str:
    return f'''
job "web" {{
  datacenters = ["dc1"]
  group "g" {{
    count = 2
    update {{
      max_parallel     = 1
      canary           = 1
      min_healthy_time = "1s"
    }}
    task "t" {{
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


def latest(agent: Agent) -> dict:
    return agent.get("/v1/job/web/deployment")


def test_canary_update_promote_and_revert(dev_agent: Agent):
    agent = dev_agent
    first = agent.nomad("job", "run", str(write_job(agent.tmp, "v0.nomad", web_job("1000"))))
    assert 'Monitoring deployment "' in first.stdout
    assert "Deployment completed successfully" in first.stdout
    assert agent.get("/v1/job/web")["Stable"] is True

    agent.nomad("job", "run", "-detach", str(write_job(agent.tmp, "v1.nomad", web_job("1001"))))
    dep = wait_for(lambda: (d := latest(agent)) and d["JobVersion"] == 1
                   and d["TaskGroups"]["g"]["HealthyAllocs"] == 1 and d, what="healthy canary")
    status = agent.nomad("deployment", "status", dep["ID"]).stdout
    assert "Deployment is running but requires manual promotion" in status
    assert len(agent.get("/v1/job/web/allocations")) == 3  # two old, one canary

    agent.nomad("deployment", "promote", "-detach", dep["ID"])
    wait_for(lambda: latest(agent)["Status"] == "successful", what="deployment success")
    live = [a for a in agent.get("/v1/job/web/allocations") if a["DesiredStatus"] == "run"]
    assert len(live) == 2 and all(a["JobVersion"] == 1 for a in live)

    listing = agent.nomad("deployment", "list").stdout
    assert listing.count("Deployment completed successfully") == 2
    job_status = agent.nomad("job", "status", "web").stdout
    assert "Latest Deployment" in job_status and "Promoted" in job_status

    agent.nomad("job", "revert", "-detach", "web", "0")
    job = agent.get("/v1/job/web")
    assert job["Version"] == 2 and job["TaskGroups"][0]["Tasks"][0]["Config"]["args"] == ["1000"]
