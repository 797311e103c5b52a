"""Gossip over real loopback sockets: join, failure detection, encryption, key rotation."""

import asyncio
import json
import socket

import pytest

from pynomad.server.gossip import Gossip, GossipConfig, Keyring, KeyringError, generate_key
from pynomad.server.gossip.keyring import DecryptError, decode_key

FAST = GossipConfig(probe_interval=0.2, probe_timeout=0.1, gossip_interval=0.05,
                    push_pull_interval=1.0)


def free_port() -> int:
    # a port free for both UDP and TCP
    while True:
        with socket.socket() as t, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


async def start(name: str, keys: list[str] | None = None, path=None) -> Gossip:
    port = free_port()
    ring = Keyring([decode_key(k) for k in keys or []], path)
    g = Gossip(name, ("127.0.0.1", port), ("127.0.0.1", port), {"role": "nomad"}, ring, FAST)
    await g.start()
    return g


async def until(fn, timeout=10.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if fn():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


def statuses(g: Gossip) -> dict[str, str]:
    return {m.name: m.status for m in g.members()}


def addr(g: Gossip) -> str:
    return f"127.0.0.1:{g.bind[1]}"


def test_keyring_seals_with_the_primary_and_opens_with_any_key(tmp_path):
    k1, k2 = generate_key(), generate_key()
    path = str(tmp_path / "serf" / "keyring")
    ring = Keyring.load(path, k1)
    sealed = ring.seal(b"hello")
    assert sealed[0] == 1 and b"hello" not in sealed
    ring.install(k2)
    ring.use(k2)
    assert ring.open(sealed) == b"hello"          # the old key still opens old traffic
    assert json.loads(open(path).read()) == [k2, k1]
    with pytest.raises(KeyringError):
        ring.remove(k2)                            # never the primary
    ring.remove(k1)
    with pytest.raises(DecryptError):
        ring.open(sealed)
    # the file wins over the `encrypt` setting on restart
    assert Keyring.load(path, k1).list() == [k2]
    with pytest.raises(KeyringError):
        decode_key("not base64!")
    with pytest.raises(KeyringError):
        decode_key("AAAA")


def test_members_join_detect_failures_and_force_leave():
    async def main():
        a, b, c = [await start(n) for n in ("a.global", "b.global", "c.global")]
        try:
            assert await b.join([addr(a)]) == (1, [])
            assert (await c.join([addr(b), "127.0.0.1:1"]))[0] == 1
            await until(lambda: all(statuses(g) == dict.fromkeys(
                ("a.global", "b.global", "c.global"), "alive") for g in (a, b, c)))
            await c.stop()
            await until(lambda: statuses(a)["c.global"] == "failed"
                        and statuses(b)["c.global"] == "failed")
            assert a.membership.force_leave("c.global", prune=False)
            await until(lambda: statuses(b)["c.global"] == "left")
        finally:
            for g in (a, b):
                await g.stop()

    asyncio.run(main())


def test_a_member_with_another_key_cannot_join():
    async def main():
        key = generate_key()
        a = await start("a.global", [key])
        b = await start("b.global", [generate_key()])
        clear = await start("c.global")
        try:
            n, errors = await b.join([addr(a)])
            assert n == 0 and "encryption key" in errors[0]
            n, errors = await clear.join([addr(a)])
            assert n == 0
            await asyncio.sleep(0.5)
            assert set(statuses(a)) == {"a.global"}
        finally:
            for g in (a, b, clear):
                await g.stop()

    asyncio.run(main())


def test_key_rotation_on_a_live_cluster():
    async def main():
        k1, k2 = generate_key(), generate_key()
        gs = [await start(n, [k1]) for n in ("a.global", "b.global", "c.global")]
        a = gs[0]
        try:
            for g in gs[1:]:
                assert (await g.join([addr(a)]))[0] == 1
            await until(lambda: all(len(statuses(g)) == 3 for g in gs))
            r = await a.key_op("install", k2)
            assert r["Keys"] == {k1: 3, k2: 3} and r["NumNodes"] == 3 and not r["Messages"]
            assert (await a.key_op("use", k2))["Messages"] == {}
            r = await a.key_op("remove", k1)
            assert r["Keys"] == {k2: 3} and not r["Messages"]
            assert all(g.keyring.list() == [k2] for g in gs)
            r = await a.key_op("remove", k2)
            assert len(r["Messages"]) == 3          # the primary is refused everywhere
            # still one cluster on the new key: a failure is still seen by all
            await gs[2].stop()
            await until(lambda: statuses(a)["c.global"] == "failed"
                        and statuses(gs[1])["c.global"] == "failed")
            newcomer = await start("d.global", [k1])
            assert (await newcomer.join([addr(a)]))[0] == 0
            await newcomer.stop()
        finally:
            for g in gs[:2]:
                await g.stop()

    asyncio.run(main())
