"""A real 3-server cluster on etcd: one leader seen by all, jobs through any server,
encrypted gossip (a wrong key is refused, keys rotate live), ACLs bootstrapped once for the
cluster, force-leave and remove-peer of a stopped server, and a later server joining."""

from __future__ import annotations

import base64
import json
import os

from cluster_harness import (SLEEP_JOB, Cluster, needs_etcd, started_count, wait_for,
                             wait_running)

pytestmark = needs_etcd
KEY = base64.b64encode(os.urandom(32)).decode()


def members(node) -> dict[str, str]:
    return {m["Name"]: m["Status"] for m in node.get("/v1/agent/members")["Members"]}


def test_three_servers_one_leader_jobs_through_any_server_and_gossip_keys(tmp_path):
    c = Cluster(tmp_path, servers=3, clients=1, encrypt=KEY).start()
    intruder = None
    try:
        s1, s2, s3 = c.servers
        leader = c.wait_leader()
        names = {f"global-s{i}.global" for i in (1, 2, 3)}
        for s in c.servers:
            wait_for(lambda: members(s) == dict.fromkeys(names, "alive"), 30,
                     what=f"3 alive members on {s.name}")
            peers = s.get("/v1/status/peers")
            assert sorted(peers) == sorted(f"127.0.0.1:{x.rpc}" for x in c.servers)
            out = s.nomad("operator", "raft", "list-peers").stdout
            assert out.count("leader") == 1 and out.count("follower") == 2, out
            assert s.leader() == leader
        rows = s2.nomad("server", "members").stdout.splitlines()
        assert rows[0].split() == ["Name", "Address", "Port", "Status", "Leader",
                                   "Raft", "Version", "Build", "Datacenter", "Region"]
        assert sum(r.split()[4] == "true" for r in rows[1:]) == 1
        assert "encrypted = true" in s3.nomad("agent-info").stdout

        # a job registered through each server runs, once
        for i, s in enumerate(c.servers):
            (tmp_path / f"j{i}.nomad").write_text(SLEEP_JOB.format(id=f"web{i}", extra=""))
            s.nomad("job", "run", "-detach", str(tmp_path / f"j{i}.nomad"))
        by_job = wait_running(s1, [f"web{i}" for i in range(3)])
        for s in c.servers:   # every server has the same view
            assert {j["ID"] for j in s.get("/v1/jobs")} == {"web0", "web1", "web2"}
        assert all(len(a) == 1 and started_count(a[0]) == 1 for a in by_job.values())
        # a client-only agent answers the cluster API through a server
        assert {j["ID"] for j in c.clients[0].get("/v1/jobs")} == {"web0", "web1", "web2"}

        # a server with another gossip key is refused
        intruder = c.server_node("global-bad", encrypt=base64.b64encode(os.urandom(32)).decode())
        intruder.start()
        wait_for(lambda: "encryption key" in intruder.log_text(), 30,
                 what="the intruder told its key is wrong")
        assert "global-bad.global" not in members(s1)

        # key rotation on the live cluster, as the notes describe
        new = s1.nomad("operator", "gossip", "keyring", "generate").stdout.strip()
        assert len(base64.b64decode(new)) == 32
        s1.nomad("operator", "gossip", "keyring", "install", new)
        listed = s2.nomad("operator", "gossip", "keyring", "list").stdout
        assert KEY in listed and new in listed
        s3.nomad("operator", "gossip", "keyring", "use", new)
        removed = s1.nomad("operator", "gossip", "keyring", "remove", KEY, check=False)
        assert removed.returncode == 0, removed.stderr
        assert KEY not in s2.nomad("operator", "keyring", "-list").stdout
        bad = s1.nomad("operator", "gossip", "keyring", "remove", new, check=False)
        assert bad.returncode == 1 and "primary" in bad.stderr
        for s in c.servers:
            ring = json.loads((s.data_dir / "server" / "serf" / "keyring").read_text())
            assert ring == [new]
        # gossip still works on the new key: a stopped server is seen failed by all
        s3.kill()
        for s in (s1, s2):
            wait_for(lambda: members(s)["global-s3.global"] == "failed", 30,
                     what="s3 failed")
    finally:
        if intruder is not None:
            intruder.kill()
        c.close()


def test_force_leave_remove_peer_and_a_later_server_joining(tmp_path):
    c = Cluster(tmp_path, servers=3, clients=0).start()
    s4 = None
    try:
        s1, s2, s3 = c.servers
        s3.stop()   # servers do not leave on a stop: it is failed, and still a raft peer
        wait_for(lambda: members(s1).get("global-s3.global") == "failed", 30, what="failed")
        s1.nomad("server", "force-leave", "global-s3.global")
        wait_for(lambda: members(s2).get("global-s3.global") == "left", 30, what="left")
        assert len(s1.get("/v1/operator/raft/configuration")["Servers"]) == 3
        bad = s1.nomad("operator", "raft", "remove-peer", "-peer-address=127.0.0.1:1",
                       check=False)
        assert bad.returncode == 1
        s2.nomad("operator", "raft", "remove-peer", f"-peer-address=127.0.0.1:{s3.rpc}")
        peers = s1.nomad("operator", "raft", "list-peers").stdout
        assert "global-s3.global" not in peers and peers.count("127.0.0.1") == 2
        s1.nomad("server", "force-leave", "-prune", "global-s3.global")
        wait_for(lambda: "global-s3.global" not in members(s2), 30, what="pruned")
        # the cluster still commits with two of its two voters
        (tmp_path / "a.nomad").write_text(SLEEP_JOB.format(id="after", extra=""))
        s2.nomad("job", "run", "-detach", str(tmp_path / "a.nomad"))
        # a new server joins the running cluster as a new etcd member and catches up
        s4 = c.server_node("global-s4", join=c.serf_addrs[:1])
        s4.start()
        wait_for(lambda: s4.leader() != "", 60, what="s4 sees the leader")
        wait_for(lambda: len(s1.get("/v1/status/peers")) == 3, 30, what="3 peers again")
        assert "after" in {j["ID"] for j in s4.get("/v1/jobs?stale")}
        assert f"127.0.0.1:{s4.rpc}" in s4.get("/v1/status/peers")
    finally:
        if s4 is not None:
            s4.stop()
        c.close()
