"""The etcd backend: the cluster's log in etcd, applied by every server to its own FSM.

Keys, under `/pynomad/<region>/`:
- `log`: every committed write is one put of this key; its etcd revision is the entry's
  index (Nomad's `X-Nomad-Index`). Every server watches the key from its applied index + 1
  and applies each revision in order, so entries written by any server reach all.
- `leader`: the election key, held under a lease by the leader. A leader's term is the
  key's create revision, and every leader-only write is a transaction comparing it, so a
  deposed leader (lease expired, partitioned away) can never commit.
- `servers/<name>`: each server's ID and addresses, for `operator raft list-peers`.

A log record is `[kind, payload]`: an entry, or a whole state (a snapshot restore). Each
server also keeps its state in `<data_dir>/server/etcd-state.bin` (written now and then and
at shutdown), so a restart replays only the log written since.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import logging
import os
import time
from collections.abc import Callable

import msgspec

from ..state import entries as e
from . import BACKENDS
from .base import Backend, BackendError, Leadership, Member, NotLeaderError, StateMachine
from .etcd_client import Etcd, EtcdError, cmp_create_revision, op_delete, op_get, op_put

log = logging.getLogger("pynomad.etcd")

RECORD_ENTRY, RECORD_STATE = 0, 1
DEFAULT_LEADER_TTL_S = 2
LEADER_POLL_S = 0.25


def encode_record(kind: int, payload: bytes) -> bytes:
    return msgspec.msgpack.encode([kind, payload])


class EtcdBackend(Backend):
    """Options (`server.backend_options`): `endpoint` ("host:port" of the etcd to talk to,
    normally this server's own member on loopback), `region`, `server_id`, `http_addr`,
    `leader_ttl` (seconds) and `snapshot_every` (applied entries between local snapshots)."""

    def __init__(self, data_dir: str | None = None, node_name: str = "server",
                 address: str = "", endpoint: str = "127.0.0.1:2379", region: str = "global",
                 server_id: str = "", http_addr: str = "",
                 leader_ttl: int = DEFAULT_LEADER_TTL_S, snapshot_every: int = 5000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        host, _, port = endpoint.rpartition(":")
        self.etcd = Etcd(host or "127.0.0.1", int(port))
        prefix = f"/pynomad/{region}/".encode()
        self.log_key = prefix + b"log"
        self.leader_key = prefix + b"leader"
        self.servers_prefix = prefix + b"servers/"
        self.info = {"ID": server_id or node_name, "Name": node_name, "RPC": address,
                     "HTTP": http_addr, "Region": region}
        self.leader_ttl = leader_ttl
        self.dir = os.path.join(data_dir, "server") if data_dir else None
        self.snapshot_every = snapshot_every
        self.clock = clock
        self.fsm: StateMachine | None = None
        self._index = 0                   # the last applied revision
        self.term = 0                     # our leader key's create revision while we lead
        self.leader: dict | None = None   # the current leader's info, as its key says
        self.last_contact = clock()       # the last time etcd answered us
        self._lease = 0
        self._leadership: Leadership | None = None
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._since_snapshot = 0
        self._tasks: list[asyncio.Task] = []
        self._closed = False

    # -- the interface ----------------------------------------------------------------------
    @property
    def index(self) -> int:
        return self._index

    @property
    def is_leader(self) -> bool:
        return self.term != 0

    @property
    def leader_address(self) -> str:
        return (self.leader or {}).get("RPC", "")

    async def open(self, fsm: StateMachine) -> int:
        """The local snapshot, then the log written since, up to now."""
        self.fsm = fsm
        path = self._snapshot_path()
        if path and os.path.exists(path):
            with open(path, "rb") as f:
                index, data = msgspec.msgpack.decode(f.read())
            fsm.restore(data, index)
            self._index = index
        await self._register()
        self._tasks.append(asyncio.create_task(self._apply_loop()))
        await self.wait_applied(await self.last_log_revision())
        return self._index

    async def start(self, leadership: Leadership) -> None:
        self._leadership = leadership
        self._tasks.append(asyncio.create_task(self._election_loop()))

    async def stop(self) -> None:
        """Step down (the lease is revoked so another server takes over at once), stop
        following, write the local snapshot."""
        self._closed = True
        lease, leading = self._lease, self.term != 0
        await self._lost("shutting down")
        if leading and lease:
            try:
                await asyncio.wait_for(self.etcd.lease_revoke(lease), 2)
            except (EtcdError, asyncio.TimeoutError):
                pass
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._write_snapshot()
        await self.etcd.close()

    async def commit(self, entry: e.Entry, leader_only: bool = False) -> int:
        return await self._commit(RECORD_ENTRY, e.encode(entry), leader_only)

    async def _commit(self, kind: int, payload: bytes, leader_only: bool) -> int:
        term = self.term
        if leader_only and not term:
            raise NotLeaderError("not the leader")
        compare = [cmp_create_revision(self.leader_key, term)] if leader_only else []
        try:
            ok, rev, _ = await self.etcd.txn(compare, [op_put(self.log_key,
                                                              encode_record(kind, payload))])
        except EtcdError as err:
            raise BackendError(str(err)) from None
        if not ok:
            await self._lost("a newer leader holds the election key")
            raise NotLeaderError("leadership lost")
        self.last_contact = self.clock()
        await self.wait_applied(rev)
        return rev

    async def save_snapshot(self) -> tuple[int, bytes]:
        await self.wait_applied(await self.last_log_revision())
        _, data = self.fsm.snapshot()
        return self._index, data

    async def restore_snapshot(self, data: bytes) -> int:
        """One record every server applies with `fsm.restore`."""
        return await self._commit(RECORD_STATE, data, leader_only=True)

    async def members(self) -> list[Member]:
        """The etcd members, named by the servers' registrations."""
        try:
            known = {json.loads(kv.value).get("Name"): json.loads(kv.value)
                     for kv in await self.etcd.get_prefix(self.servers_prefix)}
            members = await self.etcd.members()
            kv, _ = await self.etcd.get(self.leader_key)
        except (EtcdError, ValueError) as err:
            raise BackendError(f"listing the etcd members: {err}") from None
        leader = (_leader_info(kv.value) or {}).get("Name") if kv is not None else None
        out = []
        for m in members:
            info = known.get(m.name) or {}
            peer = (m.peer_urls[0] if m.peer_urls else "").split("//")[-1]
            out.append(Member(ID=info.get("ID") or f"{m.id:x}", Node=m.name or "(joining)",
                              Address=info.get("RPC") or peer, Leader=bool(m.name)
                              and m.name == leader, Voter=not m.is_learner))
        return sorted(out, key=lambda m: m.Node)

    async def add_member(self, address: str) -> None:
        """Add an etcd member by its peer URL."""
        try:
            await self.etcd.member_add([address])
        except EtcdError as err:
            raise BackendError(str(err)) from None

    async def remove_member(self, member_id: str) -> None:
        """Remove the member whose server ID, RPC address or node name is `member_id`."""
        for m in await self.members():
            if member_id in (m.ID, m.Address, m.Node):
                break
        else:
            raise BackendError(f"no raft peer {member_id!r}")
        try:
            for em in await self.etcd.members():
                if em.name == m.Node or f"{em.id:x}" == m.ID:
                    await self.etcd.member_remove(em.id)
                    await self.etcd.txn([], [op_delete(self.servers_prefix + m.Node.encode())])
                    return
        except EtcdError as err:
            raise BackendError(str(err)) from None
        raise BackendError(f"no raft peer {member_id!r}")

    # -- the log -----------------------------------------------------------------------------
    async def _register(self) -> None:
        while True:
            try:
                await self.etcd.put(self.servers_prefix + self.info["Name"].encode(),
                                    json.dumps(self.info).encode())
                return
            except EtcdError as err:
                log.info("waiting for etcd: %s", err)
                await asyncio.sleep(0.5)

    async def last_log_revision(self) -> int:
        """The revision of the last entry committed (a quorum read)."""
        while True:
            try:
                kv, _ = await self.etcd.get(self.log_key)
                self.last_contact = self.clock()
                return kv.mod_revision if kv else 0
            except EtcdError as err:
                if self._closed:
                    return self._index
                log.info("waiting for etcd: %s", err)
                await asyncio.sleep(0.5)

    async def wait_applied(self, index: int) -> None:
        if self._index >= index:
            return
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (index, id(fut), fut))
        await fut

    def _wake(self) -> None:
        while self._waiters and self._waiters[0][0] <= self._index:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)

    async def _apply_loop(self) -> None:
        while not self._closed:
            try:
                async for events, _rev in self.etcd.watch(self.log_key, self._index + 1):
                    self.last_contact = self.clock()
                    for ev in events:
                        if ev.kv.mod_revision > self._index and ev.type == 0:  # a PUT
                            self._apply_record(ev.kv.value, ev.kv.mod_revision)
                    self._wake()
            except EtcdError as err:
                if self._closed:
                    return
                log.warning("etcd log watch: %s; resuming from index %d", err, self._index)
                await asyncio.sleep(0.5)

    def _apply_record(self, value: bytes, index: int) -> None:
        kind, payload = msgspec.msgpack.decode(value)
        if kind == RECORD_ENTRY:
            self.fsm.apply(e.decode(payload), index)
        elif kind == RECORD_STATE:
            self.fsm.restore(payload, index)
        self._index = index
        self._since_snapshot += 1
        if self._since_snapshot >= self.snapshot_every:
            self._write_snapshot()

    def _snapshot_path(self) -> str | None:
        return os.path.join(self.dir, "etcd-state.bin") if self.dir else None

    def _write_snapshot(self) -> None:
        path = self._snapshot_path()
        if path is None or self._index == 0 or self.fsm is None:
            return
        os.makedirs(self.dir, exist_ok=True)
        _, data = self.fsm.snapshot()
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(msgspec.msgpack.encode([self._index, data]))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._since_snapshot = 0

    # -- leadership --------------------------------------------------------------------------
    async def _election_loop(self) -> None:
        info = json.dumps(self.info).encode()
        while not self._closed:
            try:
                kv, _ = await self.etcd.get(self.leader_key)
                self.last_contact = self.clock()
                if kv is not None:
                    self.leader = _leader_info(kv.value)
                    await asyncio.sleep(LEADER_POLL_S)
                    continue
                await self._campaign(info)
            except EtcdError as err:
                await self._lost(f"etcd unreachable: {err}")
                self.leader = None
                log.debug("election: %s", err)
                await asyncio.sleep(LEADER_POLL_S)

    async def _campaign(self, info: bytes) -> None:
        lease = await self.etcd.lease_grant(self.leader_ttl)
        ok, rev, resps = await self.etcd.txn([cmp_create_revision(self.leader_key, 0)],
                                             [op_put(self.leader_key, info, lease)],
                                             [op_get(self.leader_key)])
        if not ok:
            await self.etcd.lease_revoke(lease)
            kvs = resps[0].response_range.kvs if resps else []
            self.leader = _leader_info(kvs[0].value) if kvs else None
            return
        # Everything committed before our term is applied before we act as leader.
        await self.wait_applied(await self.last_log_revision())
        self._lease, self.term, self.leader = lease, rev, dict(self.info)
        log.info("leadership acquired (term %d)", rev)
        if self._leadership is not None:
            await self._leadership.acquired()
        await self._keep_leading(lease)

    async def _keep_leading(self, lease: int) -> None:
        """Refresh the lease four times per TTL; step down before it can have expired at
        etcd (the last refresh was sent before etcd received it)."""
        last_ok = self.clock()
        while self.term and not self._closed:
            await asyncio.sleep(self.leader_ttl / 4)
            try:
                sent = self.clock()
                ttl = await asyncio.wait_for(self.etcd.lease_keepalive(lease),
                                             self.leader_ttl / 2)
                if ttl > 0:
                    last_ok = sent
                    self.last_contact = self.clock()
                else:
                    await self._lost("leader lease expired")
            except (EtcdError, asyncio.TimeoutError) as err:
                log.warning("leader lease refresh failed: %s", err)
            if self.term and self.clock() - last_ok > self.leader_ttl * 0.75:
                await self._lost("leader lease could not be refreshed in time")

    async def _lost(self, why: str) -> None:
        if not self.term:
            return
        log.warning("leadership lost (term %d): %s", self.term, why)
        self.term = 0
        self.leader = None
        if self._leadership is not None:
            await self._leadership.lost()


def _leader_info(value: bytes) -> dict | None:
    try:
        info = json.loads(value)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


BACKENDS["etcd"] = EtcdBackend
