"""The server: state, backend, leader duties (broker, workers, plan applier, heartbeats).

All of it runs on one asyncio loop. Schedulers run synchronously between awaits, so each
sees a consistent state; the plan applier is naturally serialized.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
import logging
import time
from dataclasses import dataclass, field

from ..backend import EmbeddedBackend
from ..scheduler import new_scheduler
from ..state import StateStore
from ..state import entries as e
from ..structs import (EVAL_STATUS_BLOCKED, EVAL_STATUS_CANCELED, EVAL_STATUS_FAILED,
                       EVAL_STATUS_PENDING, TRIGGER_FAILED_FOLLOW_UP, Evaluation, Plan,
                       PlanResult, generate_uuid)
from .blocked import BlockedEvals
from .blocking import Watcher
from .broker import FAILED_QUEUE, BrokerError, EvalBroker, failed_followup_delay
from .event_broker import EventBroker
from .heartbeat import FAILOVER_HEARTBEAT_TTL_S, HeartbeatTimers
from .plan_apply import evaluate_plan, result_entry

log = logging.getLogger("pynomad.server")

SCHEDULER_TYPES = ["service", "batch", "system", "sysbatch"]


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
    extra: dict = field(default_factory=dict)


class Server:
    def __init__(self, config: ServerConfig, clock=time.time_ns) -> None:
        from .acl_endpoint import ACLEndpoint
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

        self.config = config
        self.clock = clock
        self.state = StateStore()
        self.backend = EmbeddedBackend(self.state, config.data_dir)
        self.watcher = Watcher(self.state)
        self.broker = EvalBroker()
        self.events = EventBroker(self.state)
        self.blocked = BlockedEvals(self.broker.enqueue)
        self.heartbeats = HeartbeatTimers(self._heartbeat_expired, config.min_heartbeat_ttl,
                                          config.heartbeat_grace,
                                          config.max_heartbeats_per_second)
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
        self._tasks: list[asyncio.Task] = []
        self._running = False
        self.started = time.time()

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        index = self.backend.restore()
        log.info("server state restored at index %d", index)
        self.backend.fsm.on_applied = self.events.on_applied
        self._establish_leadership()
        await self.operator.bootstrap()
        self._running = True
        self._tasks.append(asyncio.create_task(self.drainer.run()))
        self._tasks.append(asyncio.create_task(self.periodic.run()))
        self._tasks.append(asyncio.create_task(self.deployment_watcher.run()))
        for _ in range(max(1, self.config.num_schedulers)):
            self._tasks.append(asyncio.create_task(self._worker_loop()))
        self._tasks.append(asyncio.create_task(self._reap_failed_evals()))

    def _establish_leadership(self) -> None:
        self.broker.set_enabled(True)
        self.blocked.set_enabled(True)
        for ev in sorted(self.state.evals.values(), key=lambda x: x.CreateIndex):
            self._track_eval(ev)
        for node in self.state.nodes.values():
            if node.Status != "down":
                self.heartbeats.reset(node.ID, FAILOVER_HEARTBEAT_TTL_S)

    async def stop(self) -> None:
        self._running = False
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.heartbeats.clear_all()
        self.broker.set_enabled(False)
        self.events.close()
        self.backend.close()

    @property
    def is_leader(self) -> bool:
        return self.backend.is_leader

    # -- writes -------------------------------------------------------------------------
    async def commit(self, entry: e.Entry) -> int:
        if not entry.Time:
            entry.Time = self.clock()
        return await self.backend.commit(entry)

    async def commit_evals(self, evals: list[Evaluation]) -> int:
        index = await self.commit(e.EvalUpdate(Evals=evals))
        for ev in evals:
            self._track_eval(ev)
        return index

    def _track_eval(self, ev: Evaluation) -> None:
        """Hand a committed eval to the broker or the blocked tracker."""
        if ev.Status == EVAL_STATUS_PENDING:
            self.broker.enqueue(ev)
        elif ev.Status == EVAL_STATUS_BLOCKED:
            old = self.blocked.block(ev)
            if old is not None:
                asyncio.get_running_loop().create_task(self._cancel_evals(
                    [old], "existing blocked evaluation exists for job"))

    async def _cancel_evals(self, evals: list[Evaluation], desc: str) -> None:
        from msgspec.structs import replace

        done = [replace(ev, Status=EVAL_STATUS_CANCELED, StatusDescription=desc) for ev in evals]
        if done:
            await self.commit(e.EvalUpdate(Evals=done))

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
    async def _worker_loop(self) -> None:
        while self._running:
            if self.operator.scheduler_config().PauseEvalBroker:
                await asyncio.sleep(0.2)
                continue
            got = await self.broker.dequeue(SCHEDULER_TYPES, timeout=0.5)
            if got is None:
                continue
            ev, token = got
            try:
                await self._process_eval(ev)
            except Exception:
                log.exception("error processing evaluation %s", ev.ID)
                try:
                    self.broker.nack(ev.ID, token)
                except BrokerError:  # the broker was rebuilt (snapshot restore) meanwhile
                    pass
                continue
            try:
                canceled = self.broker.ack(ev.ID, token)
            except BrokerError:  # the broker was rebuilt (snapshot restore) meanwhile
                continue
            if canceled:
                await self._cancel_evals(canceled, "canceled after more recent eval was processed")

    async def _process_eval(self, ev: Evaluation) -> None:
        sched = self.new_scheduler(ev.Type, self.state)
        gen = sched.process(ev)
        try:
            plan = next(gen)
            while True:
                plan = gen.send(await self.submit_plan(plan))
        except StopIteration as stop:
            outcome = stop.value
        await self.commit_evals([outcome.eval] + outcome.create_evals)

    def new_scheduler(self, eval_type: str, state):
        """A scheduler for `eval_type` configured from the stored scheduler configuration."""
        return new_scheduler(eval_type, state, self.clock(), self.scheduler_algorithm(),
                             config=self.operator.scheduler_config())

    def scheduler_algorithm(self) -> str:
        """The stored scheduler configuration's algorithm (the agent's until bootstrapped)."""
        if self.state.scheduler_config is not None:
            return self.state.scheduler_config.SchedulerAlgorithm
        return self.config.scheduler_algorithm

    async def submit_plan(self, plan: Plan) -> PlanResult:
        result = evaluate_plan(self.state, plan)
        if (result.NodeAllocation or result.NodeUpdate or result.NodePreemptions
                or plan.Deployment is not None or plan.DeploymentUpdates):
            result.AllocIndex = await self.commit(result_entry(plan, result, self.clock()))
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
            await self.commit_evals(evals)

    async def _reap_failed_evals(self) -> None:
        """Evals past the delivery limit are marked failed, with a delayed follow-up."""
        from msgspec.structs import replace

        while self._running:
            got = await self.broker.dequeue([FAILED_QUEUE], timeout=1.0)
            if got is None:
                continue
            ev, token = got
            failed = replace(ev, Status=EVAL_STATUS_FAILED,
                             StatusDescription=f"evaluation reached delivery limit ({self.broker.delivery_limit})")
            follow = Evaluation(ID=generate_uuid(), Namespace=ev.Namespace, Priority=ev.Priority,
                                Type=ev.Type, TriggeredBy=TRIGGER_FAILED_FOLLOW_UP,
                                JobID=ev.JobID, JobModifyIndex=ev.JobModifyIndex,
                                Status=EVAL_STATUS_PENDING, PreviousEval=ev.ID,
                                Wait=failed_followup_delay())
            failed.NextEval = follow.ID
            await self.commit_evals([failed, follow])
            try:
                self.broker.ack(ev.ID, token)
            except BrokerError:  # the broker was rebuilt (snapshot restore) meanwhile
                pass

    async def force_gc(self) -> None:
        """`nomad system gc`: collect everything terminal now, regardless of age."""
        from .core_sched import plan_gc

        idx = self.state.latest_index
        entry = plan_gc(self.state, idx, idx, idx, idx)
        if entry.Evals or entry.Allocs or entry.Jobs or entry.Nodes or entry.Deployments:
            await self.commit(entry)

    # -- heartbeats -----------------------------------------------------------------------
    async def _heartbeat_expired(self, node_id: str) -> None:
        try:
            await self.nodes.mark_down(node_id)
        except Exception:
            log.exception("marking node %s down", node_id)
