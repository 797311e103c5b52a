"""The deployment watcher (Nomad's nomad/deploymentwatcher/): runs on the leader and moves
running deployments along.

`compute_watch(deployments, now, evaluated)` is the pure decision step; `DeploymentWatcher` is the
asyncio loop that calls it when allocations or deployments change (or once a second, for
progress deadlines) and commits what it decided:

- an allocation of the deployment became healthy → an evaluation (TriggeredBy
  `deployment-watcher`) so the scheduler starts the next `max_parallel` batch, and finally
  marks the deployment successful;
- an allocation became unhealthy in a group without a progress deadline → the deployment
  fails ("Failed due to unhealthy allocations");
- a group's `RequireProgressBy` passed before it was healthy → the deployment fails ("Failed
  due to progress deadline");
- a failed deployment whose group has `auto_revert` rolls the job back to its latest stable
  version when that version's specification differs;
- a deployment whose groups all have `auto_promote` is promoted once every canary is
  healthy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..state import StateStore
from ..state import entries as e
from ..structs import (DEPLOYMENT_STATUS_FAILED, DEPLOYMENT_STATUS_RUNNING,
                       DESC_FAILED_ALLOCATIONS, DESC_PROGRESS_DEADLINE, EVAL_STATUS_PENDING,
                       TRIGGER_DEPLOYMENT_WATCHER, Deployment, DeploymentStatusUpdate,
                       Evaluation, Job, desc_no_rollback_same_spec, desc_no_rollback_target,
                       desc_rollback, generate_uuid)
from ..helper.goformat import parse_rfc3339
from .leader import watch_loop
from .job_endpoint import spec_changed

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.deploymentwatcher")

TICK_S = 1.0
COALESCE_S = 0.25  # Nomad batches the watcher's evaluations over a short window too


@dataclass
class WatchAction:
    deployment: Deployment
    evaluate: bool = False
    fail_description: str = ""
    rollback: bool = False
    promote: bool = False


def compute_watch(deployments, now: int, evaluated: dict[str, int],
                  healthy: Callable[[str], bool] = lambda alloc_id: False) -> list[WatchAction]:
    """What each running deployment needs. Works from the per-group counters the state
    store keeps as allocations report health, so a step costs O(deployments) (plus one
    lookup per canary). `evaluated[id]` is the healthy count an evaluation was last
    created for; `healthy(alloc_id)` tells whether a canary is healthy."""
    actions = []
    for d in deployments:
        if d.Status != DEPLOYMENT_STATUS_RUNNING:
            continue
        action = _watch_health(d, evaluated.get(d.ID, 0))
        if not action.fail_description:
            _watch_deadlines(d, now, action)
            action.promote = _auto_promote(d, healthy)
        if action.evaluate or action.fail_description or action.promote:
            actions.append(action)
    return actions


def _auto_promote(d: Deployment, healthy: Callable[[str], bool]) -> bool:
    """Every group with canaries auto-promotes and has all its canaries healthy."""
    if not d.requires_promotion() or not d.has_auto_promote():
        return False
    return all(sum(map(healthy, s.PlacedCanaries or ())) >= s.DesiredCanaries
               for s in d.TaskGroups.values() if s.DesiredCanaries and not s.Promoted)


def healthy_count(d: Deployment) -> int:
    return sum(g.HealthyAllocs for g in d.TaskGroups.values())


def _watch_health(d: Deployment, evaluated: int) -> WatchAction:
    action = WatchAction(d, evaluate=healthy_count(d) > evaluated)
    for group in d.TaskGroups.values():
        if group.UnhealthyAllocs and not group.ProgressDeadline:
            action.fail_description = DESC_FAILED_ALLOCATIONS
            action.rollback |= group.AutoRevert
    return action


def _watch_deadlines(d: Deployment, now: int, action: WatchAction) -> None:
    for group in d.TaskGroups.values():
        deadline = parse_rfc3339(group.RequireProgressBy)
        healthy = group.HealthyAllocs >= max(group.DesiredTotal, group.DesiredCanaries)
        if group.ProgressDeadline and deadline and now >= deadline and not healthy:
            action.fail_description = DESC_PROGRESS_DEADLINE
            action.rollback |= group.AutoRevert


def rollback(state: StateStore, d: Deployment, description: str) -> tuple[Job | None, str]:
    """The job version to revert to (if any) and the failure description saying so."""
    job = state.job_by_id(d.Namespace, d.JobID)
    target = next((v for v in state.job_versions_of(d.Namespace, d.JobID)
                   if v.Stable and (v.Version or 0) < d.JobVersion), None)
    if job is None or target is None:
        return None, desc_no_rollback_target(description)
    if not spec_changed(target, job):
        return None, desc_no_rollback_same_spec(description, target.Version or 0)
    return target, desc_rollback(description, target.Version or 0)


def deployment_eval(d: Deployment, job: Job | None) -> Evaluation:
    return Evaluation(ID=generate_uuid(), Namespace=d.Namespace,
                      Priority=d.EvalPriority or (job.Priority if job else 50),
                      Type=job.Type if job else "service", TriggeredBy=TRIGGER_DEPLOYMENT_WATCHER,
                      JobID=d.JobID, JobModifyIndex=job.JobModifyIndex if job else 0,
                      DeploymentID=d.ID, Status=EVAL_STATUS_PENDING)


def fail_entry(state: StateStore, d: Deployment, description: str,
               revert: bool) -> e.DeploymentStatusChange:
    """Fail `d`, rolling its job back when asked and possible, with an evaluation."""
    target = None
    if revert:
        target, description = rollback(state, d, description)
    job = state.job_by_id(d.Namespace, d.JobID)
    return e.DeploymentStatusChange(
        Update=DeploymentStatusUpdate(DeploymentID=d.ID, Status=DEPLOYMENT_STATUS_FAILED,
                                      StatusDescription=description),
        Job=target, Eval=deployment_eval(d, job))


class DeploymentWatcher:
    """The leader's deployment loop: wake on alloc/deployment changes or every second."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.evaluated: dict[str, int] = {}

    async def run(self) -> None:
        await watch_loop("deployment watcher", self.server, ("allocs", "deployment"), TICK_S,
                         COALESCE_S, self._running, self.step)

    def _running(self) -> bool:
        return any(d.Status == DEPLOYMENT_STATUS_RUNNING
                   for d in self.server.state.deployments.values())

    async def step(self) -> list[WatchAction]:
        srv = self.server
        running = [d for d in srv.state.deployments.values()
                   if d.Status == DEPLOYMENT_STATUS_RUNNING]
        self.evaluated = {d.ID: self.evaluated[d.ID] for d in running if d.ID in self.evaluated}
        actions = compute_watch(running, srv.clock.now_ns(), self.evaluated, self._healthy)
        for action in actions:
            d = action.deployment
            if action.fail_description:
                entry = fail_entry(srv.state, d, action.fail_description, action.rollback)
                await srv.commit(entry, leader_only=True)
            elif action.promote:
                entry = e.DeploymentPromotion(DeploymentID=d.ID, All=True, Eval=deployment_eval(
                    d, srv.state.job_by_id(d.Namespace, d.JobID)))
                await srv.commit(entry, leader_only=True)
            elif action.evaluate:
                await srv.commit_evals([deployment_eval(d, srv.state.job_by_id(
                    d.Namespace, d.JobID))], leader_only=True)
            self.evaluated[d.ID] = healthy_count(d)
        return actions

    def _healthy(self, alloc_id: str) -> bool:
        alloc = self.server.state.alloc_by_id(alloc_id)
        return alloc is not None and alloc.DeploymentStatus is not None and \
            alloc.DeploymentStatus.is_healthy()
