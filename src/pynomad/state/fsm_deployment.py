"""FSM handlers for deployments (Nomad's state_store.go deployment functions): upserts from
plans, status updates (with job rollback), promotion, allocation health, and the per-group
counters kept as allocations are placed and report health. Mixed into `FSM`, whose helpers
(`_put_alloc`, `_upsert_job`, `_upsert_eval`, `_index`, `_tables`) these use.
"""

from __future__ import annotations

from msgspec.structs import replace

from ..structs import (DEPLOYMENT_STATUS_RUNNING, DEPLOYMENT_STATUS_SUCCESSFUL, DESC_RUNNING,
                       AllocDeploymentStatus, Allocation, Deployment, DeploymentStatusUpdate,
                       Job)
from ..helper.goformat import format_rfc3339, parse_rfc3339
from . import entries as e


class DeploymentFSMMixin:
    def _upsert_deployment(self, d: Deployment) -> None:
        existing = self.state.deployments.get(d.ID)
        d.CreateIndex = existing.CreateIndex if existing is not None else self._index
        d.ModifyIndex = self._index
        self.state.put_deployment(d)
        self._tables.add("deployment")

    def _apply_deployment_update(self, update: DeploymentStatusUpdate) -> None:
        d = self.state.deployments.get(update.DeploymentID)
        if d is None:
            return
        d = replace(d, Status=update.Status, StatusDescription=update.StatusDescription)
        self._upsert_deployment(d)
        if d.Status == DEPLOYMENT_STATUS_SUCCESSFUL:
            self._set_stable(d.Namespace, d.JobID, d.JobVersion, True)

    def _set_stable(self, namespace: str, job_id: str, version: int, stable: bool) -> None:
        """A successful deployment makes its job version stable (a rollback target)."""
        st, key = self.state, (namespace, job_id)
        versions = st.job_versions.get(key, [])
        for i, job in enumerate(versions):
            if (job.Version or 0) == version and bool(job.Stable) != stable:
                updated = replace(job, Stable=stable, ModifyIndex=self._index)
                versions[i] = updated
                current = st.jobs.get(key)
                if current is not None and current.Version == version:
                    st.put_job(updated)
                self._tables |= {"jobs", "job_versions"}

    def _apply_JobStability(self, entry: e.JobStability) -> None:
        self._set_stable(entry.Namespace, entry.JobID, entry.Version, entry.Stable)

    def _revert_job(self, job: Job | None, now: int) -> None:
        if job is not None:
            self._upsert_job(replace(job, Stable=False), now)

    # -- entries ------------------------------------------------------------------------
    def _apply_DeploymentStatusChange(self, entry: e.DeploymentStatusChange) -> None:
        self._apply_deployment_update(entry.Update)
        self._revert_job(entry.Job, entry.Time)
        if entry.Eval is not None:
            self._upsert_eval(entry.Eval, entry.Time)

    def _apply_DeploymentPromotion(self, entry: e.DeploymentPromotion) -> None:
        st = self.state
        d = st.deployments.get(entry.DeploymentID)
        if d is None:
            return
        groups = {name: (replace(s, Promoted=True) if entry.All or name in entry.Groups
                         else s) for name, s in d.TaskGroups.items()}
        promoted = {name for name, s in groups.items() if s.Promoted}
        d = replace(d, TaskGroups=groups)
        if d.Status == DEPLOYMENT_STATUS_RUNNING:
            d.StatusDescription = DESC_RUNNING
        self._upsert_deployment(d)
        for alloc in st.allocs_by_deployment(d):
            ds = alloc.DeploymentStatus
            if ds is not None and ds.Canary and alloc.TaskGroup in promoted:
                self._put_alloc(replace(alloc, DeploymentStatus=replace(ds, Canary=False)),
                                entry.Time, server_change=True)
        if entry.Eval is not None:
            self._upsert_eval(entry.Eval, entry.Time)

    def _apply_DeploymentAllocHealth(self, entry: e.DeploymentAllocHealth) -> None:
        st = self.state
        stamp = format_rfc3339(entry.Time)
        for ids, healthy in ((entry.HealthyAllocationIDs, True),
                             (entry.UnhealthyAllocationIDs, False)):
            for alloc_id in ids:
                alloc = st.allocs.get(alloc_id)
                if alloc is None or alloc.DeploymentID != entry.DeploymentID:
                    continue
                ds = replace(alloc.DeploymentStatus or AllocDeploymentStatus(),
                             Healthy=healthy, Timestamp=stamp, ModifyIndex=self._index)
                self._put_alloc(replace(alloc, DeploymentStatus=ds), entry.Time,
                                server_change=True)
        if entry.Update is not None:
            self._apply_deployment_update(entry.Update)
        self._revert_job(entry.Job, entry.Time)
        if entry.Eval is not None:
            self._upsert_eval(entry.Eval, entry.Time)

    # -- counters -----------------------------------------------------------------------
    def _track_deployment_alloc(self, existing: Allocation | None, alloc: Allocation) -> None:
        """Nomad's updateDeploymentWithAlloc: count placements and health transitions."""
        if not alloc.DeploymentID:
            return
        d = self.state.deployments.get(alloc.DeploymentID)
        if d is None or alloc.TaskGroup not in d.TaskGroups:
            return
        placed = healthy = unhealthy = 0
        old = existing.DeploymentStatus if existing is not None else None
        new = alloc.DeploymentStatus
        if existing is None or existing.DeploymentID != alloc.DeploymentID:
            placed = 1
        elif new is not None and new.has_health() and (old is None or not old.has_health()):
            healthy, unhealthy = (1, 0) if new.Healthy else (0, 1)
        elif old is not None and old.is_healthy() and new is not None and new.is_unhealthy():
            healthy, unhealthy = -1, 1
        if not (placed or healthy or unhealthy):
            return
        state = replace(d.TaskGroups[alloc.TaskGroup])
        state.PlacedAllocs += placed
        state.HealthyAllocs += healthy
        state.UnhealthyAllocs += unhealthy
        if placed and new is not None and new.Canary:
            state.PlacedCanaries = (state.PlacedCanaries or []) + [alloc.ID]
        if state.ProgressDeadline:
            if placed and state.RequireProgressBy.startswith("0001"):
                state.RequireProgressBy = format_rfc3339(alloc.ModifyTime + state.ProgressDeadline)
            elif healthy > 0:
                by = parse_rfc3339(new.Timestamp) + state.ProgressDeadline
                if by > parse_rfc3339(state.RequireProgressBy):
                    state.RequireProgressBy = format_rfc3339(by)
        self._upsert_deployment(replace(d, TaskGroups={**d.TaskGroups, alloc.TaskGroup: state}))


def merge_client_health(existing: AllocDeploymentStatus | None,
                        reported: AllocDeploymentStatus | None,
                        index: int) -> AllocDeploymentStatus | None:
    """A client may only set health and its timestamp (Nomad's nestedUpdateAllocFromClient)."""
    if reported is None or not reported.has_health():
        return existing
    if existing is None:
        return replace(reported, ModifyIndex=index)
    if existing.Healthy == reported.Healthy:
        return existing
    return replace(existing, Healthy=reported.Healthy, Timestamp=reported.Timestamp,
                   ModifyIndex=index)
