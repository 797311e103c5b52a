"""The generic scheduler for service and batch jobs (Nomad's generic_sched.go).

`process(eval)` is a generator: it yields each Plan and receives its PlanResult, so the
caller (a server worker) owns all I/O; the generator's return value is the Outcome: the
updated evaluation and any evaluations to create (blocked, delayed reschedules).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TypeVar

from msgspec.structs import replace

from ..structs import (NO_TRANSITION, ALLOC_CLIENT_FAILED, ALLOC_CLIENT_PENDING, ALLOC_DESIRED_RUN,
                       EVAL_STATUS_BLOCKED, EVAL_STATUS_COMPLETE, EVAL_STATUS_FAILED, EVAL_STATUS_PENDING,
                       TRIGGER_MAX_PLANS, TRIGGER_QUEUED_ALLOCS, TRIGGER_RETRY_FAILED_ALLOC,
                       AllocDeploymentStatus, Allocation, AllocMetric, Evaluation, Job, Node,
                       Plan, PlanResult,
                       RescheduleEvent, RescheduleTracker, generate_uuid)
from ..helper.goformat import format_rfc3339
from ..structs.operator import SchedulerConfiguration
from .context import EvalContext, EvalEligibility, State
from .feasible.nodes import ready_nodes
from .metrics import exhaust_resources
from .reconcile import (BATCHED_FAILED_WINDOW_NS, CANARY, AllocReconciler, MissingPlacements,
                        Placement, Results)
from .reschedule import next_delay
from .stack import GenericStack

MAX_SERVICE_ATTEMPTS = 5
MAX_BATCH_ATTEMPTS = 2
DESC_BLOCKED_MAX_PLAN = "created due to placement conflicts"
DESC_BLOCKED_FAILED_PLACEMENTS = "created to place remaining allocations"
T = TypeVar("T")


@dataclass
class Outcome:
    eval: Evaluation
    create_evals: list[Evaluation] = field(default_factory=list)


class SchedulerBase:
    """What every scheduler is built from: the state view, the time, its configuration."""

    def __init__(self, state: State, now: int, algorithm: str | None = None,
                 rng: random.Random | None = None, config: SchedulerConfiguration | None = None
                 ) -> None:
        self.state = state
        self.now = now
        self.config = SchedulerConfiguration.from_any(config, algorithm)
        self.algorithm = self.config.SchedulerAlgorithm
        self.rng = rng or random.Random()
        self.eligibility: EvalEligibility | None = None


class GenericScheduler(SchedulerBase):
    def __init__(self, state: State, batch: bool, now: int, algorithm: str | None = None,
                 rng: random.Random | None = None, config: SchedulerConfiguration | None = None
                 ) -> None:
        super().__init__(state, now, algorithm, rng, config)
        self.batch = batch
        self.deployment_id = ""

    def process(self, ev: Evaluation) -> Generator[Plan, PlanResult, Outcome]:
        limit = MAX_BATCH_ATTEMPTS if self.batch else MAX_SERVICE_ATTEMPTS
        done, (job, failed, queued, followups) = yield from submit_plans(
            lambda: self._compute(ev), limit)
        status = EVAL_STATUS_COMPLETE if done else EVAL_STATUS_FAILED
        return self._finish(ev, job, failed, queued, followups, status)

    def _compute(self, ev: Evaluation):
        job = self.state.job_by_id(ev.Namespace, ev.JobID)
        plan = Plan(EvalID=ev.ID, Priority=ev.Priority, Job=job,
                    AllAtOnce=bool(job and job.AllAtOnce))
        allocs = self.state.allocs_by_job_id(ev.Namespace, ev.JobID)
        nodes = {a.NodeID: self.state.node_by_id(a.NodeID) for a in allocs}
        deployment = None if self.batch else \
            self.state.latest_deployment_by_job_id(ev.Namespace, ev.JobID)
        results = AllocReconciler(job, ev.JobID, self.batch, allocs, nodes, self.now,
                                  deployment, ev.Priority).compute()
        plan.Deployment = results.deployment
        plan.DeploymentUpdates = results.deployment_updates
        self.deployment_id = results.active_deployment.ID if results.active_deployment else ""
        ctx = EvalContext(self.state, plan, self.rng)
        self.eligibility = ctx.eligibility
        for stop in results.stop:
            ctx.stop(stop.alloc, stop.desc, stop.client_status)
        for a in results.inplace:
            ctx.update_in_place(self._join_deployment(replace(a, Job=job)))
        placements = list(results.place)
        for a, tg in results.destructive:
            ctx.stop(a, "alloc is being updated due to job update")
            placements.append(Placement(a.Name, tg, a))
        failed, queued = self._place(ctx, ev, job, placements)
        followups = self._followups(ev, results)
        for follow, allocs in followups:
            for a in allocs:
                plan.append_alloc(replace(a, FollowupEvalID=follow.ID))
        return plan, (job, failed, queued, [f for f, _ in followups])

    def _join_deployment(self, alloc: Allocation) -> Allocation:
        """An in-place update joins the active deployment and must prove health again."""
        if alloc.DeploymentID != self.deployment_id:
            alloc.DeploymentID = self.deployment_id
            alloc.DeploymentStatus = None
        return alloc

    def _place(self, ctx: EvalContext, ev: Evaluation, job: Job | None,
               placements: list[Placement | MissingPlacements]
               ) -> tuple[dict[str, AllocMetric], dict[str, int]]:
        """Place in order; a group stops at its first failed placement (Nomad does too):
        the rest of it is counted as queued and coalesced into that failure's metric, so
        the work is bounded by what the cluster can hold, whatever the count."""
        failed: dict[str, AllocMetric] = {}
        queued: dict[str, int] = {}
        if job is None or not placements:
            return failed, queued
        nodes, by_dc = ready_nodes(self.state.nodes_list(), job)
        stack = GenericStack(ctx, job, nodes, self.batch, config=self.config)
        preempt = self.config.preemption_enabled("batch" if self.batch else "service")
        for seg in placements:
            name, size = seg.tg.Name, len(seg) if isinstance(seg, MissingPlacements) else 1
            queued.setdefault(name, 0)
            if name in failed:
                _coalesce(failed[name], seg.tg, size)
                queued[name] += size
                continue
            for k, p in enumerate(seg if isinstance(seg, MissingPlacements) else (seg,)):
                metric, option = self._select(stack, p, by_dc, len(nodes), preempt)
                if option is None:
                    exhaust_resources(metric, p.tg)
                    failed[name] = metric
                    queued[name] += size - k
                    _coalesce(metric, p.tg, size - k - 1)
                    break
                self._add(ctx, ev, job, p, option, metric)
        return failed, queued

    def _add(self, ctx: EvalContext, ev: Evaluation, job: Job, p: Placement, option,
             metric: AllocMetric) -> None:
        alloc = self._new_alloc(ev, job, p, option, metric)
        for victim in option.preempted or ():
            ctx.preempt(victim, alloc.ID)
        if option.preempted:
            alloc.PreemptedAllocations = [v.ID for v in option.preempted]
        ctx.add_placement(alloc)

    @staticmethod
    def _select(stack: GenericStack, p: Placement, by_dc: dict[str, int], in_pool: int,
                preempt: bool):
        """Select a node; with preemption enabled, retry allowing evictions (Nomad's
        selectNextOption). Returns the metric of the last attempt and the option."""
        penalty = penalty_nodes(p.previous)
        metric = AllocMetric(NodesAvailable=by_dc, NodesInPool=in_pool)
        option = stack.select(p.tg, metric, penalty, alloc_name=p.name)
        if option is None and preempt:
            metric = AllocMetric(NodesAvailable=by_dc, NodesInPool=in_pool)
            option = stack.select(p.tg, metric, penalty, preempt=True, alloc_name=p.name)
        return metric, option

    def _new_alloc(self, ev: Evaluation, job: Job, p: Placement, option, metric) -> Allocation:
        alloc = Allocation(
            DesiredTransition=NO_TRANSITION,
            ID=generate_uuid(), Namespace=job.Namespace, EvalID=ev.ID, Name=p.name,
            NodeID=option.node.ID, NodeName=option.node.Name, JobID=job.ID, Job=job,
            TaskGroup=p.tg.Name, AllocatedResources=option.resources, Metrics=metric,
            DesiredStatus=ALLOC_DESIRED_RUN, ClientStatus=ALLOC_CLIENT_PENDING,
            DeploymentID=self.deployment_id)
        if p.kind == CANARY:
            alloc.DeploymentStatus = AllocDeploymentStatus(Canary=True)
        if p.previous is not None:
            alloc.PreviousAllocation = p.previous.ID
            if p.reschedule:
                alloc.RescheduleTracker = _tracker(p, self.now)
        return alloc

    def _finish(self, ev: Evaluation, job: Job | None, failed, queued,
                followups: list[Evaluation], status: str) -> Outcome:
        update = replace(ev, Status=status, QueuedAllocations=queued,
                         FailedTGAllocs=failed or None,
                         DeploymentID=self.deployment_id or ev.DeploymentID)
        creates: list[Evaluation] = []
        if status == EVAL_STATUS_FAILED:
            update.StatusDescription = "maximum attempts reached (%d)" % (
                MAX_BATCH_ATTEMPTS if self.batch else MAX_SERVICE_ATTEMPTS)
        if failed and job is not None and not job.Stop:
            trigger = TRIGGER_MAX_PLANS if status == EVAL_STATUS_FAILED else TRIGGER_QUEUED_ALLOCS
            blocked = blocked_eval(ev, self.eligibility, failed, trigger)
            update.BlockedEval = blocked.ID
            creates.append(blocked)
        return Outcome(update, creates + followups)

    def _followups(self, ev: Evaluation, results: Results
                   ) -> list[tuple[Evaluation, list[Allocation]]]:
        """Delayed evaluations for failed allocs that reschedule later, batched in 5 s windows."""
        out: list[tuple[Evaluation, list[Allocation]]] = []
        start = 0
        for alloc, when in sorted(results.reschedule_later, key=lambda x: x[1]):
            if not out or when - start > BATCHED_FAILED_WINDOW_NS:
                follow = _child_eval(ev, TRIGGER_RETRY_FAILED_ALLOC, EVAL_STATUS_PENDING)
                follow.WaitUntil = format_rfc3339(when)
                out.append((follow, []))
                start = when
            out[-1][1].append(alloc)
        return out


def submit_plans(compute: Callable[[], tuple[Plan, T]], limit: int
                 ) -> Generator[Plan, PlanResult, tuple[bool, T]]:
    """Nomad's retryMax around plan submission: `compute()` gives a fresh plan (and whatever
    the caller keeps from that attempt); it is yielded until it is a no-op or fully committed.
    Gives up after `limit` attempts in a row that placed nothing. Returns (done, the last
    attempt's extra); done is False when the attempts ran out."""
    attempts = 0
    while True:
        plan, extra = compute()
        if plan.is_no_op():
            return True, extra
        result = yield plan
        full, _, actual = result.full_commit(plan)
        if full:
            return True, extra
        attempts = 0 if actual else attempts + 1
        if attempts >= limit:
            return False, extra


def _coalesce(metric: AllocMetric, tg, times: int) -> None:
    """`times` more placements of the group failed like the one `metric` describes."""
    metric.CoalescedFailures += times
    exhaust_resources(metric, tg, times)


def penalty_nodes(prev: Allocation | None) -> set[str]:
    """Nodes a replacement should avoid: where the previous alloc failed, and every node
    its reschedule tracker passed through (Nomad's getSelectOptions)."""
    if prev is None:
        return set()
    out = {prev.NodeID} if prev.ClientStatus == ALLOC_CLIENT_FAILED else set()
    if prev.RescheduleTracker is not None:
        out.update(e.PrevNodeID for e in prev.RescheduleTracker.Events)
    return out


def blocked_eval(ev: Evaluation, elig: EvalEligibility | None, failed: dict[str, AllocMetric],
                 trigger: str = TRIGGER_QUEUED_ALLOCS) -> Evaluation:
    """Nomad's CreateBlockedEval: class eligibility is recorded unless constraints escaped."""
    blocked = _child_eval(ev, trigger, EVAL_STATUS_BLOCKED)
    escaped = elig.has_escaped() if elig is not None else False
    blocked.EscapedComputedClass = escaped
    blocked.ClassEligibility = None if escaped or elig is None else (elig.classes() or None)
    blocked.FailedTGAllocs = failed or None
    blocked.StatusDescription = (DESC_BLOCKED_MAX_PLAN if trigger == TRIGGER_MAX_PLANS
                                 else DESC_BLOCKED_FAILED_PLACEMENTS)
    return blocked


def _child_eval(ev: Evaluation, trigger: str, status: str) -> Evaluation:
    return Evaluation(ID=generate_uuid(), Namespace=ev.Namespace, Priority=ev.Priority,
                      Type=ev.Type, TriggeredBy=trigger, JobID=ev.JobID,
                      JobModifyIndex=ev.JobModifyIndex, Status=status, PreviousEval=ev.ID)


def _tracker(p: Placement, now: int) -> RescheduleTracker:
    prev = p.previous
    events = list(prev.RescheduleTracker.Events) if prev.RescheduleTracker else []
    delay = next_delay(p.tg.ReschedulePolicy, prev) if p.tg.ReschedulePolicy else 0
    events.append(RescheduleEvent(RescheduleTime=now, PrevAllocID=prev.ID,
                                  PrevNodeID=prev.NodeID, Delay=delay))
    return RescheduleTracker(Events=events[-5:] if p.tg.ReschedulePolicy and
                             p.tg.ReschedulePolicy.Unlimited else events)
