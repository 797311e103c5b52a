"""The few etcd v3 calls the backend makes, over `aetcd`'s gRPC channel and stubs.

aetcd's own helpers drop the response headers (the revision a transaction committed at)
and hide watch compaction, so the calls here use its generated stubs directly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aetcd
from aetcd import rpc

log = logging.getLogger("pynomad.etcd")

MAX_MESSAGE = 64 * 1024 * 1024
CHANNEL_OPTIONS = {"grpc.max_receive_message_length": MAX_MESSAGE,
                   "grpc.max_send_message_length": MAX_MESSAGE,
                   "grpc.keepalive_time_ms": 2000,
                   "grpc.keepalive_timeout_ms": 2000,
                   "grpc.keepalive_permit_without_calls": 1,
                   "grpc.initial_reconnect_backoff_ms": 100,
                   "grpc.max_reconnect_backoff_ms": 1000}


class EtcdError(Exception):
    """etcd could not be reached or refused the call."""


class Compacted(EtcdError):
    def __init__(self, revision: int) -> None:
        super().__init__(f"required revision has been compacted (compacted to {revision})")
        self.revision = revision


@dataclass
class KV:
    key: bytes
    value: bytes
    create_revision: int
    mod_revision: int
    lease: int


@dataclass
class EtcdMemberInfo:
    id: int
    name: str
    peer_urls: list[str]
    client_urls: list[str]
    is_learner: bool = False


def _kv(kv) -> KV:
    return KV(kv.key, kv.value, kv.create_revision, kv.mod_revision, kv.lease)


def _error(err: Exception) -> EtcdError:
    if isinstance(err, rpc.AioRpcError):
        return EtcdError(f"etcd: {err.code().name}: {err.details()}")
    return EtcdError(f"etcd: {err}")


# -- transaction building blocks ------------------------------------------------------
def cmp_create_revision(key: bytes, revision: int):
    return rpc.Compare(result=rpc.Compare.EQUAL, target=rpc.Compare.CREATE, key=key,
                       create_revision=revision)


def op_put(key: bytes, value: bytes, lease: int = 0):
    return rpc.RequestOp(request_put=rpc.PutRequest(key=key, value=value, lease=lease))


def op_delete(key: bytes):
    return rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key))


def op_get(key: bytes):
    return rpc.RequestOp(request_range=rpc.RangeRequest(key=key))


class Etcd:
    """A connection to one etcd endpoint (this server's member, or an external one)."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.host, self.port = host, port
        self.timeout = timeout
        self._client = aetcd.Client(host=host, port=port, options=CHANNEL_OPTIONS)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    async def connect(self) -> None:
        await self._client.connect()

    async def close(self) -> None:
        try:
            await self._client.close()
        except Exception:  # noqa: BLE001 - closing a broken channel
            pass

    @property
    def _kv(self):
        return self._client.kvstub

    async def _call(self, stub_method, request, timeout: float | None = None):
        await self._client.connect()
        try:
            return await stub_method(request, timeout=timeout or self.timeout)
        except rpc.AioRpcError as err:
            raise _error(err) from None

    # -- key-value ----------------------------------------------------------------------
    async def get(self, key: bytes, serializable: bool = False) -> tuple[KV | None, int]:
        """The key's value (None when absent) and the store's revision."""
        await self._client.connect()
        resp = await self._call(self._kv.Range,
                                rpc.RangeRequest(key=key, serializable=serializable))
        return (_kv(resp.kvs[0]) if resp.kvs else None), resp.header.revision

    async def get_prefix(self, prefix: bytes) -> list[KV]:
        await self._client.connect()
        end = aetcd.utils.prefix_range_end(prefix)
        resp = await self._call(self._kv.Range, rpc.RangeRequest(key=prefix, range_end=end))
        return [_kv(kv) for kv in resp.kvs]

    async def revision(self) -> int:
        """The current revision, read linearizably (a quorum read)."""
        _, rev = await self.get(b"\0")
        return rev

    async def put(self, key: bytes, value: bytes, lease: int = 0) -> int:
        await self._client.connect()
        resp = await self._call(self._kv.Put, rpc.PutRequest(key=key, value=value, lease=lease))
        return resp.header.revision

    async def txn(self, compare: list, success: list, failure: list | None = None,
                  timeout: float | None = None) -> tuple[bool, int, list]:
        """(succeeded, revision after the transaction, responses)."""
        await self._client.connect()
        resp = await self._call(self._kv.Txn, rpc.TxnRequest(
            compare=compare, success=success, failure=failure or []), timeout)
        return resp.succeeded, resp.header.revision, list(resp.responses)

    async def compact(self, revision: int) -> None:
        await self._client.connect()
        try:
            await self._call(self._kv.Compact, rpc.CompactionRequest(revision=revision))
        except EtcdError as err:
            if "compacted" not in str(err):
                raise

    # -- leases -------------------------------------------------------------------------
    async def lease_grant(self, ttl: int) -> int:
        await self._client.connect()
        resp = await self._call(self._client.leasestub.LeaseGrant,
                                rpc.LeaseGrantRequest(TTL=ttl))
        return resp.ID

    async def lease_keepalive(self, lease_id: int) -> int:
        """Refresh the lease; its new TTL (0 when it has expired)."""
        await self._client.connect()
        try:
            async for reply in self._client.leasestub.LeaseKeepAlive(
                    iter([rpc.LeaseKeepAliveRequest(ID=lease_id)]), timeout=self.timeout):
                return reply.TTL
        except rpc.AioRpcError as err:
            raise _error(err) from None
        return 0

    async def lease_revoke(self, lease_id: int) -> None:
        await self._client.connect()
        await self._call(self._client.leasestub.LeaseRevoke,
                         rpc.LeaseRevokeRequest(ID=lease_id))

    # -- watch --------------------------------------------------------------------------
    async def watch(self, key: bytes, start_revision: int,
                    prefix: bool = False) -> AsyncIterator[tuple[list, int]]:
        """Yield (events, header revision) for `key` from `start_revision` on, including
        progress notifications (no events) so the caller knows how far etcd has got.
        Raises Compacted when the history from `start_revision` is gone."""
        await self._client.connect()
        stub = rpc.WatchStub(self._client.channel)
        create = rpc.WatchCreateRequest(key=key, start_revision=start_revision,
                                        progress_notify=True)
        if prefix:
            create.range_end = aetcd.utils.prefix_range_end(key)
        queue: asyncio.Queue = asyncio.Queue()
        await queue.put(rpc.WatchRequest(create_request=create))

        async def requests():
            while True:
                req = await queue.get()
                if req is None:
                    return
                yield req

        call = stub.Watch(requests())
        try:
            async for resp in call:
                if resp.compact_revision:
                    raise Compacted(resp.compact_revision)
                if resp.canceled:
                    raise EtcdError(f"etcd watch canceled: {resp.cancel_reason}")
                if resp.created and not resp.events:
                    continue
                yield list(resp.events), resp.header.revision
        except rpc.AioRpcError as err:
            raise _error(err) from None
        finally:
            await queue.put(None)
            call.cancel()

    # -- cluster ------------------------------------------------------------------------
    async def members(self) -> list[EtcdMemberInfo]:
        await self._client.connect()
        resp = await self._call(self._client.clusterstub.MemberList, rpc.MemberListRequest())
        return [EtcdMemberInfo(m.ID, m.name, list(m.peerURLs), list(m.clientURLs))
                for m in resp.members]

    async def member_add(self, peer_urls: list[str]) -> tuple[int, list[EtcdMemberInfo]]:
        await self._client.connect()
        resp = await self._call(self._client.clusterstub.MemberAdd,
                                rpc.MemberAddRequest(peerURLs=peer_urls), timeout=15)
        return resp.member.ID, [EtcdMemberInfo(m.ID, m.name, list(m.peerURLs),
                                               list(m.clientURLs)) for m in resp.members]

    async def member_remove(self, member_id: int) -> None:
        await self._client.connect()
        await self._call(self._client.clusterstub.MemberRemove,
                         rpc.MemberRemoveRequest(ID=member_id), timeout=15)

    async def status(self) -> dict:
        """The member's view: its ID, the etcd leader's ID, raft term and index."""
        await self._client.connect()
        resp = await self._call(self._client.maintenancestub.Status, rpc.StatusRequest())
        return {"member_id": resp.header.member_id, "leader": resp.leader,
                "raft_term": resp.raftTerm, "raft_index": resp.raftIndex,
                "db_size": resp.dbSize, "revision": resp.header.revision}
