"""ACLs and namespaces end to end: a dev agent with `acl { enabled = true }`, driven by the
CLI as a user would: bootstrap, a namespace, a read-only policy and a token for it."""

from __future__ import annotations

import re

import pytest

from conftest import Agent, wait_for, write_job

JOB = """job "{name}" {{
  namespace   = "{ns}"
  datacenters = ["dc1"]
  type        = "batch"
  group "g" {{
    task "t" {{
      driver = "mock_driver"
      config {{
        run_for = "30s"
      }}
    }}
  }}
}}
"""


class ACLAgent(Agent):
    def _ready(self):
        # /v1/nodes needs a token once ACLs are on; the leader status does not
        if self.proc.poll() is not None:
            raise RuntimeError(f"agent exited: {self.log.read_text()[-3000:]}")
        return self.get("/v1/status/leader")


@pytest.fixture
def acl_agent(tmp_path):
    agent = ACLAgent(tmp_path, extra_hcl="acl {\n  enabled = true\n}\n").start()
    yield agent
    agent.stop()


def secret_of(output: str) -> str:
    m = re.search(r"^Secret ID\s+=\s+(\S+)$", output, re.M)
    assert m, output
    return m.group(1)


def test_read_only_token_in_one_namespace(acl_agent, tmp_path):
    a = acl_agent
    boot = a.nomad("acl", "bootstrap")
    assert re.search(r"^Type\s+=\s+management$", boot.stdout, re.M)
    root = secret_of(boot.stdout)
    again = a.nomad("acl", "bootstrap", check=False)
    assert again.returncode == 1 and "ACL bootstrap already done" in again.stderr

    r = a.nomad("namespace", "apply", "-token", root, "-description", "Production", "prod")
    assert r.stdout.strip() == 'Successfully applied namespace "prod"!'
    listing = a.nomad("namespace", "list", "-token", root).stdout
    assert re.search(r"^prod\s+Production$", listing, re.M)
    assert re.search(r"^default\s+Default shared namespace$", listing, re.M)

    policy = write_job(tmp_path, "prod-ro.hcl", 'namespace "prod" {\n  policy = "read"\n}\n')
    r = a.nomad("acl", "policy", "apply", "-token", root, "prod-ro", str(policy))
    assert r.stdout.strip() == "Successfully wrote 'prod-ro' ACL policy!"
    created = a.nomad("acl", "token", "create", "-token", root, "-name", "reader",
                      "-policy", "prod-ro").stdout
    assert re.search(r"^Policies\s+=\s+\[prod-ro\]$", created, re.M)
    reader = secret_of(created)

    prod_job = write_job(tmp_path, "web.hcl", JOB.format(name="web", ns="prod"))
    other_job = write_job(tmp_path, "api.hcl", JOB.format(name="api", ns="default"))
    a.nomad("job", "run", "-detach", "-token", root, str(prod_job))
    a.nomad("job", "run", "-detach", "-token", root, str(other_job))

    # the reader sees the job in prod...
    status = a.nomad("job", "status", "-token", reader, "-namespace", "prod", "web")
    assert re.search(r"^ID\s+=\s+web$", status.stdout, re.M)
    # ...may not submit there...
    denied = a.nomad("job", "run", "-detach", "-token", reader, str(prod_job), check=False)
    assert denied.returncode == 1
    assert "Permission denied" in denied.stderr
    # ...and may not list the default namespace (403, as Nomad)
    other = a.nomad("job", "status", "-token", reader, "-namespace", "default", check=False)
    assert "api" not in other.stdout
    assert other.returncode == 1 and "403 (Permission denied)" in other.stderr
    hidden = a.nomad("job", "status", "-token", reader, "-namespace", "default", "api",
                     check=False)
    assert hidden.returncode == 1

    me = a.nomad("acl", "token", "self", "-token", reader).stdout
    assert re.search(r"^Name\s+=\s+reader$", me, re.M)
    # a namespace with a running job cannot be deleted; default never
    busy = a.nomad("namespace", "delete", "-token", root, "prod", check=False)
    assert busy.returncode == 1 and "non-terminal job" in busy.stderr
    default = a.nomad("namespace", "delete", "-token", root, "default", check=False)
    assert "default namespace can not be deleted" in default.stderr
    wait_for(lambda: a.nomad("job", "stop", "-purge", "-token", root, "-namespace", "prod",
                             "web", check=False).returncode == 0, 30, what="job stopped")
    assert a.nomad("namespace", "delete", "-token", root, "prod").stdout.strip() == \
        'Successfully deleted namespace "prod"!'
