"""The system and sysbatch schedulers (Nomad's scheduler_system.go).

One allocation of each task group on every ready node in the job's datacenters and pool
that passes feasibility; nodes that join later get theirs on the node's evaluation.
Allocations on nodes that are down are lost and not replaced elsewhere.
"""

from __future__ import annotations

import random
from collections.abc import Generator

from msgspec.structs import replace

from ..structs import (NO_TRANSITION, ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_LOST, ALLOC_CLIENT_PENDING,
                       ALLOC_DESIRED_RUN, EVAL_STATUS_COMPLETE, EVAL_STATUS_FAILED, Allocation,
                       AllocMetric, Evaluation, Job, Node, Plan, PlanResult, TaskGroup,
                       generate_uuid)
from ..structs.operator import SchedulerConfiguration
from .context import EvalContext, State
from .feasible.nodes import in_datacenters, ready_nodes
from .generic import Outcome, SchedulerBase, blocked_eval, submit_plans
from .metrics import exhaust_resources
from .reconcile import ALLOC_LOST, ALLOC_MIGRATING, ALLOC_NOT_NEEDED, ALLOC_UPDATING, tasks_updated
from .stack import SystemStack

MAX_SYSTEM_ATTEMPTS = 5


class SystemScheduler(SchedulerBase):
    def __init__(self, state: State, sysbatch: bool, now: int, algorithm: str | None = None,
                 rng: random.Random | None = None, config: SchedulerConfiguration | None = None
                 ) -> None:
        super().__init__(state, now, algorithm, rng, config)
        self.sysbatch = sysbatch

    def process(self, ev: Evaluation) -> Generator[Plan, PlanResult, Outcome]:
        done, (job, failed, queued) = yield from submit_plans(
            lambda: self._attempt(ev), MAX_SYSTEM_ATTEMPTS)
        if not done:
            return Outcome(replace(ev, Status=EVAL_STATUS_FAILED, QueuedAllocations=queued,
                                   FailedTGAllocs=failed or None,
                                   StatusDescription="maximum attempts reached (5)"))
        return self._finish(ev, job, failed, queued)

    def _attempt(self, ev: Evaluation):
        job = self.state.job_by_id(ev.Namespace, ev.JobID)
        plan = Plan(EvalID=ev.ID, Priority=ev.Priority, Job=job)
        failed, queued = self._compute(ev, job, plan)
        return plan, (job, failed, queued)

    def _finish(self, ev: Evaluation, job: Job | None, failed: dict[str, AllocMetric],
                queued: dict[str, int]) -> Outcome:
        update = replace(ev, Status=EVAL_STATUS_COMPLETE, QueuedAllocations=queued,
                         FailedTGAllocs=failed or None)
        creates = []
        if any(m.NodesExhausted for m in failed.values()) and job is not None and not job.Stop:
            blocked = blocked_eval(ev, self.eligibility, failed)
            update.BlockedEval = blocked.ID
            creates.append(blocked)
        return Outcome(update, creates)

    def _compute(self, ev: Evaluation, job: Job | None, plan: Plan):
        allocs = [a for a in self.state.allocs_by_job_id(ev.Namespace, ev.JobID)]
        live = [a for a in allocs if not a.terminal()]
        ctx = EvalContext(self.state, plan, self.rng)
        self.eligibility = ctx.eligibility
        if job is None or job.Stop:
            for a in live:
                ctx.stop(a, ALLOC_NOT_NEEDED)
            return {}, {}
        ready = {n.ID: n for n in ready_nodes(self.state.nodes_list(), job)[0]}
        groups = {tg.Name: tg for tg in job.TaskGroups or ()}
        placements: list[tuple[Node, TaskGroup, Allocation | None]] = []
        by_node_group = {(a.NodeID, a.TaskGroup): a for a in sorted(allocs, key=lambda a: a.CreateIndex)
                         if not a.server_terminal()}
        for a in live:
            node = self.state.node_by_id(a.NodeID)
            if a.TaskGroup not in groups:
                ctx.stop(a, ALLOC_NOT_NEEDED)
            elif node is None or node.Status == "down":
                ctx.stop(a, ALLOC_LOST, ALLOC_CLIENT_LOST)
            elif a.DesiredTransition.Migrate:
                ctx.stop(a, ALLOC_MIGRATING)
            elif not in_datacenters(node, job.Datacenters or ["*"]):
                ctx.stop(a, ALLOC_NOT_NEEDED)
        for node in ready.values():
            for tg in groups.values():
                existing = by_node_group.get((node.ID, tg.Name))
                if existing is None or (existing.client_terminal() and not self._keep(existing)):
                    placements.append((node, tg, None))
                elif existing.terminal():
                    continue
                elif existing.Job is not None and existing.Job.JobModifyIndex != job.JobModifyIndex:
                    old_tg = existing.Job.lookup_task_group(tg.Name)
                    if old_tg is None or tasks_updated(old_tg, tg):
                        ctx.stop(existing, ALLOC_UPDATING)
                        placements.append((node, tg, existing))
                    else:
                        ctx.update_in_place(replace(existing, Job=job))
        return self._place(ctx, ev, job, placements)

    def _keep(self, alloc: Allocation) -> bool:
        """sysbatch allocs that finished stay finished; failed system allocs are replaced."""
        return self.sysbatch and alloc.ClientStatus == ALLOC_CLIENT_COMPLETE

    def _place(self, ctx: EvalContext, ev: Evaluation, job: Job, placements):
        failed: dict[str, AllocMetric] = {}
        queued: dict[str, int] = {tg.Name: 0 for tg in job.TaskGroups or ()}
        stack = SystemStack(ctx, job, config=self.config, sysbatch=self.sysbatch)
        for node, tg, previous in placements:
            metric = AllocMetric(NodesAvailable={node.Datacenter: 1}, NodesInPool=1)
            name = f"{job.ID}.{tg.Name}[0]"
            option = stack.select_on(node, tg, metric, alloc_name=name)
            if option is None:
                self._record_failure(failed, queued, tg, metric)
                continue
            alloc = Allocation(
                DesiredTransition=NO_TRANSITION,
                ID=generate_uuid(), Namespace=job.Namespace, EvalID=ev.ID,
                Name=name, NodeID=node.ID, NodeName=node.Name,
                JobID=job.ID, Job=job, TaskGroup=tg.Name,
                AllocatedResources=option.resources, Metrics=metric,
                DesiredStatus=ALLOC_DESIRED_RUN, ClientStatus=ALLOC_CLIENT_PENDING,
                PreviousAllocation=previous.ID if previous else "")
            if option.preempted:
                for victim in option.preempted:
                    ctx.preempt(victim, alloc.ID)
                alloc.PreemptedAllocations = [v.ID for v in option.preempted]
            ctx.add_placement(alloc)
        return failed, queued

    @staticmethod
    def _record_failure(failed: dict[str, AllocMetric], queued: dict[str, int],
                        tg: TaskGroup, metric: AllocMetric) -> None:
        """Only nodes that fit the constraints but lack room count as failed placements;
        filtered nodes are simply not this job's nodes."""
        if not metric.NodesExhausted:
            return
        queued[tg.Name] += 1
        prev = failed.get(tg.Name)
        if prev is None:
            exhaust_resources(metric, tg)
            failed[tg.Name] = metric
        else:
            prev.CoalescedFailures += 1
            exhaust_resources(prev, tg)
