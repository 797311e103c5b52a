"""Deployment writes (Nomad's Deployment RPC endpoint): pause/resume, promote, fail and
set allocation health. Each returns the reply `/v1/deployment/...` sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..state import entries as e
from ..structs import (DEPLOYMENT_STATUS_PAUSED, DEPLOYMENT_STATUS_RUNNING, DESC_FAILED_BY_USER,
                       DESC_FAILED_ALLOCATIONS, DESC_PAUSED, DESC_RUNNING,
                       DESC_RUNNING_AUTO_PROMOTION, DESC_RUNNING_NEEDS_PROMOTION, Deployment,
                       DeploymentStatusUpdate)
from .deployment_watcher import deployment_eval, fail_entry
from .errors import BadRequest, NotFound

if TYPE_CHECKING:
    from .server import Server


class DeploymentEndpoint:
    def __init__(self, server: "Server") -> None:
        self.server = server

    def _active(self, deployment_id: str, action: str) -> Deployment:
        d = self.server.state.deployment_by_id(deployment_id)
        if d is None:
            raise NotFound("deployment not found")
        if not d.active():
            raise BadRequest(f"can't {action} terminal deployment")
        return d

    async def _commit(self, entry, d: Deployment, **extra) -> dict:
        index = await self.server.commit(entry)
        reply = {"DeploymentModifyIndex": index, "Index": index, **extra}
        ev = getattr(entry, "Eval", None)
        if ev is not None:
            reply.update(EvalID=ev.ID, EvalCreateIndex=index)
        return reply

    async def pause(self, deployment_id: str, pause: bool) -> dict:
        d = self._active(deployment_id, "pause" if pause else "resume")
        if pause:
            update = DeploymentStatusUpdate(DeploymentID=d.ID, Status=DEPLOYMENT_STATUS_PAUSED,
                                            StatusDescription=DESC_PAUSED)
            return await self._commit(e.DeploymentStatusChange(Update=update), d)
        update = DeploymentStatusUpdate(DeploymentID=d.ID, Status=DEPLOYMENT_STATUS_RUNNING,
                                        StatusDescription=_running_description(d))
        return await self._commit(e.DeploymentStatusChange(
            Update=update, Eval=deployment_eval(d, self._job(d))), d)

    async def promote(self, deployment_id: str, all_groups: bool, groups: list[str]) -> dict:
        d = self._active(deployment_id, "promote")
        chosen = [name for name, s in d.TaskGroups.items()
                  if s.DesiredCanaries > 0 and (all_groups or name in groups)]
        if not chosen:
            raise BadRequest("no canaries to promote")
        for name in chosen:
            healthy = self._healthy_canaries(d, name)
            wanted = d.TaskGroups[name].DesiredCanaries
            if healthy < wanted:
                raise BadRequest(f"Task group {name!r} has {healthy}/{wanted} healthy allocations")
        return await self._commit(e.DeploymentPromotion(
            DeploymentID=d.ID, All=all_groups, Groups=chosen,
            Eval=deployment_eval(d, self._job(d))), d)

    async def fail(self, deployment_id: str) -> dict:
        d = self._active(deployment_id, "fail")
        revert = any(s.AutoRevert for s in d.TaskGroups.values())
        entry = fail_entry(self.server.state, d, DESC_FAILED_BY_USER, revert)
        extra = {"RevertedJobVersion": entry.Job.Version} if entry.Job is not None else {}
        return await self._commit(entry, d, **extra)

    async def set_alloc_health(self, deployment_id: str, healthy: list[str],
                               unhealthy: list[str]) -> dict:
        d = self._active(deployment_id, "set health of allocations for a")
        if not healthy and not unhealthy:
            raise BadRequest("must specify at least one healthy/unhealthy allocation ID")
        state = self.server.state
        for alloc_id in [*healthy, *unhealthy]:
            alloc = state.alloc_by_id(alloc_id)
            if alloc is None or alloc.DeploymentID != d.ID:
                raise BadRequest(f"Allocation {alloc_id!r} is not part of the deployment")
        entry = e.DeploymentAllocHealth(DeploymentID=d.ID, HealthyAllocationIDs=healthy,
                                        UnhealthyAllocationIDs=unhealthy,
                                        Eval=deployment_eval(d, self._job(d)))
        extra = {}
        if unhealthy:
            groups = {state.alloc_by_id(i).TaskGroup for i in unhealthy}
            revert = any(d.TaskGroups[g].AutoRevert for g in groups if g in d.TaskGroups)
            failed = fail_entry(state, d, DESC_FAILED_ALLOCATIONS, revert)
            entry.Update, entry.Job = failed.Update, failed.Job
            if failed.Job is not None:
                extra["RevertedJobVersion"] = failed.Job.Version
        return await self._commit(entry, d, **extra)

    def _job(self, d: Deployment):
        return self.server.state.job_by_id(d.Namespace, d.JobID)

    def _healthy_canaries(self, d: Deployment, group: str) -> int:
        placed = set(d.TaskGroups[group].PlacedCanaries or ())
        return sum(1 for a in self.server.state.allocs_by_deployment(d)
                   if a.ID in placed and a.DeploymentStatus is not None
                   and a.DeploymentStatus.is_healthy())


def _running_description(d: Deployment) -> str:
    if d.requires_promotion():
        return DESC_RUNNING_AUTO_PROMOTION if d.has_auto_promote() else \
            DESC_RUNNING_NEEDS_PROMOTION
    return DESC_RUNNING
