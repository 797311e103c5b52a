"""Operator snapshot and raft endpoints (Nomad's Operator.SnapshotSave/SnapshotRestore and
Operator.RaftGetConfiguration) for the single embedded server.

A restore replaces the whole state through the backend, durably, at an index above every
index handed out so far (so blocking queries see a change and never go backwards), wakes
every watcher, and restarts the leader's duties from the restored state, as a new leader
does.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..state.snapshot import SnapshotError, decode_state, pack_archive, unpack_archive
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

    async def raft_configuration(self) -> dict:
        members = await self.server.backend.members()
        return {"Index": 1,
                "Servers": [{"Address": m.Address, "ID": m.ID, "Leader": m.Leader,
                             "Node": m.Node, "RaftProtocol": RAFT_PROTOCOL, "Voter": m.Voter}
                            for m in members]}

    def save(self) -> tuple[bytes, int]:
        """The whole state as Nomad's snapshot archive, and its index."""
        index, state_bin = self.server.fsm.snapshot()
        return pack_archive(state_bin, index, TERM, servers=[self._peer()]), index

    async def restore(self, data: bytes) -> int:
        """Replace the state with the archive's; BadRequest (state untouched) if unusable."""
        if not data:
            raise BadRequest("failed to read snapshot: request body is empty")
        try:
            meta, state_bin = unpack_archive(data)
            decode_state(state_bin)
        except SnapshotError as err:
            raise BadRequest(str(err)) from None
        index = await self.server.restore_snapshot(state_bin)
        log.info("snapshot restored: archive index %s installed at index %d",
                 meta.get("Index"), index)
        return index
