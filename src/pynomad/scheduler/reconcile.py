"""The allocation reconciler for service and batch jobs (Nomad's reconcile_cluster.go).

Pure: given the job, its existing allocations and the nodes they run on, it decides what to
stop, what to place, what to update in place and which follow-up evaluations to create.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from ..structs import (ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_FAILED, ALLOC_CLIENT_LOST,
                       Allocation, Job, Node, TaskGroup)
from .reschedule import (RESCHEDULE_WINDOW_NS, reschedule_eligible, reschedule_time)

ALLOC_NOT_NEEDED = "alloc not needed due to job update"
ALLOC_UPDATING = "alloc is being updated due to job update"
ALLOC_LOST = "alloc is lost since its node is down"
ALLOC_MIGRATING = "alloc is being migrated"
ALLOC_RESCHEDULED = "alloc was rescheduled because it failed"
BATCHED_FAILED_WINDOW_NS = 5_000_000_000


@dataclass
class Placement:
    name: str
    tg: TaskGroup
    previous: Allocation | None = None
    reschedule: bool = False


@dataclass
class Stop:
    alloc: Allocation
    desc: str
    client_status: str = ""


@dataclass
class Results:
    place: list[Placement] = field(default_factory=list)
    stop: list[Stop] = field(default_factory=list)
    inplace: list[Allocation] = field(default_factory=list)
    destructive: list[tuple[Allocation, TaskGroup]] = field(default_factory=list)
    reschedule_later: list[tuple[Allocation, int]] = field(default_factory=list)
    desired: dict[str, dict[str, int]] = field(default_factory=dict)


class AllocReconciler:
    def __init__(self, job: Job | None, job_id: str, batch: bool, allocs: list[Allocation],
                 nodes: dict[str, Node | None], now: int) -> None:
        self.job = job
        self.job_id = job_id
        self.batch = batch
        self.allocs = allocs
        self.nodes = nodes
        self.now = now
        self.results = Results()

    def compute(self) -> Results:
        by_group: dict[str, list[Allocation]] = {}
        for a in self.allocs:
            by_group.setdefault(a.TaskGroup, []).append(a)
        stopped = self.job is None or bool(self.job.Stop)
        groups = {tg.Name: tg for tg in (self.job.TaskGroups or ())} if self.job else {}
        for name in sorted(set(by_group) | set(groups)):
            tg = None if stopped else groups.get(name)
            self._compute_group(name, tg, by_group.get(name, []))
        return self.results

    def _desired(self, group: str) -> dict[str, int]:
        return self.results.desired.setdefault(group, {
            "Ignore": 0, "Place": 0, "Migrate": 0, "Stop": 0, "InPlaceUpdate": 0,
            "DestructiveUpdate": 0, "Canary": 0, "Preemptions": 0})

    def _compute_group(self, name: str, tg: TaskGroup | None, allocs: list[Allocation]) -> None:
        desired = self._desired(name)
        if tg is None or tg.Count == 0:
            live = [a for a in allocs if not a.terminal()]
            for a in live:
                self.results.stop.append(Stop(a, ALLOC_NOT_NEEDED))
            desired["Stop"] += len(live)
            return
        untainted, lost, migrate = self._filter_by_tainted(allocs)
        untainted, now, later = self._filter_by_reschedulable(untainted, tg)
        for a in lost:
            self.results.stop.append(Stop(a, ALLOC_LOST, ALLOC_CLIENT_LOST))
        for a in migrate:
            self.results.stop.append(Stop(a, ALLOC_MIGRATING))
        desired["Stop"] += len(lost)
        desired["Migrate"] += len(migrate)
        self.results.reschedule_later += later
        keep = self._stop_excess(untainted, now, tg, desired)
        self._compute_updates(keep, tg, desired)
        used = {a.Name for a in keep}
        for a in now:
            if a.Name not in used:
                used.add(a.Name)
                self.results.stop.append(Stop(a, ALLOC_RESCHEDULED))
                self.results.place.append(Placement(a.Name, tg, a, reschedule=True))
        for a in lost + migrate:
            if a.Name not in used:
                used.add(a.Name)
                self.results.place.append(Placement(a.Name, tg, a))
        for i in range(tg.Count or 0):
            nm = f"{self.job_id}.{tg.Name}[{i}]"
            if nm not in used:
                used.add(nm)
                self.results.place.append(Placement(nm, tg))
        desired["Place"] += sum(1 for p in self.results.place if p.tg is tg)

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
        """Split failed allocs into reschedule-now and -later; drop ignorable ones."""
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
                if not a.FollowupEvalID:
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

    def _stop_excess(self, untainted, now, tg: TaskGroup, desired) -> list[Allocation]:
        """Keep at most `count` allocs (lowest name indexes), stop the rest."""
        live = sorted(untainted, key=lambda a: (a.terminal(), a.index()))
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

    def _compute_updates(self, keep, tg: TaskGroup, desired) -> None:
        for a in keep:
            if a.terminal() or a.Job is None or a.Job.JobModifyIndex == self.job.JobModifyIndex:
                desired["Ignore"] += 1
                continue
            old_tg = a.Job.lookup_task_group(tg.Name)
            if old_tg is None or tasks_updated(old_tg, tg):
                self.results.destructive.append((a, tg))
                desired["DestructiveUpdate"] += 1
            else:
                self.results.inplace.append(a)
                desired["InPlaceUpdate"] += 1


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
