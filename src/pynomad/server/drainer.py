"""The node drainer (Nomad's nomad/drainer/): runs on the leader, moves work off draining
nodes.

`compute_drain(state, now)` is the pure decision step; `NodeDrainer` is the asyncio loop
that calls it when nodes or allocations change (or once a second, for deadlines) and
commits what it decided. Rules (nomad-internals §4.2):

- Service allocs are marked `DesiredTransition.Migrate` in batches: per task group at most
  `healthy - (count - migrate.max_parallel)` at a time. "Healthy" means the alloc's
  DeploymentStatus says healthy, as the client reports it (after the group's migrate
  `min_healthy_time`, or the update block's inside a deployment), so each batch waits for
  its replacements to become healthy; allocs already marked for migration don't count, so
  a batch isn't re-issued before the scheduler stops it.
- Batch (and sysbatch) allocs are left to finish until the deadline.
- When every non-system alloc on the node is client-terminal, remaining system allocs are
  marked (unless `IgnoreSystemJobs`) and the drain completes.
- At the deadline every remaining alloc is marked and the drain completes.
- Completing clears the DrainStrategy (the node stays ineligible) and sets LastDrain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..state import entries as e
from ..structs import (EVAL_STATUS_PENDING, TRIGGER_NODE_DRAIN, Allocation, DesiredTransition,
                       DrainStrategy, Evaluation, Job, Node, NodeEvent, TaskGroup, generate_uuid)
from ..helper.goformat import parse_rfc3339
from .leader import watch_loop

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.drainer")

NODE_DRAIN_EVENT_COMPLETE = "Node drain complete"
NODE_DRAIN_EVENT_DETAIL_DEADLINED = "deadline_reached"
SUBSYSTEM_DRAIN = "Drain"
TICK_S = 1.0
COALESCE_S = 0.1


@dataclass
class DrainActions:
    migrate: list[Allocation] = field(default_factory=list)
    complete: list[str] = field(default_factory=list)
    deadlined: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.migrate or self.complete or self.deadlined)


def deadline_of(strategy: DrainStrategy) -> tuple[bool, int]:
    """(infinite, deadline ns) — Nomad's DrainStrategy.DeadlineTime. Negative deadlines
    (`-force`) are already past."""
    if strategy.Deadline < 0:
        return False, 0
    if strategy.Deadline == 0:
        return True, 0
    return False, parse_rfc3339(strategy.ForceDeadline)


def _job_type(state, alloc: Allocation) -> str:
    if alloc.Job is not None:
        return alloc.Job.Type or "service"
    job = state.job_by_id(alloc.Namespace, alloc.JobID)
    return (job.Type if job is not None else None) or "service"


def is_done(state, allocs: list[Allocation]) -> bool:
    """Every alloc but system ones is client-terminal (Nomad's drainingNode.IsDone)."""
    return all(a.client_terminal() for a in allocs if _job_type(state, a) != "system")


def remaining_allocs(state, node: Node, allocs: list[Allocation]) -> list[Allocation]:
    """Allocs still to stop on the node, not yet marked (Nomad's RemainingAllocs)."""
    ignore_system = node.DrainStrategy is not None and node.DrainStrategy.IgnoreSystemJobs
    return [a for a in allocs if not a.terminal() and not a.DesiredTransition.Migrate
            and not (ignore_system and _job_type(state, a) == "system")]


def drain_task_group(tg: TaskGroup, allocs: list[Allocation], draining: set[str]) -> list[Allocation]:
    """Which of a service group's allocs on draining nodes to migrate now."""
    healthy = 0
    drainable = []
    for a in allocs:
        if a.terminal() or a.DesiredTransition.Migrate:
            continue
        if a.DeploymentStatus is not None and a.DeploymentStatus.is_healthy():
            healthy += 1
        if a.NodeID in draining:
            drainable.append(a)
    max_parallel = tg.Migrate.MaxParallel if tg.Migrate and tg.Migrate.MaxParallel else 1
    allowed = min(len(drainable), healthy - ((tg.Count or 0) - max_parallel))
    if allowed <= 0:
        return []
    drainable.sort(key=lambda a: (a.index(), a.ID))
    return drainable[:allowed]


def compute_drain(state, now: int) -> DrainActions:
    """What the drainer should do now, given the state and the clock (pure)."""
    actions = DrainActions()
    draining = sorted((n for n in state.nodes_list() if n.DrainStrategy is not None),
                      key=lambda n: n.ID)
    draining_ids = {n.ID for n in draining}
    service_jobs: set[tuple[str, str]] = set()
    for node in draining:
        allocs = state.allocs_by_node_id(node.ID)
        infinite, deadline = deadline_of(node.DrainStrategy)
        if not infinite and now >= deadline:
            actions.migrate += remaining_allocs(state, node, allocs)
            actions.deadlined.append(node.ID)
        elif is_done(state, allocs):
            actions.migrate += remaining_allocs(state, node, allocs)
            actions.complete.append(node.ID)
        else:
            service_jobs |= {(a.Namespace, a.JobID) for a in allocs
                             if not a.terminal() and _job_type(state, a) == "service"}
    finished = set(actions.complete) | set(actions.deadlined)
    active = draining_ids - finished
    for ns, job_id in sorted(service_jobs):
        job: Job | None = state.job_by_id(ns, job_id)
        if job is None or job.Stop:
            continue
        job_allocs = state.allocs_by_job_id(ns, job_id)
        for tg in job.TaskGroups or ():
            group = [a for a in job_allocs if a.TaskGroup == tg.Name]
            actions.migrate += drain_task_group(tg, group, active)
    return actions


def transition_entry(allocs: list[Allocation], state, now: int) -> e.AllocUpdateDesiredTransition:
    """Mark allocs for migration, with one node-drain eval per affected job."""
    transitions = {a.ID: DesiredTransition(Migrate=True) for a in allocs}
    evals, seen = [], set()
    for a in allocs:
        key = (a.Namespace, a.JobID)
        if key in seen:
            continue
        seen.add(key)
        job = state.job_by_id(a.Namespace, a.JobID) or a.Job
        evals.append(Evaluation(
            ID=generate_uuid(), Namespace=a.Namespace, Priority=job.Priority if job else 50,
            Type=(job.Type if job else None) or "service", TriggeredBy=TRIGGER_NODE_DRAIN,
            JobID=a.JobID, JobModifyIndex=(job.JobModifyIndex or 0) if job else 0,
            Status=EVAL_STATUS_PENDING, CreateTime=now, ModifyTime=now))
    return e.AllocUpdateDesiredTransition(Time=now, Transitions=transitions, Evals=evals)


def complete_event(deadlined: bool) -> NodeEvent:
    details = {NODE_DRAIN_EVENT_DETAIL_DEADLINED: "true"} if deadlined else None
    return NodeEvent(Message=NODE_DRAIN_EVENT_COMPLETE, Subsystem=SUBSYSTEM_DRAIN, Details=details)


class NodeDrainer:
    """The leader's drain loop: wake on node/alloc changes or every second."""

    def __init__(self, server: "Server") -> None:
        self.server = server

    async def run(self) -> None:
        await watch_loop("node drainer", self.server, ("nodes", "allocs"), TICK_S, COALESCE_S,
                         self._draining, self.step)

    def _draining(self) -> bool:
        return any(n.DrainStrategy is not None for n in self.server.state.nodes_list())

    async def step(self) -> DrainActions:
        srv = self.server
        now = srv.clock.now_ns()
        actions = compute_drain(srv.state, now)
        if actions.migrate:
            entry = transition_entry(actions.migrate, srv.state, now)
            await srv.commit(entry, leader_only=True)
        if actions.complete:
            await srv.commit(e.NodesDrainComplete(NodeIDs=actions.complete,
                                                  Event=complete_event(False)))
        if actions.deadlined:
            await srv.commit(e.NodesDrainComplete(NodeIDs=actions.deadlined,
                                                  Event=complete_event(True)))
        return actions
