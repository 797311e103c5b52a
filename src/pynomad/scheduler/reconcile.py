"""The allocation reconciler for service and batch jobs (Nomad's reconcile_cluster.go).

Pure: given the job, its existing allocations, the nodes they run on and the job's latest
deployment, it decides what to stop, what to place, what to update in place (or
destructively, `update.max_parallel` at a time), which follow-up evaluations to create, and
which deployment to create or update.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import msgspec
from msgspec.structs import replace

from ..structs import (ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_FAILED, ALLOC_CLIENT_LOST,
                       DEPLOYMENT_STATUS_CANCELLED, DEPLOYMENT_STATUS_FAILED,
                       DEPLOYMENT_STATUS_PAUSED, DEPLOYMENT_STATUS_SUCCESSFUL, DESC_NEWER_JOB,
                       DESC_RUNNING, DESC_RUNNING_AUTO_PROMOTION, DESC_RUNNING_NEEDS_PROMOTION,
                       DESC_STOPPED_JOB, DESC_SUCCESSFUL, Allocation, Deployment,
                       DeploymentState, DeploymentStatusUpdate, Job, Node, TaskGroup,
                       generate_uuid)
from .reschedule import (RESCHEDULE_WINDOW_NS, reschedule_eligible, reschedule_time)

ALLOC_NOT_NEEDED = "alloc not needed due to job update"
ALLOC_UPDATING = "alloc is being updated due to job update"
ALLOC_LOST = "alloc is lost since its node is down"
ALLOC_MIGRATING = "alloc is being migrated"
ALLOC_RESCHEDULED = "alloc was rescheduled because it failed"
BATCHED_FAILED_WINDOW_NS = 5_000_000_000


RESCHEDULE, LOST, MIGRATE, MISSING, CANARY = "reschedule", "lost", "migrate", "missing", "canary"


@dataclass
class Placement:
    name: str
    tg: TaskGroup
    previous: Allocation | None = None
    reschedule: bool = False
    kind: str = MISSING


class MissingPlacements:
    """A group's missing allocation names (`job.group[i]`, i < Count, not in use), made
    one at a time as they are placed: a huge count costs nothing until the scheduler stops
    at the group's first failed placement and counts the rest as queued."""

    kind = MISSING

    def __init__(self, job_id: str, tg: TaskGroup, used: set[str]) -> None:
        self.job_id, self.tg, self.used = job_id, tg, frozenset(used)
        count = tg.Count or 0
        prefix = f"{job_id}.{tg.Name}["
        taken = sum(1 for n in self.used if n.startswith(prefix) and n.endswith("]")
                    and n[len(prefix):-1].isdigit() and int(n[len(prefix):-1]) < count)
        self._len = max(0, count - taken)

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Placement]:
        for i in range(self.tg.Count or 0):
            name = f"{self.job_id}.{self.tg.Name}[{i}]"
            if name not in self.used:
                yield Placement(name, self.tg)


@dataclass
class Stop:
    alloc: Allocation
    desc: str
    client_status: str = ""


@dataclass
class Results:
    # placements; a group's missing names come as one lazy MissingPlacements block
    place: list[Placement | MissingPlacements] = field(default_factory=list)
    stop: list[Stop] = field(default_factory=list)
    inplace: list[Allocation] = field(default_factory=list)
    destructive: list[tuple[Allocation, TaskGroup]] = field(default_factory=list)
    reschedule_later: list[tuple[Allocation, int]] = field(default_factory=list)
    desired: dict[str, dict[str, int]] = field(default_factory=dict)
    deployment: Deployment | None = None  # created by this evaluation
    deployment_updates: list[DeploymentStatusUpdate] = field(default_factory=list)
    active_deployment: Deployment | None = None  # what placements and in-place updates join


