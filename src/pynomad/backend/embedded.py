"""The embedded backend: one server; in memory under `-dev`, durable in `data_dir` otherwise.

Durable layout under `<data_dir>/server/`:
- `wal.log`: length-prefixed msgpack entries `[index, entry]`, fsynced before a commit returns.
- `snapshot.bin`: the whole state at some index, written atomically; the WAL is truncated
  after each snapshot. Restore = load snapshot, replay WAL entries with a higher index.

The single server is the leader from `start` to `stop`; every commit is applied at once.
"""

from __future__ import annotations

import os
import struct

import msgspec

from ..state import entries as e
from .base import Backend, BackendError, Leadership, Member, StateMachine

_LEN = struct.Struct(">I")


class EmbeddedBackend(Backend):
    def __init__(self, data_dir: str | None = None, snapshot_every: int = 10_000,
                 node_name: str = "server", address: str = "") -> None:
        self.dir = os.path.join(data_dir, "server") if data_dir else None
        self.snapshot_every = snapshot_every
        self.node_name = node_name
        self.address = address
        self.fsm: StateMachine | None = None
        self._index = 0
        self._since_snapshot = 0
        self._wal = None
        self._leadership: Leadership | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def open(self, fsm: StateMachine) -> int:
        self.fsm = fsm
        if self.dir is None:
            return 0
        os.makedirs(self.dir, exist_ok=True)
        snap = os.path.join(self.dir, "snapshot.bin")
        if os.path.exists(snap):
            with open(snap, "rb") as f:
                data = f.read()
            self._index = msgspec.msgpack.decode(data, type=_SnapshotIndex).Index
            fsm.restore(data, self._index)
        for index, entry in self._read_wal():
            if index > self._index:
                fsm.apply(entry, index)
                self._index = index
        self._wal = open(os.path.join(self.dir, "wal.log"), "ab")
        return self._index

    async def start(self, leadership: Leadership) -> None:
        self._leadership = leadership
        await leadership.acquired()

    async def stop(self) -> None:
        leadership, self._leadership = self._leadership, None
        if leadership is not None:
            await leadership.lost()
        if self._wal is not None:
            self._wal.close()
            self._wal = None

    @property
    def index(self) -> int:
        return self._index

    @property
    def is_leader(self) -> bool:
        return self._leadership is not None

    @property
    def leader_address(self) -> str:
        return self.address if self.is_leader else ""

    # -- the log --------------------------------------------------------------------------
    async def commit(self, entry: e.Entry, leader_only: bool = False) -> int:
        if self.fsm is None:
            raise BackendError("backend not open")
        index = self._index + 1
        if self._wal is not None:
            record = msgspec.msgpack.encode([index, e.encode(entry)])
            self._wal.write(_LEN.pack(len(record)) + record)
            self._wal.flush()
            os.fsync(self._wal.fileno())
        self._index = index
        self.fsm.apply(entry, index)
        self._since_snapshot += 1
        if self._wal is not None and self._since_snapshot >= self.snapshot_every:
            self._write_snapshot()
        return index

    def _read_wal(self):
        path = os.path.join(self.dir, "wal.log")
        if not os.path.exists(path):
            return
        with open(path, "rb") as f:
            data = f.read()
        pos = 0
        while pos + _LEN.size <= len(data):
            (n,) = _LEN.unpack_from(data, pos)
            chunk = data[pos + _LEN.size: pos + _LEN.size + n]
            if len(chunk) < n:
                break  # a torn tail write: never acknowledged
            index, raw = msgspec.msgpack.decode(chunk)
            yield index, e.decode(raw)
            pos += _LEN.size + n
        if pos != len(data):
            with open(path, "r+b") as f:
                f.truncate(pos)

    def _write_snapshot(self, data: bytes | None = None) -> None:
        """Write the whole state atomically, then start an empty WAL."""
        if self.dir is None or self.fsm is None:
            return
        if data is None:
            _, data = self.fsm.snapshot()
        path = os.path.join(self.dir, "snapshot.bin")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.dir)
        if self._wal is not None:
            self._wal.close()
        self._wal = open(os.path.join(self.dir, "wal.log"), "wb")
        _fsync_dir(self.dir)
        self._since_snapshot = 0

    # -- operator actions -------------------------------------------------------------------
    async def save_snapshot(self) -> tuple[int, bytes]:
        if self.fsm is None:
            raise BackendError("backend not open")
        return self.fsm.snapshot()

    async def restore_snapshot(self, data: bytes) -> int:
        """Durable: a fresh `snapshot.bin` at the new index and an empty WAL, so a restart
        comes back with the restored state."""
        if self.fsm is None:
            raise BackendError("backend not open")
        index = self._index + 1
        self.fsm.restore(data, index)
        self._index = index
        self._write_snapshot()
        return index

    async def members(self) -> list[Member]:
        return [Member(ID=self.address or self.node_name, Node=self.node_name,
                       Address=self.address, Leader=self.is_leader)]


class _SnapshotIndex(msgspec.Struct):
    """The one field of a state snapshot the backend reads itself."""
    Index: int


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
