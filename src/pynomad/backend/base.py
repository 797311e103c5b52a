"""The backend interface: the replicated, revisioned log under every server's state.

A server keeps the whole cluster state in memory (`state.StateStore`), written only by its
FSM (`state.FSM`), which applies log entries (`state.entries`) in index order. The backend
is the log: it orders, stores and replicates entries, and feeds every committed entry to
the FSM of every server. Its index is Nomad's index (`X-Nomad-Index`, `?index=`).

How a server uses a backend, in order:

1. `backend = create_backend(kind, ...)` (`backend/__init__.py`) picks the implementation
   from the agent configuration: `embedded` (one server; in memory under `-dev`, durable
   in `data_dir` otherwise) or `etcd` (HA servers).
2. `await backend.open(fsm)` loads what the backend already holds into `fsm` (a snapshot,
   then the entries after it) and returns the last index applied. Nothing else is called
   before `open`.
3. `await backend.start(leadership)` starts following the log: from now on every committed
   entry — written by this server or by any other — is applied to `fsm`, once, in index
   order. The backend campaigns for leadership and calls `leadership.acquired()` when this
   server becomes the leader (after every entry committed before is applied) and
   `leadership.lost()` as soon as it is no longer sure to be.
4. `await backend.commit(entry)` writes an entry and returns its index once it is committed
   AND applied to this server's `fsm` (so a reader on this server sees the write).
   `commit(entry, leader_only=True)` is fenced: it commits only while this server holds
   leadership (etcd: a compare on the leader key in the same transaction), raising
   `NotLeaderError` otherwise, so a deposed leader can never write plans, evaluation
   results or heartbeat-driven node status.
5. `await backend.stop()` at shutdown: stops following, gives up leadership (calling
   `leadership.lost()` if held) and releases resources.

Operator actions: `save_snapshot()` / `restore_snapshot(data)` (Nomad's `operator snapshot
save|restore`; `data` is what `StateMachine.snapshot()` produced), `members()` /
`add_member(address)` / `remove_member(member_id)` (`operator raft list-peers|remove-peer`).

Rules every implementation keeps:
- Entries are encoded with `state.entries.encode` / `decode` (msgpack, tagged by type),
  never pickle.
- `index` only grows; an entry's index is greater than that of every entry before it.
- `StateMachine.apply` runs on the server's event loop thread, one entry at a time, and
  never concurrently with another `apply`, `restore` or leadership callback.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Protocol

from ..state.entries import Entry


class BackendError(Exception):
    """The backend could not do what was asked (one-line reason)."""


class NotLeaderError(BackendError):
    """A leader-only write was refused: this server does not hold leadership."""


class StateMachine(Protocol):
    """What a backend drives: the server's FSM over its state store (`state.FSM`)."""

    def apply(self, entry: Entry, index: int) -> None:
        """Apply one committed entry at `index`."""

    def snapshot(self) -> tuple[int, bytes]:
        """The whole state, encoded, and the index it is at."""

    def restore(self, data: bytes, index: int) -> None:
        """Replace the whole state by `data` (from `snapshot()`), now at `index`."""


class Leadership(Protocol):
    """The server's leader duties, started and stopped by the backend."""

    async def acquired(self) -> None:
        """This server became the leader: start the leader's duties."""

    async def lost(self) -> None:
        """This server is no longer the leader: stop every leader duty at once."""


@dataclass
class Member:
    """One server of the cluster as `operator raft list-peers` shows it."""
    ID: str
    Node: str
    Address: str
    Leader: bool = False
    Voter: bool = True


class Backend(abc.ABC):
    """The replicated log. See the module docstring for the contract."""

    @abc.abstractmethod
    async def open(self, fsm: StateMachine) -> int:
        """Load the stored state into `fsm`; return the last index applied."""

    @abc.abstractmethod
    async def start(self, leadership: Leadership) -> None:
        """Follow the log (apply every committed entry) and campaign for leadership."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop following, give up leadership, flush and release resources."""

    @abc.abstractmethod
    async def commit(self, entry: Entry, leader_only: bool = False) -> int:
        """Commit `entry`; return its index once it is applied to this server's FSM.
        With `leader_only`, refuse (NotLeaderError) unless this server is the leader."""

    @property
    @abc.abstractmethod
    def index(self) -> int:
        """The index of the last entry applied to this server's FSM."""

    @property
    @abc.abstractmethod
    def is_leader(self) -> bool:
        """Whether this server holds leadership (may make leader-only writes)."""

    @property
    def leader_address(self) -> str:
        """The leader's RPC address ("" while there is none)."""
        return ""

    @abc.abstractmethod
    async def save_snapshot(self) -> tuple[int, bytes]:
        """A consistent snapshot of the whole state and its index."""

    @abc.abstractmethod
    async def restore_snapshot(self, data: bytes) -> int:
        """Replace the whole cluster state by `data` (from `StateMachine.snapshot()`),
        durably, at an index above every index handed out so far, which is returned. Every
        server's FSM gets `restore(data, index)`."""

    @abc.abstractmethod
    async def members(self) -> list[Member]:
        """The servers of the cluster."""

    async def add_member(self, address: str) -> None:
        """Add a server (by its peer address) to the cluster."""
        raise BackendError("this backend has a single member")

    async def remove_member(self, member_id: str) -> None:
        """Remove a server (by its ID or address) from the cluster."""
        raise BackendError("this backend has a single member")
