"""The client state DB: what a restarted client needs to re-attach to its tasks.

Layout under `<data_dir>/client/state/allocs/<alloc_id>/`:
`alloc.mp` (the Allocation as last received) and `task-<name>.mp` (TaskState,
driver TaskHandle, run-complete flag), msgpack-encoded. Every write is atomic:
temp file + fsync + rename (+ directory fsync), so a crash never leaves half a record.
"""

from __future__ import annotations

import os
import shutil
from urllib.parse import quote, unquote

import msgspec

from pynomad.structs import Allocation, TaskState

from .driver import TaskHandle


class TaskLocalState(msgspec.Struct, kw_only=True):
    """A task runner's persisted state."""

    State: TaskState = msgspec.field(default_factory=TaskState)
    Handle: TaskHandle | None = None
    RunComplete: bool = False
    Attempt: int = 0


class AllocRecord(msgspec.Struct, kw_only=True):
    """Everything stored for one allocation."""

    Alloc: Allocation
    Tasks: dict[str, TaskLocalState] = {}


def atomic_write(path: str, data: bytes, fsync: bool = True) -> None:
    """Write `data` to `path` so readers see the old or the new content, never a mix."""
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if fsync:
        dfd = os.open(os.path.dirname(path), os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class StateDB:
    """File-per-record state store. Not thread-safe; the client uses it from one loop."""

    def __init__(self, client_dir: str, fsync: bool = True):
        self.root = os.path.join(client_dir, "state", "allocs")
        self.fsync = fsync
        os.makedirs(self.root, exist_ok=True)

    def _alloc_dir(self, alloc_id: str) -> str:
        return os.path.join(self.root, quote(alloc_id, safe=""))

    def put_alloc(self, alloc: Allocation) -> None:
        d = self._alloc_dir(alloc.ID)
        os.makedirs(d, exist_ok=True)
        atomic_write(os.path.join(d, "alloc.mp"), msgspec.msgpack.encode(alloc), self.fsync)

    def put_task(self, alloc_id: str, task: str, state: TaskLocalState) -> None:
        d = self._alloc_dir(alloc_id)
        if not os.path.isdir(d):
            return   # alloc already deleted: drop late writes
        path = os.path.join(d, f"task-{quote(task, safe='')}.mp")
        atomic_write(path, msgspec.msgpack.encode(state), self.fsync)

    def delete_alloc(self, alloc_id: str) -> None:
        shutil.rmtree(self._alloc_dir(alloc_id), ignore_errors=True)

    def _load(self, d: str) -> AllocRecord | None:
        try:
            with open(os.path.join(d, "alloc.mp"), "rb") as f:
                alloc = msgspec.msgpack.decode(f.read(), type=Allocation)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None
        tasks: dict[str, TaskLocalState] = {}
        for name in os.listdir(d):
            if not (name.startswith("task-") and name.endswith(".mp")):
                continue
            try:
                with open(os.path.join(d, name), "rb") as f:
                    tasks[unquote(name[5:-3])] = msgspec.msgpack.decode(f.read(),
                                                                        type=TaskLocalState)
            except (OSError, msgspec.DecodeError, msgspec.ValidationError):
                continue
        return AllocRecord(Alloc=alloc, Tasks=tasks)

    def get_all(self) -> dict[str, AllocRecord]:
        """Every stored allocation; unreadable records are skipped."""
        out: dict[str, AllocRecord] = {}
        for name in sorted(os.listdir(self.root)):
            rec = self._load(os.path.join(self.root, name))
            if rec is not None:
                out[rec.Alloc.ID] = rec
        return out