class AllocReconciler:
    def __init__(self, job: Job | None, job_id: str, batch: bool, allocs: list[Allocation],
                 nodes: dict[str, Node | None], now: int,
                 deployment: Deployment | None = None, eval_priority: int = 50) -> None:
        self.job = job
        self.job_id = job_id
        self.batch = batch
        self.allocs = allocs
        self.nodes = nodes
        self.now = now
        self.deployment = deployment
        self.old_deployment: Deployment | None = None
        self.eval_priority = eval_priority
        self.results = Results()

    def compute(self) -> Results:
        by_group: dict[str, list[Allocation]] = {}
        for a in self.allocs:
            by_group.setdefault(a.TaskGroup, []).append(a)
        stopped = self.job is None or bool(self.job.Stop)
        self._cancel_unneeded_deployment(stopped)
        groups = {tg.Name: tg for tg in (self.job.TaskGroups or ())} if self.job else {}
        complete = True
        for name in sorted(set(by_group) | set(groups)):
            tg = None if stopped else groups.get(name)
            complete &= self._compute_group(name, tg, by_group.get(name, []))
        self._compute_deployment_updates(complete)
        return self.results

    # -- deployments ----------------------------------------------------------------------
    def _cancel_unneeded_deployment(self, stopped: bool) -> None:
        """Nomad's cancelUnneededDeployments: a stopped job or a newer job version ends the
        active deployment; a finished one is no longer current."""
        d = self.deployment
        if d is None:
            return
        if stopped or d.JobCreateIndex != self.job.CreateIndex or d.JobVersion != self.job.Version:
            if d.active():
                self.results.deployment_updates.append(DeploymentStatusUpdate(
                    DeploymentID=d.ID, Status=DEPLOYMENT_STATUS_CANCELLED,
                    StatusDescription=DESC_STOPPED_JOB if stopped else DESC_NEWER_JOB))
            self.old_deployment, self.deployment = d, None
        elif d.Status == DEPLOYMENT_STATUS_SUCCESSFUL:
            self.old_deployment, self.deployment = d, None

    @property
    def _deployment_paused(self) -> bool:
        return self.deployment is not None and self.deployment.Status == DEPLOYMENT_STATUS_PAUSED

    @property
    def _deployment_failed(self) -> bool:
        return self.deployment is not None and self.deployment.Status == DEPLOYMENT_STATUS_FAILED

    def _group_deployment_state(self, tg: TaskGroup) -> tuple[DeploymentState, bool]:
        existing = self.deployment.TaskGroups.get(tg.Name) if self.deployment else None
        if existing is not None:
            return replace(existing), True
        u = tg.Update
        return DeploymentState(AutoRevert=bool(u and u.AutoRevert),
                               AutoPromote=bool(u and u.AutoPromote),
                               ProgressDeadline=(u.ProgressDeadline or 0) if u else 0), False

    def _create_deployment(self, tg: TaskGroup, dstate: DeploymentState, allocs, destructive,
                           inplace) -> None:
        """Nomad's createDeployment: a group joins a new deployment when the job version is
        new to it (nothing of this version ran) or its spec changed."""
        if not _has_update(tg) or dstate.DesiredTotal == 0:
            return
        job = self.job
        had_running = any(a.Job is not None and a.Job.Version == job.Version
                          and a.Job.CreateIndex == job.CreateIndex for a in allocs)
        if had_running and not (destructive or inplace):
            return
        if self.deployment is None:
            self.deployment = self.results.deployment = Deployment(
                ID=generate_uuid(), Namespace=job.Namespace, JobID=job.ID,
                JobVersion=job.Version or 0, JobModifyIndex=job.ModifyIndex,
                JobSpecModifyIndex=job.JobModifyIndex, JobCreateIndex=job.CreateIndex,
                StatusDescription=DESC_RUNNING, EvalPriority=self.eval_priority, TaskGroups={})
        self.deployment.TaskGroups[tg.Name] = dstate

    def _compute_deployment_updates(self, complete: bool) -> None:
        d = self.deployment
        if d is not None and d.active() and complete and self.results.deployment is None:
            self.results.deployment_updates.append(DeploymentStatusUpdate(
                DeploymentID=d.ID, Status=DEPLOYMENT_STATUS_SUCCESSFUL,
                StatusDescription=DESC_SUCCESSFUL))
        if d is not None and d.active():
            self.results.active_deployment = d
        created = self.results.deployment
        if created is not None and created.requires_promotion():
            created.StatusDescription = DESC_RUNNING_AUTO_PROMOTION if \
                created.has_auto_promote() else DESC_RUNNING_NEEDS_PROMOTION

    def _deployment_complete(self, name: str, pending: int) -> bool:
        """Nothing left to do for the group, its canaries are promoted and enough of its
        allocs are healthy."""
        if pending or self.deployment is None:
            return False
        dstate = self.deployment.TaskGroups.get(name)
        if dstate is None:
            return True
        if dstate.DesiredCanaries and not dstate.Promoted:
            return False
        return dstate.HealthyAllocs >= max(dstate.DesiredTotal, dstate.DesiredCanaries)

    # -- canaries -------------------------------------------------------------------------
    def _cancel_unneeded_canaries(self, allocs: list[Allocation], desired) -> list[Allocation]:
        """Stop unpromoted canaries of a replaced or failed deployment."""
        stale = set()
        for d in (self.old_deployment, self.deployment if self._deployment_failed else None):
            for dstate in (d.TaskGroups.values() if d is not None else ()):
                if not dstate.Promoted:
                    stale.update(dstate.PlacedCanaries or ())
        keep = []
        for a in allocs:
            if a.ID in stale and not a.terminal():
                self.results.stop.append(Stop(a, ALLOC_NOT_NEEDED))
                desired["Stop"] += 1
            else:
                keep.append(a)
        return keep

    def _canary_ids(self, allocs: list[Allocation], dstate: DeploymentState) -> set[str]:
        placed = set(dstate.PlacedCanaries or ()) if self.deployment is not None else set()
        return {a.ID for a in allocs if a.ID in placed and not a.terminal()}

    def _place_canaries(self, tg: TaskGroup, dstate: DeploymentState, canaries: set[str],
                        allocs, destructive, desired) -> bool:
        """Nomad's requiresCanaries/computeCanaries: with destructive changes pending and
        fewer canaries than `update.canary`, place the missing ones (named after the allocs
        they will replace). Returns whether canaries are still required."""
        wanted = (tg.Update.Canary or 0) if tg.Update else 0
        if not destructive or len(canaries) >= wanted or dstate.Promoted:
            return False
        dstate.DesiredCanaries = wanted
        if self._deployment_paused or self._deployment_failed:
            return True
        taken = {a.Name for a in allocs if a.ID in canaries}
        names = itertools.chain(
            (a.Name for a, _ in sorted(destructive, key=lambda d: d[0].index())),
            (f"{self.job_id}.{tg.Name}[{i}]" for i in range(tg.Count or 0)))
        for name in names:
            if len(taken) >= wanted:
                break
            if name in taken:
                continue
            taken.add(name)
            self.results.place.append(Placement(name, tg, kind=CANARY))
            desired["Canary"] += 1
        return True

    def _under_provisioned_by(self, tg: TaskGroup, untainted: list[Allocation],
                              destructive: list, migrate: list, canarying: bool) -> int:
        """Nomad's computeUnderProvisionedBy: how many destructive updates may start now."""
        if not _has_update(tg) or not (destructive or migrate):
            return tg.Count or 0
        if self.deployment is None:
            return tg.Update.MaxParallel or 0
        if self._deployment_paused or self._deployment_failed or canarying:
            return 0
        left = tg.Update.MaxParallel or 0
        for a in untainted:
            if a.DeploymentID != self.deployment.ID or a.terminal():
                continue
            ds = a.DeploymentStatus
            if ds is not None and ds.is_unhealthy():
                return 0
            if ds is None or not ds.is_healthy():
                left -= 1
        return max(left, 0)

    def _desired(self, group: str) -> dict[str, int]:
        return self.results.desired.setdefault(group, {
            "Ignore": 0, "Place": 0, "Migrate": 0, "Stop": 0, "InPlaceUpdate": 0,
            "DestructiveUpdate": 0, "Canary": 0, "Preemptions": 0})

    def _compute_group(self, name: str, tg: TaskGroup | None, allocs: list[Allocation]) -> bool:
        """Reconcile one group; returns whether its part of the deployment is complete."""
        desired = self._desired(name)
        if tg is None or tg.Count == 0:
            live = [a for a in allocs if not a.terminal()]
            for a in live:
                self.results.stop.append(Stop(a, ALLOC_NOT_NEEDED))
            desired["Stop"] += len(live)
            return True
        dstate, existing = self._group_deployment_state(tg)
        allocs = self._cancel_unneeded_canaries(allocs, desired)
        canaries = self._canary_ids(allocs, dstate)
        canarying = bool(dstate.DesiredCanaries) and not dstate.Promoted
        untainted, lost, migrate = self._filter_by_tainted(allocs)
        if canarying:
            untainted = [a for a in untainted if a.ID not in canaries]
        untainted, now, later = self._filter_by_reschedulable(untainted, tg)
        for a in lost:
            self.results.stop.append(Stop(a, ALLOC_LOST, ALLOC_CLIENT_LOST))
        for a in migrate:
            self.results.stop.append(Stop(a, ALLOC_MIGRATING))
        desired["Stop"] += len(lost)
        desired["Migrate"] += len(migrate)
        self.results.reschedule_later += [(a, when) for a, when in later if not a.FollowupEvalID]
        keep = self._stop_excess(untainted, now, tg, desired, canaries)
        inplace, destructive = self._compute_updates(keep, tg, desired)
        self.results.inplace += inplace
        place, missing = self._compute_placements(tg, keep, now, lost, migrate)
        if not existing:
            dstate.DesiredTotal += len(destructive) + len(inplace) + len(missing) + sum(
                1 for p in place if p.kind != MIGRATE)
        needs_canaries = self._place_canaries(tg, dstate, canaries, allocs, destructive, desired)
        canarying = bool(dstate.DesiredCanaries) and not dstate.Promoted
        under = self._under_provisioned_by(tg, keep, destructive, migrate, canarying)
        under -= min(under, self._place(place, missing, desired, canarying))
        self._destructive_updates(destructive, 0 if canarying else under, desired)
        self._create_deployment(tg, dstate, allocs, destructive, inplace)
        pending = len(destructive) + len(inplace) + len(place) + len(missing) + len(now) + \
            len(later) + needs_canaries
        return self._deployment_complete(name, pending)

    def _compute_placements(self, tg: TaskGroup, keep, now, lost, migrate
                            ) -> tuple[list[Placement], MissingPlacements]:
        """Replacements for failed, lost and migrating allocs, then the missing names."""
        place: list[Placement] = []
        used = {a.Name for a in keep}
        for kind, prevs in ((RESCHEDULE, now), (LOST, lost), (MIGRATE, migrate)):
            for a in prevs:
                if a.Name not in used:
                    used.add(a.Name)
                    place.append(Placement(a.Name, tg, a, reschedule=kind == RESCHEDULE,
                                           kind=kind))
        return place, MissingPlacements(self.job_id, tg, used)

    def _place(self, place: list[Placement], missing: MissingPlacements, desired,
               canarying: bool) -> int:
        """Nomad's computeReplacements: everything when the deployment allows placements;
        otherwise only replacements of lost, migrating and failed allocs (not those of a
        failed deployment). Returns how many non-migration placements were made."""
        ready = not (self._deployment_paused or self._deployment_failed or canarying)
        placed = 0
        for p in place:
            if not ready and not self._replace_anyway(p):
                continue
            self.results.place.append(p)
            if p.reschedule:
                self.results.stop.append(Stop(p.previous, ALLOC_RESCHEDULED))
            if p.kind != MIGRATE:
                desired["Place"] += 1
                placed += 1
        if ready and len(missing):
            self.results.place.append(missing)
            desired["Place"] += len(missing)
            placed += len(missing)
        return placed

    def _replace_anyway(self, p: Placement) -> bool:
        if p.kind in (LOST, MIGRATE):
            return True
        return p.reschedule and not (self._deployment_failed
                                     and p.previous.DeploymentID == self.deployment.ID)

    def _destructive_updates(self, destructive, under: int, desired) -> None:
        """Replace at most `under` allocs of an older version, lowest names first."""
        if self._deployment_paused or self._deployment_failed:
            under = 0
        n = min(len(destructive), under)
        self.results.destructive += sorted(destructive, key=lambda d: d[0].index())[:n]
        desired["DestructiveUpdate"] += n
        desired["Ignore"] += len(destructive) - n

    def _filter_by_tainted(self, allocs):
        untainted, lost, migrate = [], [], []
        for a in allocs:
            if a.terminal():
                untainted.append(a)
                continue
            node = self.nodes.get(a.NodeID)
            if node is None or node.Status == "down":
                lost.append(a)
            elif a.DesiredTransition.Migrate:
                migrate.append(a)
            else:
                untainted.append(a)
        return untainted, lost, migrate

    def _filter_by_reschedulable(self, allocs, tg: TaskGroup):
        """Split failed allocs into reschedule-now and -later (those stay untainted too);
        drop ignorable ones."""
        untainted, now, later = [], [], []
        for a in allocs:
            keep, ignore = self._should_filter(a)
            if keep:
                untainted.append(a)
                continue
            if ignore:
                continue
            if a.NextAllocation or not reschedule_eligible(tg.ReschedulePolicy, a, self.now):
                untainted.append(a)
                continue
            when = reschedule_time(tg.ReschedulePolicy, a)
            if when <= self.now + RESCHEDULE_WINDOW_NS or a.DesiredTransition.ForceReschedule:
                now.append(a)
            else:
                untainted.append(a)
                later.append((a, when))
        return untainted, now, later

    def _should_filter(self, a: Allocation) -> tuple[bool, bool]:
        """Nomad's shouldFilter: (counts as untainted, ignore entirely)."""
        if self.batch:
            if a.server_terminal():
                return (True, False) if _ran_successfully(a) else (False, True)
            return (a.ClientStatus != ALLOC_CLIENT_FAILED, False)
        if a.server_terminal():
            return False, True
        if a.ClientStatus in (ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_LOST):
            return False, True
        return (a.ClientStatus != ALLOC_CLIENT_FAILED, False)

    def _stop_excess(self, untainted, now, tg: TaskGroup, desired,
                     canaries: set[str]) -> list[Allocation]:
        """Keep at most `count` allocs (lowest name indexes; a promoted canary wins over
        the older alloc of the same name), stop the rest."""
        live = sorted(untainted, key=lambda a: (a.terminal(), a.index(), a.ID not in canaries))
        count = tg.Count or 0
        budget = count - len(now)
        keep, seen = [], set()
        for a in live:
            if a.terminal():
                if a.Name not in seen and len(keep) < count:
                    keep.append(a)
                    seen.add(a.Name)
                continue
            if len(keep) < budget and a.Name not in seen and a.index() < count:
                keep.append(a)
                seen.add(a.Name)
            else:
                self.results.stop.append(Stop(a, ALLOC_NOT_NEEDED))
                desired["Stop"] += 1
        return keep

    def _compute_updates(self, keep, tg: TaskGroup, desired):
        """Split allocs of an older job version into in-place and destructive updates."""
        inplace, destructive = [], []
        for a in keep:
            if a.terminal() or a.Job is None or a.Job.JobModifyIndex == self.job.JobModifyIndex:
                desired["Ignore"] += 1
                continue
            old_tg = a.Job.lookup_task_group(tg.Name)
            if old_tg is None or tasks_updated(old_tg, tg):
                destructive.append((a, tg))
            else:
                inplace.append(a)
                desired["InPlaceUpdate"] += 1
        return inplace, destructive


