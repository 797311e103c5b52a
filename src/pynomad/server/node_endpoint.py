"""Node endpoints: register, heartbeat/status, client alloc sync and alloc updates."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from msgspec.structs import replace

from ..state import entries as e
from ..structs import (ALLOC_CLIENT_FAILED, EVAL_STATUS_PENDING, NODE_STATUS_DOWN,
                       NODE_STATUS_READY, TRIGGER_NODE_UPDATE, TRIGGER_RETRY_FAILED_ALLOC,
                       Allocation, Evaluation, Node, generate_uuid)
from .errors import BadRequest, Forbidden, NotFound

if TYPE_CHECKING:
    from .server import Server

NODE_STATUSES = ("initializing", "ready", "down", "disconnected")


class NodeEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server

    def _node_evals(self, node_id: str, node_index: int) -> list[Evaluation]:
        """One eval per system job and per job with a live alloc on the node (Nomad's
        createNodeEvals)."""
        st = self.server.state
        seen: set[tuple[str, str]] = set()
        jobs = [st.job_by_id(a.Namespace, a.JobID) for a in st.allocs_by_node_id(node_id)
                if not a.terminal()]
        jobs += [j for j in st.jobs.values() if j.Type in ("system", "sysbatch") and not j.Stop]
        evals = []
        for job in jobs:
            if job is None or (job.Namespace, job.ID) in seen:
                continue
            seen.add((job.Namespace, job.ID))
            evals.append(Evaluation(ID=generate_uuid(), Namespace=job.Namespace,
                                    Priority=job.Priority, Type=job.Type,
                                    TriggeredBy=TRIGGER_NODE_UPDATE, JobID=job.ID,
                                    JobModifyIndex=job.JobModifyIndex or 0, NodeID=node_id,
                                    NodeModifyIndex=node_index, Status=EVAL_STATUS_PENDING))
        return evals

    async def register(self, node: Node) -> dict:
        srv = self.server
        if not node.ID or not node.SecretID:
            raise BadRequest("missing node ID or secret ID")
        if node.Status not in NODE_STATUSES:
            raise BadRequest(f"invalid status for node: {node.Status!r}")
        existing = srv.state.node_by_id(node.ID)
        if existing is not None and existing.SecretID != node.SecretID:
            raise Forbidden("node secret ID does not match")
        transition = existing is None or existing.Status != node.Status
        evals = self._node_evals(node.ID, 0) if transition else []
        index = await srv.commit(e.NodeRegister(Node=node, Evals=evals))
        for ev in evals:
            srv.broker.enqueue(ev)
        if node.Status == NODE_STATUS_READY:
            srv.capacity_changed()
        ttl = srv.heartbeats.reset(node.ID)
        return {"HeartbeatTTL": int(ttl * 1e9), "Index": index}

    async def update_status(self, node_id: str, status: str) -> dict:
        srv = self.server
        if status not in NODE_STATUSES:
            raise BadRequest(f"invalid status for node: {status!r}")
        node = srv.state.node_by_id(node_id)
        if node is None:
            raise NotFound("node not found")
        index = srv.state.latest_index
        if node.Status != status:
            evals = self._node_evals(node_id, index)
            index = await srv.commit(e.NodeUpdateStatus(NodeID=node_id, Status=status, Evals=evals))
            for ev in evals:
                srv.broker.enqueue(ev)
            if status == NODE_STATUS_READY:
                srv.capacity_changed()
        ttl = 0.0 if status == NODE_STATUS_DOWN else srv.heartbeats.reset(node_id)
        return {"HeartbeatTTL": int(ttl * 1e9), "Index": index}

    async def mark_down(self, node_id: str) -> None:
        """The heartbeat TTL expired: the node is down and its jobs are re-evaluated."""
        node = self.server.state.node_by_id(node_id)
        if node is not None and node.Status != NODE_STATUS_DOWN:
            await self.update_status(node_id, NODE_STATUS_DOWN)

    async def get_client_allocs(self, node_id: str, secret_id: str, min_index: int,
                                wait_s: float) -> dict:
        srv = self.server
        node = srv.state.node_by_id(node_id)
        if node is None:
            raise NotFound("node not found")
        if secret_id and node.SecretID != secret_id:
            raise Forbidden("node secret ID does not match")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            allocs = srv.state.allocs_by_node_id(node_id)
            index = max((a.AllocModifyIndex for a in allocs), default=0)
            remaining = deadline - loop.time()
            if index > min_index or remaining <= 0:
                return {"Allocs": {a.ID: a.AllocModifyIndex for a in allocs},
                        "Index": max(index, 1)}
            await srv.watcher.wait_change(("allocs",), srv.state.table_index("allocs"), remaining)

    def get_allocs(self, alloc_ids: list[str]) -> dict:
        st = self.server.state
        allocs = [a for a in (st.alloc_by_id(i) for i in alloc_ids) if a is not None]
        return {"Allocs": allocs, "Index": st.table_index("allocs")}

    async def update_allocs(self, updates: list[Allocation]) -> dict:
        srv = self.server
        st = srv.state
        evals: list[Evaluation] = []
        freed = False
        jobs_evaluated: set[tuple[str, str]] = set()
        for upd in updates:
            existing = st.alloc_by_id(upd.ID)
            if existing is None:
                continue
            if upd.client_terminal() and not existing.client_terminal():
                freed = True
            if upd.ClientStatus == ALLOC_CLIENT_FAILED and not existing.client_terminal() \
                    and existing.DesiredStatus == "run":
                job = st.job_by_id(existing.Namespace, existing.JobID)
                key = (existing.Namespace, existing.JobID)
                if job is not None and not job.Stop and key not in jobs_evaluated:
                    jobs_evaluated.add(key)
                    evals.append(Evaluation(
                        ID=generate_uuid(), Namespace=job.Namespace, Priority=job.Priority,
                        Type=job.Type, TriggeredBy=TRIGGER_RETRY_FAILED_ALLOC, JobID=job.ID,
                        JobModifyIndex=job.JobModifyIndex or 0, Status=EVAL_STATUS_PENDING))
        index = await srv.commit(e.AllocClientUpdate(
            Allocs=[replace(u, Job=None) for u in updates], Evals=evals))
        for ev in evals:
            srv.broker.enqueue(ev)
        if freed:
            srv.capacity_changed()
        return {"Index": index}
