"""The server: its state store and FSM over a backend, endpoints, and the leader's duties.

The backend (`backend.create_backend`, from the agent configuration) feeds every committed
entry to this server's FSM and tells the server when it gains or loses leadership; the
leader's duties (`leader.LeaderDuties`) start and stop together with it. Everything runs
on one asyncio loop; the plan applier (`submit_plan`) is the one writer of placements.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..backend import create_backend
from ..helper.clock import SYSTEM_CLOCK, Clock
from ..scheduler import new_scheduler
from ..state import FSM, StateStore
from ..state import entries as e
from ..structs import EVAL_STATUS_PENDING, Evaluation, Plan, PlanResult, generate_uuid
from .blocked import BlockedEvals
from .blocking import Watcher
from .broker import EvalBroker
from .event_broker import EventBroker
from .heartbeat import HeartbeatTimers
from .leader import LeaderDuties
from .plan_apply import evaluate_steps, result_entries
from .worker import SCHEDULER_TYPES  # noqa: F401  (re-exported)

log = logging.getLogger("pynomad.server")


@dataclass
class ServerConfig:
    region: str = "global"
    datacenter: str = "dc1"
    node_name: str = "server"
    data_dir: str | None = None
    num_schedulers: int = 2
    bootstrap_expect: int = 1
    min_heartbeat_ttl: float = 10.0
    heartbeat_grace: float = 10.0
    max_heartbeats_per_second: float = 50.0
    scheduler_algorithm: str = "binpack"
    rpc_addr: str = "127.0.0.1:4647"
    serf_addr: str = "127.0.0.1:4648"
    http_addr: str = "127.0.0.1:4646"
    # the agent's `server.default_scheduler_config` block (snake_case keys), used once
    # to bootstrap the scheduler configuration stored in state
    default_scheduler_config: dict | None = None
    # the agent's `acl { enabled = true }`: enforce ACLs on the HTTP API
    acl_enabled: bool = False
    # which backend holds the log (`backend.BACKENDS`) and its own settings
    backend: str = "embedded"
    backend_options: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


class Server:
    def __init__(self, config: ServerConfig, clock: Clock = SYSTEM_CLOCK) -> None:
        from .acl_endpoint import ACLEndpoint
        from .core_sched import CoreGC
        from .deployment_endpoint import DeploymentEndpoint
        from .deployment_watcher import DeploymentWatcher
        from .dispatch import DispatchEndpoint
        from .job_endpoint import JobEndpoint
        from .drainer import NodeDrainer
        from .namespace_endpoint import NamespaceEndpoint
        from .node_endpoint import NodeEndpoint
        from .operator_endpoint import OperatorEndpoint
        from .periodic import PeriodicDispatch
        from .snapshot_endpoint import SnapshotEndpoint
        from .worker import Worker

        self.config = config
        self.clock = clock
        self.state = StateStore()
        self.fsm = FSM(self.state)
        self.backend = create_backend(config.backend, data_dir=config.data_dir,
                                      node_name=config.node_name, address=config.rpc_addr,
                                      options=config.backend_options)
        self.watcher = Watcher(self.state)
        self.broker = EvalBroker(clock=clock)
        self.events = EventBroker(self.state)
        self.blocked = BlockedEvals(self.broker.enqueue)
        self.heartbeats = HeartbeatTimers(self._heartbeat_expired, config.min_heartbeat_ttl,
                                          config.heartbeat_grace,
                                          config.max_heartbeats_per_second, clock=clock)
        self.leader = LeaderDuties(self)
        self.worker = Worker(self)
        self.core_gc = CoreGC(self)
        self._plan_lock = asyncio.Lock()
        self.jobs = JobEndpoint(self)
        self.nodes = NodeEndpoint(self)
        self.operator = OperatorEndpoint(self)
        self.drainer = NodeDrainer(self)
        self.deployments = DeploymentEndpoint(self)
        self.deployment_watcher = DeploymentWatcher(self)
        self.periodic = PeriodicDispatch(self)
        self.dispatcher = DispatchEndpoint(self)
        self.namespaces = NamespaceEndpoint(self)
        self.acl = ACLEndpoint(self)
        self.snapshots = SnapshotEndpoint(self)
        self.started = time.time()

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        index = await self.backend.open(self.fsm)
        log.info("server state restored at index %d", index)
        self.fsm.on_applied = self.events.on_applied
        await self.backend.start(self)

    async def stop(self) -> None:
        await self.backend.stop()
        self.events.close()

    # -- Leadership (called by the backend) -------------------------------------------------
    async def acquired(self) -> None:
        log.info("cluster leadership acquired")
        await self.leader.start()

    async def lost(self) -> None:
        log.info("cluster leadership lost")
        await self.leader.stop()

    @property
    def is_leader(self) -> bool:
        return self.backend.is_leader

    # -- writes -------------------------------------------------------------------------
    async def commit(self, entry: e.Entry, leader_only: bool = False) -> int:
        """Commit one entry (stamped with this server's time) and return its index once
        applied here. `leader_only` writes are fenced: refused unless this server leads."""
        if not entry.Time:
            entry.Time = self.clock.now_ns()
        return await self.backend.commit(entry, leader_only=leader_only)

    async def commit_evals(self, evals: list[Evaluation], leader_only: bool = False) -> int:
        """Upsert evaluations; applying them hands pending ones to the leader's broker."""
        return await self.commit(e.EvalUpdate(Evals=evals), leader_only=leader_only)

    async def restore_snapshot(self, state_bin: bytes) -> int:
        """Replace the whole state (operator snapshot restore); the leader's duties restart
        from the restored state, as after an election."""
        leading = self.leader.active
        if leading:
            await self.leader.stop()
        try:
            return await self.backend.restore_snapshot(state_bin)
        finally:
            if leading and self.backend.is_leader:
                await self.leader.start()

    def capacity_changed(self, node_ids: Iterable[str] | None = None) -> None:
        """Nodes (all, when None) gained room: give blocked evals that may fit another try."""
        classes = None
        if node_ids is not None:
            nodes = [self.state.node_by_id(n) for n in node_ids]
            if any(n is None for n in nodes):
                classes = None
            else:
                classes = {n.ComputedClass for n in nodes}
        self.blocked.unblock(classes)

    # -- scheduling -----------------------------------------------------------------------
    def new_scheduler(self, eval_type: str, state):
        """A scheduler for `eval_type` configured from the stored scheduler configuration."""
        return new_scheduler(eval_type, state, self.clock.now_ns(), self.scheduler_algorithm(),
                             config=self.operator.scheduler_config())

    def scheduler_algorithm(self) -> str:
        """The stored scheduler configuration's algorithm (the agent's until bootstrapped)."""
        if self.state.scheduler_config is not None:
            return self.state.scheduler_config.SchedulerAlgorithm
        return self.config.scheduler_algorithm

    async def submit_plan(self, plan: Plan) -> PlanResult:
        """The plan applier: re-check the plan against the latest state, commit what fits.
        One plan at a time; a large one in slices, the loop serving requests in between."""
        async with self._plan_lock:
            return await self._apply_plan(plan)

    async def _apply_plan(self, plan: Plan) -> PlanResult:
        steps = evaluate_steps(self.state, plan)
        while True:
            try:
                next(steps)
            except StopIteration as done:
                result = done.value
                break
            await asyncio.sleep(0)
        if (result.NodeAllocation or result.NodeUpdate or result.NodePreemptions
                or plan.Deployment is not None or plan.DeploymentUpdates):
            for entry in result_entries(plan, result, self.clock.now_ns()):
                result.AllocIndex = await self.commit(entry, leader_only=True)
                await asyncio.sleep(0)
            if result.NodeUpdate or result.NodePreemptions:
                self.capacity_changed(set(result.NodeUpdate) | set(result.NodePreemptions))
            if result.NodePreemptions:
                await self._evaluate_preempted(result)
        return result

    async def _evaluate_preempted(self, result: PlanResult) -> None:
        """Jobs that lost allocations to preemption are evaluated again (Nomad does too)."""
        jobs = {(a.Namespace, a.JobID) for allocs in result.NodePreemptions.values() for a in allocs}
        evals = []
        for ns, job_id in sorted(jobs):
            job = self.state.job_by_id(ns, job_id)
            if job is not None and not job.Stop:
                evals.append(Evaluation(ID=generate_uuid(), Namespace=ns, Priority=job.Priority,
                                        Type=job.Type, TriggeredBy="preemption", JobID=job_id,
                                        JobModifyIndex=job.JobModifyIndex or 0,
                                        Status=EVAL_STATUS_PENDING))
        if evals:
            await self.commit_evals(evals, leader_only=True)

    async def force_gc(self) -> None:
        """`nomad system gc`: collect everything terminal now, regardless of age."""
        await self.core_gc.force()

    # -- heartbeats -----------------------------------------------------------------------
    async def _heartbeat_expired(self, node_id: str) -> None:
        try:
            await self.nodes.mark_down(node_id)
        except Exception:
            log.exception("marking node %s down", node_id)
