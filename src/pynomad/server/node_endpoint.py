"""Node endpoints: register, heartbeat/status, client alloc sync and alloc updates;
operator actions: scheduling eligibility, drain and forced evaluation."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from msgspec.structs import replace

from ..scheduler.reschedule import reschedule_eligible
from ..state import entries as e
from ..state.store import node_allocs_key
from ..structs import (ALLOC_CLIENT_FAILED, EVAL_STATUS_PENDING, NODE_ELIGIBLE,
                       NODE_INELIGIBLE, NODE_STATUS_DOWN, NODE_STATUS_READY,
                       TRIGGER_NODE_UPDATE, TRIGGER_RETRY_FAILED_ALLOC, Allocation,
                       DrainStrategy, Evaluation, Node, NodeEvent, generate_uuid)
from ..structs.rpc import AllocsReply, ClientAllocsReply, IndexReply, NodeUpdateReply
from .errors import BadRequest, Forbidden, NotFound

if TYPE_CHECKING:
    from .server import Server

NODE_STATUSES = ("initializing", "ready", "down", "disconnected")


def _reschedulable(job, alloc: Allocation, now: int) -> bool:
    """Only a failed alloc whose group may still reschedule gets an evaluation (system
    jobs have no reschedule policy, so their failed allocs stay failed)."""
    tg = job.lookup_task_group(alloc.TaskGroup)
    return tg is not None and reschedule_eligible(tg.ReschedulePolicy, alloc, now)


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

    async def register(self, node: Node) -> NodeUpdateReply:
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
        if node.Status == NODE_STATUS_READY:
            srv.capacity_changed([node.ID])
        ttl = srv.heartbeats.reset(node.ID)
        return NodeUpdateReply(HeartbeatTTL=int(ttl * 1e9), Index=index)

    async def update_status(self, node_id: str, status: str,
                            leader_only: bool = False) -> NodeUpdateReply:
        srv = self.server
        if status not in NODE_STATUSES:
            raise BadRequest(f"invalid status for node: {status!r}")
        node = srv.state.node_by_id(node_id)
        if node is None:
            raise NotFound("node not found")
        index = srv.state.latest_index
        if node.Status != status:
            evals = self._node_evals(node_id, index)
            index = await srv.commit(e.NodeUpdateStatus(NodeID=node_id, Status=status,
                                                        Evals=evals), leader_only=leader_only)
            if status == NODE_STATUS_READY:
                srv.capacity_changed([node_id])
        ttl = 0.0 if status == NODE_STATUS_DOWN else srv.heartbeats.reset(node_id)
        return NodeUpdateReply(HeartbeatTTL=int(ttl * 1e9), Index=index)

    async def mark_down(self, node_id: str) -> None:
        """The heartbeat TTL expired: the node is down and its jobs are re-evaluated."""
        node = self.server.state.node_by_id(node_id)
        if node is not None and node.Status != NODE_STATUS_DOWN:
            await self.update_status(node_id, NODE_STATUS_DOWN, leader_only=True)

    async def get_client_allocs(self, node_id: str, secret_id: str, min_index: int,
                                wait_s: float) -> ClientAllocsReply:
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
                return ClientAllocsReply(Allocs={a.ID: a.AllocModifyIndex for a in allocs},
                                         Index=max(index, 1))
            await srv.watcher.wait_key(node_allocs_key(node_id), remaining)

    def get_allocs(self, alloc_ids: list[str]) -> AllocsReply:
        """The allocations, each job version sent once: allocs travel without their job and
        `JobIndex[i]` names the entry of `Jobs` that alloc `i` runs."""
        st = self.server.state
        allocs = [a for a in (st.alloc_by_id(i) for i in alloc_ids) if a is not None]
        jobs: dict[int, int] = {}
        job_list, job_index = [], []
        for a in allocs:
            if a.Job is None:
                job_index.append(-1)
                continue
            slot = jobs.get(id(a.Job))
            if slot is None:
                slot = jobs[id(a.Job)] = len(job_list)
                job_list.append(a.Job)
            job_index.append(slot)
        # clients need neither the job copy nor the placement metrics of each alloc
        return AllocsReply(Allocs=[replace(a, Job=None, Metrics=None) for a in allocs],
                           Jobs=job_list,
                           JobIndex=job_index, Index=st.table_index("allocs"))

    async def update_allocs(self, updates: list[Allocation]) -> IndexReply:
        srv = self.server
        st = srv.state
        evals: list[Evaluation] = []
        freed: set[str] = set()
        jobs_evaluated: set[tuple[str, str]] = set()
        for upd in updates:
            existing = st.alloc_by_id(upd.ID)
            if existing is None:
                continue
            if upd.client_terminal() and not existing.client_terminal():
                freed.add(existing.NodeID)
            if upd.ClientStatus == ALLOC_CLIENT_FAILED and not existing.client_terminal() \
                    and existing.DesiredStatus == "run":
                job = st.job_by_id(existing.Namespace, existing.JobID)
                key = (existing.Namespace, existing.JobID)
                if job is not None and not job.Stop and key not in jobs_evaluated \
                        and _reschedulable(job, existing, srv.clock.now_ns()):
                    jobs_evaluated.add(key)
                    evals.append(Evaluation(
                        ID=generate_uuid(), Namespace=job.Namespace, Priority=job.Priority,
                        Type=job.Type, TriggeredBy=TRIGGER_RETRY_FAILED_ALLOC, JobID=job.ID,
                        JobModifyIndex=job.JobModifyIndex or 0, Status=EVAL_STATUS_PENDING))
        index = await srv.commit(e.AllocClientUpdate(
            Allocs=[replace(u, Job=None) for u in updates], Evals=evals))
        if freed:
            srv.capacity_changed(freed)
        return IndexReply(Index=index)

    # -- operator actions: eligibility, drain, forced evaluation ---------------------------
    def _node_or_404(self, node_id: str) -> Node:
        node = self.server.state.node_by_id(node_id)
        if node is None:
            raise NotFound("node not found")
        return node

    async def _eligible_again(self, node: Node, index: int) -> tuple[list[str], int]:
        """A node became eligible: evaluate its system jobs and retry blocked evals."""
        srv = self.server
        srv.capacity_changed([node.ID])
        if node.Status != NODE_STATUS_READY:
            return [], 0
        evals = self._node_evals(node.ID, index)
        if not evals:
            return [], 0
        eval_index = await srv.commit_evals(evals)
        return [ev.ID for ev in evals], eval_index

    async def update_eligibility(self, node_id: str, eligibility: str) -> dict:
        """Nomad's Node.UpdateEligibility."""
        if not node_id:
            raise BadRequest("missing node ID for setting scheduling eligibility")
        if eligibility not in (NODE_ELIGIBLE, NODE_INELIGIBLE):
            raise BadRequest(f"invalid scheduling eligibility {eligibility!r}")
        node = self._node_or_404(node_id)
        if node.DrainStrategy is not None and eligibility == NODE_ELIGIBLE:
            raise BadRequest("can not set node's scheduling eligibility to eligible while it "
                             "is draining")
        index = self.server.state.latest_index
        reply = {"EvalCreateIndex": 0, "EvalIDs": None, "Index": index,
                 "NodeModifyIndex": node.ModifyIndex}
        if node.SchedulingEligibility == eligibility:
            return reply
        message = NODE_ELIGIBLE_EVENT if eligibility == NODE_ELIGIBLE else NODE_INELIGIBLE_EVENT
        index = await self.server.commit(e.NodeUpdateEligibility(
            NodeID=node_id, Eligibility=eligibility,
            Event=NodeEvent(Message=message, Subsystem="Cluster")))
        reply.update(Index=index, NodeModifyIndex=index)
        if eligibility == NODE_ELIGIBLE:
            ids, eval_index = await self._eligible_again(node, index)
            reply.update(EvalIDs=ids or None, EvalCreateIndex=eval_index)
        return reply

    async def update_drain(self, node_id: str, spec: DrainStrategy | None,
                           mark_eligible: bool = False, meta: dict[str, str] | None = None) -> dict:
        """Nomad's Node.UpdateDrain: set, update or cancel a drain."""
        from ..helper.goformat import format_rfc3339

        if not node_id:
            raise BadRequest("missing node ID for drain update")
        node = self._node_or_404(node_id)
        now = self.server.clock.now_ns()
        if spec is not None:
            started = node.DrainStrategy.StartedAt if node.DrainStrategy else format_rfc3339(now)
            spec = DrainStrategy(Deadline=spec.Deadline, IgnoreSystemJobs=spec.IgnoreSystemJobs,
                                 StartedAt=started)
            if spec.Deadline > 0:
                spec.ForceDeadline = format_rfc3339(now + spec.Deadline)
        if node.DrainStrategy is None and spec is not None:
            message = NODE_DRAIN_SET_EVENT
        elif node.DrainStrategy is not None and spec is not None:
            message = NODE_DRAIN_UPDATED_EVENT
        elif node.DrainStrategy is not None:
            message = NODE_DRAIN_DISABLED_EVENT
        else:
            message = ""
        event = NodeEvent(Message=message, Subsystem="Drain") if message else None
        index = await self.server.commit(e.NodeUpdateDrain(
            Time=now, NodeID=node_id, DrainStrategy=spec, MarkEligible=mark_eligible,
            Meta=meta or None, Event=event))
        reply = {"EvalCreateIndex": 0, "EvalIDs": None, "Index": index, "NodeModifyIndex": index}
        if node.SchedulingEligibility == NODE_INELIGIBLE and mark_eligible and spec is None:
            ids, eval_index = await self._eligible_again(node, index)
            reply.update(EvalIDs=ids or None, EvalCreateIndex=eval_index)
        return reply

    async def evaluate(self, node_id: str) -> dict:
        """Nomad's Node.Evaluate: one eval per job with work on (or destined for) the node."""
        node = self._node_or_404(node_id)
        srv = self.server
        evals = self._node_evals(node.ID, node.ModifyIndex)
        index = await srv.commit_evals(evals) if evals else srv.state.latest_index
        return {"EvalCreateIndex": index if evals else 0, "EvalIDs": [ev.ID for ev in evals],
                "HeartbeatTTL": 0, "Index": index, "KnownLeader": True, "LastContact": 0,
                "LeaderRPCAddr": srv.config.rpc_addr, "NodeModifyIndex": node.ModifyIndex,
                "NumNodes": len(srv.state.nodes), "Servers": None}


NODE_ELIGIBLE_EVENT = "Node marked as eligible for scheduling"
NODE_INELIGIBLE_EVENT = "Node marked as ineligible for scheduling"
NODE_DRAIN_SET_EVENT = "Node drain strategy set"
NODE_DRAIN_UPDATED_EVENT = "Node drain strategy updated"
NODE_DRAIN_DISABLED_EVENT = "Node drain disabled"
