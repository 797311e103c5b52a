"""The embedded backend: in memory under `-dev`; durable in `data_dir` otherwise.

Durable layout under `<data_dir>/server/`:
- `wal.log`: length-prefixed msgpack entries `[index, entry]`, fsynced before a commit returns.
- `snapshot.bin`: the whole state at some index, written atomically; the WAL is truncated
  after each snapshot. Restore = load snapshot, replay WAL entries with a higher index.
"""

from __future__ import annotations

import os
import struct

import msgspec

from ..state import FSM, StateStore
from ..state import entries as e
from ..state.snapshot import dump_state, load_state, replace_state
from .base import Backend

_LEN = struct.Struct(">I")


class EmbeddedBackend(Backend):
    def __init__(self, state: StateStore, data_dir: str | None = None,
                 snapshot_every: int = 10_000) -> None:
        self.state = state
        self.fsm = FSM(state)
        self.index = 0
        self.dir = os.path.join(data_dir, "server") if data_dir else None
        self.snapshot_every = snapshot_every
        self._since_snapshot = 0
        self._wal = None

    @property
    def is_leader(self) -> bool:
        return True

    def restore(self) -> int:
        if self.dir is None:
            return 0
        os.makedirs(self.dir, exist_ok=True)
        snap = os.path.join(self.dir, "snapshot.bin")
        if os.path.exists(snap):
            with open(snap, "rb") as f:
                self.index = load_state(self.state, f.read())
        for index, entry in self._read_wal():
            if index > self.index:
                self.fsm.apply(entry, index)
                self.index = index
        self._wal = open(os.path.join(self.dir, "wal.log"), "ab")
        return self.index

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

    async def commit(self, entry: e.Entry) -> int:
        return self.commit_sync(entry)

    def commit_sync(self, entry: e.Entry) -> int:
        index = self.index + 1
        if self._wal is not None:
            record = msgspec.msgpack.encode([index, e.encode(entry)])
            self._wal.write(_LEN.pack(len(record)) + record)
            self._wal.flush()
            os.fsync(self._wal.fileno())
        self.index = index
        self.fsm.apply(entry, index)
        self._since_snapshot += 1
        if self._wal is not None and self._since_snapshot >= self.snapshot_every:
            self.snapshot()
        return index

    def snapshot(self) -> None:
        """Write the whole state atomically, then start an empty WAL."""
        if self.dir is None:
            return
        path = os.path.join(self.dir, "snapshot.bin")
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(dump_state(self.state, self.index))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.dir)
        if self._wal is not None:
            self._wal.close()
        self._wal = open(os.path.join(self.dir, "wal.log"), "wb")
        _fsync_dir(self.dir)
        self._since_snapshot = 0

    def install(self, source: StateStore, index: int) -> None:
        """Replace the whole state with `source` at `index` (a snapshot restore).

        Durable: a fresh `snapshot.bin` at `index` and an empty WAL, so a restart comes back
        with the restored state. The live StateStore object is kept (everything holds it)."""
        if index <= self.index:
            raise ValueError(f"restore index {index} must exceed the current index {self.index}")
        replace_state(self.state, source, index)
        self.index = index
        self.snapshot()

    def close(self) -> None:
        if self._wal is not None:
            self._wal.close()
            self._wal = None


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
