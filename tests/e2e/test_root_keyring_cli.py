"""Variables encrypted at rest with the root keyring, end to end: `nomad operator root
keyring list|rotate|remove` against a durable agent whose data dir, WAL, snapshots and
snapshot archives never hold a variable's plaintext."""

from __future__ import annotations

import gzip
import io
import json
import tarfile

from conftest import Agent, wait_for

SECRET = "plaintext-marker-7f3a9c"


def _files_holding(root, needle: bytes) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def _keys(agent) -> list[dict]:
    return agent.get("/v1/operator/keyring/keys")


def test_variables_are_sealed_and_keys_rotate(tmp_path):
    data = tmp_path / "data"
    agent = Agent(tmp_path, dev=False, data_dir=data).start()
    try:
        first = _keys(agent)
        assert [k["State"] for k in first] == ["active"]
        assert first[0]["Algorithm"] == "aes256-gcm"
        out = agent.nomad("operator", "root", "keyring", "list").stdout
        assert out.splitlines()[0].split() == ["Key", "State", "Create", "Time"]
        assert first[0]["KeyID"][:8] in out and "active" in out

        agent.nomad("var", "put", "-out=none", "nomad/jobs/app", f"password={SECRET}")
        assert agent.nomad("var", "get", "-item=password", "nomad/jobs/app").stdout == SECRET
        assert _files_holding(data, SECRET.encode()) == []

        # a plain rotation: the new key seals new writes, the old one still opens old ones
        rotated = agent.nomad("operator", "root", "keyring", "rotate", "-verbose").stdout
        keys = {k["KeyID"]: k["State"] for k in _keys(agent)}
        new_id = next(k for k, s in keys.items() if s == "active")
        assert new_id in rotated and keys[first[0]["KeyID"]] == "inactive"
        assert agent.nomad("var", "get", "-item=password", "nomad/jobs/app").stdout == SECRET
        refused = agent.nomad("operator", "root", "keyring", "remove", first[0]["KeyID"],
                              check=False)
        assert refused.returncode == 1 and "still encrypts 1 variables" in refused.stderr
        active = agent.nomad("operator", "root", "keyring", "remove", new_id, check=False)
        assert active.returncode == 1 and "active root key cannot be deleted" in active.stderr

        # a full rotation re-encrypts the variable; every older key is then inactive
        agent.nomad("operator", "root", "keyring", "rotate", "-full")
        wait_for(lambda: all(k["State"] in ("active", "inactive") for k in _keys(agent)),
                 60, what="rekeying finished")
        for old in (first[0]["KeyID"], new_id):
            assert "Removed encryption key" in agent.nomad(
                "operator", "root", "keyring", "remove", old).stdout
        assert [k["State"] for k in _keys(agent)] == ["active"]
        assert agent.nomad("var", "get", "-item=password", "nomad/jobs/app").stdout == SECRET

        archive = tmp_path / "backup.snap"
        agent.nomad("operator", "snapshot", "save", str(archive))
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(archive.read_bytes()))) as tar:
            for member in tar:
                f = tar.extractfile(member)
                assert f is None or SECRET.encode() not in f.read(), member.name
    finally:
        agent.stop()
    assert _files_holding(data, SECRET.encode()) == []

    # the keys live in the state: a restarted server still opens the variable
    again = Agent(tmp_path, dev=False, data_dir=data).start()
    try:
        assert again.nomad("var", "get", "-item=password", "nomad/jobs/app").stdout == SECRET
        assert json.loads(again.nomad("var", "get", "nomad/jobs/app").stdout)["Items"] == {
            "password": SECRET}
    finally:
        again.stop()


def test_jwks_publishes_the_signing_keys(dev_agent):
    jwks = dev_agent.get("/.well-known/jwks.json")
    ids = {k["KeyID"] for k in _keys(dev_agent)}
    assert {k["kid"] for k in jwks["keys"]} == ids
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA"
               for k in jwks["keys"])
