"""Failover and upgrades on a real 3-server cluster: kill -9 of the leader while writers
keep registering jobs, the killed server rejoining, and a rolling restart of all servers
under a trickle of writes. Nothing acknowledged is lost, nothing runs twice."""

from __future__ import annotations

import json
import random
import signal
import threading
import time

from cluster_harness import (Cluster, job_json, needs_etcd, started_count, wait_for,
                             wait_running)

pytestmark = needs_etcd


class Writers:
    """Threads registering jobs through random running servers; a job is acknowledged
    when a server answered 200 (a failed attempt is retried under the same ID)."""

    def __init__(self, cluster: Cluster, prefix: str, threads: int = 2, pause: float = 0.0):
        self.cluster, self.prefix, self.pause = cluster, prefix, pause
        self.acked: list[str] = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._next = 0
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _take(self) -> str:
        with self._lock:
            self._next += 1
            return f"{self.prefix}-{self._next}"

    def _run(self) -> None:
        while not self._stop.is_set():
            job_id = self._take()
            while not self._stop.is_set():
                node = random.choice([s for s in self.cluster.servers if s.running])
                try:
                    status, _, _ = node.request("PUT", "/v1/jobs", job_json(job_id), timeout=15)
                except Exception:  # noqa: BLE001 - a killed server: try another
                    status = 0
                if status == 200:
                    with self._lock:
                        self.acked.append(job_id)
                    break
                with self._lock:
                    self.errors += 1
                time.sleep(0.2)
            time.sleep(self.pause)

    def __enter__(self) -> "Writers":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)


def check_nothing_lost_or_doubled(cluster: Cluster, job_ids: list[str]) -> None:
    node = next(s for s in cluster.servers if s.running)
    by_job = wait_running(node, job_ids, timeout=120)
    for job_id in job_ids:
        allocs = by_job[job_id]
        assert len(allocs) == 1, (job_id, allocs)
        assert started_count(node.get(f"/v1/allocation/{allocs[0]['ID']}")) == 1, job_id


def test_kill_9_of_the_leader_under_writers_then_it_rejoins(tmp_path):
    c = Cluster(tmp_path, servers=3, clients=1).start()
    try:
        old = c.leader_node()
        with Writers(c, "w") as writers:
            wait_for(lambda: len(writers.acked) >= 10, 60, what="writes before the kill")
            old.kill(signal.SIGKILL)
            rest = [s for s in c.servers if s is not old]
            new_leader = c.wait_leader(rest, timeout=60, other_than=f"127.0.0.1:{old.rpc}")
            before = len(writers.acked)
            wait_for(lambda: len(writers.acked) >= before + 10, 60,
                     what="writes taken by the new leader")
        acked = list(writers.acked)
        assert len(set(acked)) == len(acked)
        stored = {j["ID"] for j in rest[0].get("/v1/jobs")}
        assert set(acked) <= stored
        check_nothing_lost_or_doubled(c, acked)

        # the killed server comes back and catches up with everything
        old.start()
        wait_for(lambda: old.leader() == new_leader, 60, what="old leader rejoined")
        wait_for(lambda: set(acked) <= {j["ID"] for j in old.get("/v1/jobs?stale")}, 60,
                 what="old leader caught up")
        assert len(old.get("/v1/status/peers")) == 3
    finally:
        c.close()


def test_rolling_restart_of_all_servers_under_a_trickle_of_writes(tmp_path):
    c = Cluster(tmp_path, servers=3, clients=1).start()
    try:
        with Writers(c, "r", threads=1, pause=0.2) as writers:
            for s in c.servers:
                s.stop()
                s.start()
                wait_for(lambda: s.leader() != "", 60, what=f"{s.name} back")
                others = [x for x in c.servers if x is not s]
                index = max(int(x.request("GET", "/v1/jobs")[2].get("X-Nomad-Index", 0))
                            for x in others)
                wait_for(lambda: int(s.request("GET", "/v1/jobs?stale")[2]
                                     .get("X-Nomad-Index", 0)) >= index, 60,
                         what=f"{s.name} caught up")
            n = len(writers.acked)
            wait_for(lambda: len(writers.acked) >= n + 3, 60, what="writes after the restarts")
        acked = list(writers.acked)
        for s in c.servers:
            assert set(acked) <= {j["ID"] for j in s.get("/v1/jobs")}, s.name
        check_nothing_lost_or_doubled(c, acked)
        assert len(json.loads(c.servers[0].request("GET", "/v1/status/peers")[1])) == 3
    finally:
        c.close()
