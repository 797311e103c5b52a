"""Nomad Variables end to end: a dev agent driven by `nomad var` and the HTTP API."""

from __future__ import annotations

import json


def test_var_put_get_cas_and_purge(dev_agent):
    a = dev_agent
    out = a.nomad("var", "put", "-out=json", "nomad/jobs/web", "password=s3cret", "user=me")
    var = json.loads(out.stdout)
    assert var["Path"] == "nomad/jobs/web" and var["Namespace"] == "default"
    assert a.nomad("var", "get", "-item=password", "nomad/jobs/web").stdout == "s3cret"
    got = json.loads(a.nomad("var", "get", "nomad/jobs/web").stdout)
    assert got["Items"] == {"password": "s3cret", "user": "me"}
    assert got["ModifyIndex"] == var["ModifyIndex"]

    conflict = a.nomad("var", "put", "nomad/jobs/web", "password=other", check=False)
    assert conflict.returncode == 1 and "Check-and-Set conflict" in conflict.stderr
    stale = a.nomad("var", "put", f"-check-index={var['ModifyIndex'] + 1000}",
                    "nomad/jobs/web", "password=other", check=False)
    assert stale.returncode == 1
    assert a.nomad("var", "get", "-item=password", "nomad/jobs/web").stdout == "s3cret"
    a.nomad("var", "put", "-out=none", f"-check-index={var['ModifyIndex']}",
            "nomad/jobs/web", "password=rotated")
    assert a.nomad("var", "get", "-item=password", "nomad/jobs/web").stdout == "rotated"

    listed = json.loads(a.nomad("var", "list", "-out=json", "nomad/").stdout)
    assert [v["Path"] for v in listed] == ["nomad/jobs/web"]
    assert "Items" not in listed[0]
    assert a.get("/v1/var/nomad/jobs/web")["Items"]["password"] == "rotated"

    bad = a.nomad("var", "put", "nomad/other", "a=b", check=False)
    assert bad.returncode == 1 and "only paths at" in bad.stderr
    assert a.nomad("var", "purge", "nomad/jobs/web").stdout.startswith(
        'Successfully purged variable "nomad/jobs/web"!')
    missing = a.nomad("var", "get", "nomad/jobs/web", check=False)
    assert missing.returncode == 1 and "Variable not found" in missing.stderr
