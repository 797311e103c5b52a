"""The etcd backend against a real etcd member: apply, fencing, failover, restart."""

import asyncio
import shutil
import socket

import pytest

from pynomad.backend import NotLeaderError
from pynomad.backend.etcd import EtcdBackend
from pynomad.backend.etcd_member import EtcdMember, EtcdSettings
from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.structs import Namespace

pytestmark = pytest.mark.skipif(shutil.which("etcd") is None and
                                not __import__("os").path.exists("/usr/bin/etcd"),
                                reason="etcd is not installed (make system)")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


async def until(fn, timeout=20.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if fn():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def start_member(tmp_path) -> EtcdMember:
    peer, client = free_ports(2)
    m = EtcdMember("s1.global", str(tmp_path / "s1"), "127.0.0.1", "127.0.0.1",
                   EtcdSettings(peer_port=peer, client_port=client), "pynomad-test")
    await m.start({"s1.global": m.peer_url}, "new")
    return m


class Duties:
    """The server's side of leadership: records what the backend tells it."""

    def __init__(self):
        self.events = []

    async def acquired(self):
        self.events.append("acquired")

    async def lost(self):
        self.events.append("lost")


def backend(member, name, data_dir=None) -> EtcdBackend:
    b = EtcdBackend(data_dir=data_dir, node_name=name, address=f"{name}:4647",
                    endpoint="%s:%d" % member.client_endpoint)
    b.fsm_state = StateStore()
    b.duties = Duties()
    return b


async def start(b: EtcdBackend) -> int:
    index = await b.open(FSM(b.fsm_state))
    await b.start(b.duties)
    return index


def ns(name):
    return e.NamespaceUpsert(Namespaces=[Namespace(Name=name)])


def test_entries_reach_every_server_and_a_deposed_leader_cannot_commit(tmp_path):
    async def main():
        member = await start_member(tmp_path)
        a, b = backend(member, "a"), backend(member, "s1.global")   # b runs the member
        try:
            await start(a)
            await until(lambda: a.is_leader)
            assert a.duties.events == ["acquired"]
            await start(b)
            await until(lambda: b.leader is not None and b.leader["Name"] == "a")
            assert not b.is_leader
            with pytest.raises(NotLeaderError):
                await b.commit(ns("refused"), leader_only=True)
            i1 = await a.commit(ns("one"), leader_only=True)
            i2 = await a.commit(ns("two"))
            assert i2 > i1
            await b.wait_applied(i2)
            assert {"one", "two"} <= set(b.fsm_state.namespaces)
            # a's lease is gone (as when it stalls or is partitioned): b takes over
            old_term = a.term
            await a.etcd.lease_revoke(a._lease)
            await until(lambda: b.is_leader)
            assert b.term != old_term and b.duties.events == ["acquired"]
            a.term = old_term            # a still believes it leads: fencing refuses it
            with pytest.raises(NotLeaderError):
                await a.commit(ns("stale"), leader_only=True)
            assert not a.is_leader and a.duties.events[-1] == "lost"
            i3 = await b.commit(ns("three"), leader_only=True)
            await a.wait_applied(i3)
            assert "three" in a.fsm_state.namespaces and "stale" not in a.fsm_state.namespaces
            assert "stale" not in b.fsm_state.namespaces
            peers = await a.members()
            assert [m.Node for m in peers] == ["s1.global"] and peers[0].Address == "s1.global:4647"
            assert peers[0].Leader
        finally:
            for x in (a, b):
                await x.stop()
            await member.stop()

    asyncio.run(main())


def test_a_restarted_server_replays_only_what_it_missed(tmp_path):
    async def main():
        member = await start_member(tmp_path)
        data = str(tmp_path / "server-a")
        a = backend(member, "a", data)
        try:
            await start(a)
            await until(lambda: a.is_leader)
            await a.commit(ns("before"))
            await a.stop()       # writes its local snapshot
            assert a.duties.events == ["acquired", "lost"]
            b = backend(member, "b")
            await start(b)
            await until(lambda: b.is_leader)   # at once: a revoked its lease
            last = await b.commit(ns("while-away"))
            index, snap = await b.save_snapshot()
            await b.stop()
            a = backend(member, "a", data)
            assert await a.open(FSM(a.fsm_state)) >= last
            assert {"before", "while-away"} <= set(a.fsm_state.namespaces)
            # a whole-cluster restore is one record every server applies
            await a.start(a.duties)
            await until(lambda: a.is_leader)
            await a.commit(ns("after-snapshot"))
            restored = await a.restore_snapshot(snap)
            assert restored > index and "after-snapshot" not in a.fsm_state.namespaces
            assert "while-away" in a.fsm_state.namespaces
        finally:
            await a.stop()
            await member.stop()

    asyncio.run(main())
