"""The system and sysbatch schedulers (Nomad's scheduler_system.go).

One allocation of each task group on every ready node in the job's datacenters and pool
that passes feasibility; nodes that join later get theirs on the node's evaluation.
Allocations on nodes that are down are lost and not replaced elsewhere.
"""

from __future__ import annotations

import random
from collections.abc import Generator

from msgspec.structs import replace

from ..structs import (ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_LOST, ALLOC_CLIENT_PENDING,
                       ALLOC_DESIRED_RUN, EVAL_STATUS_COMPLETE, EVAL_STATUS_FAILED, Allocation,
                       AllocMetric, Evaluation, Job, Node, Plan, PlanResult, TaskGroup,
                       generate_uuid)
from .context import EvalContext, State
from .feasible import in_datacenters
from .generic import Outcome
from .reconcile import ALLOC_LOST, ALLOC_NOT_NEEDED, ALLOC_UPDATING, tasks_updated
from .stack import GenericStack

MAX_SYSTEM_ATTEMPTS = 5


class SystemScheduler:
    def __init__(self, state: State, sysbatch: bool, now: int, algorithm: str = "binpack",
                 rng: random.Random | None = None) -> None:
        self.state = state
        self.sysbatch = sysbatch
        self.now = now
        self.algorithm = algorithm
        self.rng = rng or random.Random()

    def process(self, ev: Evaluation) -> Generator[Plan, PlanResult, Outcome]:
        attempts = 0
        failed: dict[str, AllocMetric] = {}
        queued: dict[str, int] = {}
        while True:
            job = self.state.job_by_id(ev.Namespace, ev.JobID)
            plan = Plan(EvalID=ev.ID, Priority=ev.Priority, Job=job)
            failed, queued = self._compute(ev, job, plan)
            if plan.is_no_op():
                break
            result = yield plan
            full, _, actual = result.full_commit(plan)
            if full:
                break
            attempts = 0 if actual else attempts + 1
            if attempts >= MAX_SYSTEM_ATTEMPTS:
                return Outcome(replace(ev, Status=EVAL_STATUS_FAILED, QueuedAllocations=queued,
                                       FailedTGAllocs=failed or None,
                                       StatusDescription="maximum attempts reached (5)"))
        return Outcome(replace(ev, Status=EVAL_STATUS_COMPLETE, QueuedAllocations=queued,
                               FailedTGAllocs=failed or None))

    def _compute(self, ev: Evaluation, job: Job | None, plan: Plan):
        allocs = [a for a in self.state.allocs_by_job_id(ev.Namespace, ev.JobID)]
        live = [a for a in allocs if not a.terminal()]
        if job is None or job.Stop:
            for a in live:
                plan.append_stopped(a, ALLOC_NOT_NEEDED)
            return {}, {}
        ready = self._ready_nodes(job)
        ctx = EvalContext(self.state, plan, self.rng)
        groups = {tg.Name: tg for tg in job.TaskGroups or ()}
        placements: list[tuple[Node, TaskGroup, Allocation | None]] = []
        by_node_group = {(a.NodeID, a.TaskGroup): a for a in sorted(allocs, key=lambda a: a.CreateIndex)
                         if not a.server_terminal()}
        for a in live:
            node = self.state.node_by_id(a.NodeID)
            if a.TaskGroup not in groups:
                plan.append_stopped(a, ALLOC_NOT_NEEDED)
            elif node is None or node.Status == "down":
                plan.append_stopped(a, ALLOC_LOST, ALLOC_CLIENT_LOST)
            elif a.NodeID not in ready:
                plan.append_stopped(a, ALLOC_NOT_NEEDED)
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
                        plan.append_stopped(existing, ALLOC_UPDATING)
                        placements.append((node, tg, existing))
                    else:
                        plan.append_alloc(replace(existing, Job=job))
        return self._place(ctx, ev, job, placements)

    def _keep(self, alloc: Allocation) -> bool:
        """sysbatch allocs that finished stay finished; failed system allocs are replaced."""
        return self.sysbatch and alloc.ClientStatus == ALLOC_CLIENT_COMPLETE

    def _ready_nodes(self, job: Job) -> dict[str, Node]:
        return {n.ID: n for n in self.state.nodes_list()
                if n.ready() and in_datacenters(n, job.Datacenters or ["*"])
                and (job.NodePool in (None, "all") or n.NodePool == job.NodePool)}

    def _place(self, ctx: EvalContext, ev: Evaluation, job: Job, placements):
        failed: dict[str, AllocMetric] = {}
        queued: dict[str, int] = {tg.Name: 0 for tg in job.TaskGroups or ()}
        for node, tg, previous in placements:
            metric = AllocMetric(NodesAvailable={node.Datacenter: 1}, NodesInPool=1)
            stack = GenericStack(ctx, job, [node], batch=True, algorithm=self.algorithm)
            option = stack.select(tg, metric)
            if option is None:
                if metric.NodesExhausted:
                    queued[tg.Name] += 1
                    prev = failed.get(tg.Name)
                    if prev is None:
                        failed[tg.Name] = metric
                    else:
                        prev.CoalescedFailures += 1
                continue
            alloc = Allocation(
                ID=generate_uuid(), Namespace=job.Namespace, EvalID=ev.ID,
                Name=f"{job.ID}.{tg.Name}[0]", NodeID=node.ID, NodeName=node.Name,
                JobID=job.ID, Job=job, TaskGroup=tg.Name,
                AllocatedResources=option.resources, Metrics=metric,
                DesiredStatus=ALLOC_DESIRED_RUN, ClientStatus=ALLOC_CLIENT_PENDING,
                PreviousAllocation=previous.ID if previous else "")
            ctx.add_placement(alloc)
        return failed, queued