def _has_update(tg: TaskGroup) -> bool:
    """Whether the group rolls out through deployments (Nomad's !UpdateStrategy.IsEmpty)."""
    return tg.Update is not None and bool(tg.Update.MaxParallel)


def _ran_successfully(a: Allocation) -> bool:
    states = a.TaskStates or {}
    return bool(states) and all(ts.State == "dead" and not ts.Failed for ts in states.values())


_IGNORED_TASK_FIELDS = ("Services", "Constraints", "Affinities", "RestartPolicy",
                        "ScalingPolicies", "KillTimeout", "ShutdownDelay")


def tasks_updated(a: TaskGroup, b: TaskGroup) -> bool:
    """Whether the change between two versions of a group needs new allocations."""
    if len(a.Tasks or ()) != len(b.Tasks or ()):
        return True
    if (_enc(a.Networks), _enc(a.EphemeralDisk), _enc(a.Volumes)) != \
            (_enc(b.Networks), _enc(b.EphemeralDisk), _enc(b.Volumes)):
        return True
    tb = {t.Name: t for t in b.Tasks or ()}
    for ta in a.Tasks or ():
        other = tb.get(ta.Name)
        if other is None or _task_key(ta) != _task_key(other):
            return True
    return False


def _task_key(task) -> bytes:
    fields = {f: getattr(task, f) for f in task.__struct_fields__ if f not in _IGNORED_TASK_FIELDS}
    return msgspec.msgpack.encode(fields)


def _enc(obj) -> bytes:
    return msgspec.msgpack.encode(obj)
