"""Operator snapshot and raft endpoints (Nomad's Operator.SnapshotSave/SnapshotRestore and
Operator.RaftGetConfiguration) for the single embedded server.

A restore replaces the whole state in place, writes it durably through the backend at an
index above every index handed out so far (so blocking queries see a change and never go
backwards), wakes every watcher, and rebuilds the leader's eval broker, blocked evals and
heartbeat timers from the restored state, as a new leader does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..state.snapshot import (SnapshotError, decode_state, dump_state, pack_archive,
                              unpack_archive)
from ..state.store import TABLES, node_allocs_key
from .errors import BadRequest

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.server")

RAFT_PROTOCOL = "3"
TERM = 1


class SnapshotEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server

    def _peer(self) -> dict:
        cfg = self.server.config
        return {"ID": cfg.rpc_addr, "Address": cfg.rpc_addr, "Node": cfg.node_name}

    def raft_configuration(self) -> dict:
        peer = self._peer()
        return {"Index": 1,
                "Servers": [{"Address": peer["Address"], "ID": peer["ID"], "Leader": True,
                             "Node": peer["Node"], "RaftProtocol": RAFT_PROTOCOL,
                             "Voter": True}]}

    def save(self) -> tuple[bytes, int]:
        """The whole state as Nomad's snapshot archive, and its index."""
        index = max(self.server.backend.index, self.server.state.latest_index)
        state_bin = dump_state(self.server.state, index)
        return pack_archive(state_bin, index, TERM, servers=[self._peer()]), index

    async def restore(self, data: bytes) -> int:
        """Replace the state with the archive's; BadRequest (state untouched) if unusable."""
        if not data:
            raise BadRequest("failed to read snapshot: request body is empty")
        try:
            meta, state_bin = unpack_archive(data)
            fresh, _ = decode_state(state_bin)
        except SnapshotError as err:
            raise BadRequest(str(err)) from None
        srv = self.server
        index = max(srv.backend.index, srv.state.latest_index) + 1
        old_nodes = set(srv.state.nodes)
        # leader duties stop: nothing in flight may act on the old state's evals
        srv.broker.set_enabled(False)
        srv.blocked.set_enabled(False)
        srv.heartbeats.clear_all()
        try:
            srv.backend.install(fresh, index)
        finally:
            srv._establish_leadership()
        keys = set(TABLES) | {node_allocs_key(n) for n in old_nodes | set(srv.state.nodes)}
        srv.state.notify(index, keys)
        log.info("snapshot restored: archive index %s installed at index %d",
                 meta.get("Index"), index)
        return index
