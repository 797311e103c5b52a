"""Preemption (Nomad's preemption.go): which lower-priority allocations to evict from a
node so a task group's cpu/memory/disk ask fits.

Only allocations of other jobs whose priority is at least 10 below the placing job's are
candidates. Candidates are taken lowest priority first; within a priority, the one whose
resources are closest to what is still needed (Euclidean distance over memory, cpu and
disk, plus a penalty of 50 per allocation beyond its group's migrate max_parallel already
being preempted) is taken until the ask fits. A second pass drops allocations the ask
doesn't need.
"""

from __future__ import annotations

import math

from ..structs import Allocation, Node, node_capacity
from .context import EvalContext

PRIORITY_GAP = 10
MAX_PARALLEL_PENALTY = 50.0

Res = tuple[int, int, int]  # cpu, memory, disk


def alloc_resources(alloc: Allocation) -> Res:
    ar = alloc.AllocatedResources
    if ar is None:
        return 0, 0, 0
    cpu = mem = 0
    for task in (ar.Tasks or {}).values():
        if task.Cpu is not None:
            cpu += task.Cpu.CpuShares
        if task.Memory is not None:
            mem += task.Memory.MemoryMB
    return cpu, mem, ar.Shared.DiskMB if ar.Shared is not None else 0


def distance(ask: Res, used: Res) -> float:
    """Nomad's basicResourceDistance: how far `used` is from covering `ask`."""
    coords = [(a - u) / a if a > 0 else 0.0 for a, u in zip((ask[1], ask[0], ask[2]),
                                                           (used[1], used[0], used[2]))]
    return math.sqrt(sum(c * c for c in coords))


def _superset(have: list[int], ask: Res) -> bool:
    return have[0] >= ask[0] and have[1] >= ask[1] and have[2] >= ask[2]


def _max_parallel(alloc: Allocation) -> int:
    job = alloc.Job
    tg = job.lookup_task_group(alloc.TaskGroup) if job is not None else None
    if tg is None or tg.Migrate is None:
        return 0
    return tg.Migrate.MaxParallel or 0


class Preemptor:
    """Finds the allocations to evict on one node for one placement."""

    def __init__(self, ctx: EvalContext, namespace: str, job_id: str, priority: int) -> None:
        self.ctx = ctx
        self.namespace = namespace
        self.job_id = job_id
        self.priority = priority

    def candidates(self, proposed: list[Allocation]) -> list[Allocation]:
        """Allocations of other jobs at least PRIORITY_GAP below the placing job."""
        out = []
        for a in proposed:
            if a.JobID == self.job_id and a.Namespace == self.namespace:
                continue
            if a.Job is None or self.priority - (a.Job.Priority or 0) < PRIORITY_GAP:
                continue
            out.append(a)
        return out

    def preempt_for_ask(self, node: Node, proposed: list[Allocation],
                        ask: Res) -> list[Allocation] | None:
        """The allocations to evict so `ask` fits next to what stays, or None."""
        cap = node_capacity(node)
        remaining = list(cap)
        for a in proposed:
            res = alloc_resources(a)
            remaining = [r - u for r, u in zip(remaining, res)]
        chosen = self._choose(self.candidates(proposed), list(remaining), ask)
        if chosen is None:
            return None
        return self._drop_unneeded(chosen, remaining, ask)

    def _choose(self, candidates: list[Allocation], available: list[int],
                ask: Res) -> list[Allocation] | None:
        by_priority: dict[int, list[Allocation]] = {}
        for a in candidates:
            by_priority.setdefault(a.Job.Priority or 0, []).append(a)
        needed = list(ask)
        chosen: list[Allocation] = []
        for prio in sorted(by_priority):
            group = by_priority[prio]
            while group:
                best = min(range(len(group)), key=lambda i: self._score(needed, group[i]))
                alloc = group.pop(best)
                res = alloc_resources(alloc)
                available = [v + r for v, r in zip(available, res)]
                needed = [n - r for n, r in zip(needed, res)]
                chosen.append(alloc)
                if _superset(available, ask):
                    return chosen
        return None

    def _score(self, needed: list[int], alloc: Allocation) -> float:
        penalty = 0.0
        max_parallel = _max_parallel(alloc)
        count = self.ctx.preempted_count(alloc)
        if max_parallel > 0 and count >= max_parallel:
            penalty = (count + 1 - max_parallel) * MAX_PARALLEL_PENALTY
        return distance(tuple(needed), alloc_resources(alloc)) + penalty

    @staticmethod
    def _drop_unneeded(chosen: list[Allocation], remaining: list[int],
                       ask: Res) -> list[Allocation]:
        """Nomad's filterSuperset: farthest-first, stop once the ask is covered."""
        ordered = sorted(chosen, key=lambda a: distance(ask, alloc_resources(a)), reverse=True)
        out: list[Allocation] = []
        available = list(remaining)
        for a in ordered:
            out.append(a)
            available = [v + r for v, r in zip(available, alloc_resources(a))]
            if _superset(available, ask):
                break
        return out

    def preempt_for_ports(self, proposed: list[Allocation],
                          ports: set[int]) -> list[Allocation] | None:
        """The allocations holding the wanted static ports, if all of them may be evicted."""
        holders: dict[str, Allocation] = {}
        allowed = {a.ID for a in self.candidates(proposed)}
        for a in proposed:
            ar = a.AllocatedResources
            held = {p.Value for p in (ar.Shared.Ports or ())} if ar and ar.Shared else set()
            if held & ports:
                if a.ID not in allowed:
                    return None
                holders[a.ID] = a
        return list(holders.values()) or None
