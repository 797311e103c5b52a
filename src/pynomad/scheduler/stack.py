"""The placement stack: feasibility (cached per computed class) → fit → score → limit → max.

Follows Nomad's GenericStack: nodes are shuffled once per evaluation and visited in a
rotating order; each selection scores at most `limit` feasible nodes and picks the best.
"""

from __future__ import annotations

import math
import time

from ..structs import (AllocatedCpuResources, AllocatedMemoryResources, AllocatedResources,
                       AllocatedSharedResources, AllocatedTaskResources, Resources,
                       AllocMetric, Comparable, Constraint, Job, Node, NodeScoreMeta,
                       TaskGroup, fits, score_fit)
from ..structs.funcs import BINPACK_MAX_FIT_SCORE
from .context import EvalContext
from .feasible import escapes_class, has_driver, meets_constraint
from .ports import assign_ports

SKIP_SCORE_THRESHOLD = 0.0
MAX_SKIP = 3


class Option:
    """A ranked candidate node with the resources that would be allocated on it."""

    __slots__ = ("node", "scores", "final", "resources")

    def __init__(self, node: Node, scores: dict[str, float], resources: AllocatedResources):
        self.node = node
        self.scores = scores
        self.final = sum(scores.values()) / len(scores)
        self.resources = resources


class GenericStack:
    """Selects a node for one placement of a task group (service and batch jobs)."""

    def __init__(self, ctx: EvalContext, job: Job, nodes: list[Node], batch: bool,
                 algorithm: str = "binpack") -> None:
        self.ctx = ctx
        self.job = job
        self.nodes = list(nodes)
        ctx.rng.shuffle(self.nodes)
        self.offset = 0
        self.algorithm = algorithm
        n = len(self.nodes)
        self.limit = 2 if batch else max(2, math.ceil(math.log2(n))) if n > 1 else 2

    def select(self, tg: TaskGroup, metric: AllocMetric, penalty_nodes: set[str] = frozenset()
               ) -> Option | None:
        start = time.perf_counter_ns()
        constraints = _group_constraints(self.job, tg)
        drivers = sorted({t.Driver for t in tg.Tasks or ()})
        escaped = escapes_class(constraints)
        distinct_job, distinct_tg = _distinct_hosts(self.job, tg)
        options: list[Option] = []
        skipped: list[Option] = []
        n = len(self.nodes)
        for _ in range(n):
            node = self.nodes[self.offset]
            self.offset = (self.offset + 1) % n
            metric.NodesEvaluated += 1
            reason = self._infeasible(node, tg, constraints, drivers, escaped)
            if reason is None and (distinct_job or distinct_tg):
                reason = self._distinct_conflict(node, tg, distinct_job)
            if reason is not None:
                metric.NodesFiltered += 1
                _bump(metric, "ConstraintFiltered", reason)
                _bump(metric, "ClassFiltered", node.NodeClass or "")
                continue
            option = self._rank(node, tg, metric, penalty_nodes)
            if option is None:
                continue
            if option.final <= SKIP_SCORE_THRESHOLD and len(skipped) < MAX_SKIP:
                skipped.append(option)
                continue
            options.append(option)
            if len(options) >= self.limit:
                break
        options = options or skipped
        metric.AllocationTime += time.perf_counter_ns() - start
        if not options:
            return None
        best = max(options, key=lambda o: o.final)
        _record_scores(metric, options)
        return best

    def _infeasible(self, node: Node, tg: TaskGroup, constraints: list[Constraint],
                    drivers: list[str], escaped: bool) -> str | None:
        key = (node.ComputedClass, tg.Name)
        if not escaped and key in self.ctx.class_cache:
            if self.ctx.class_cache[key]:
                return None
        for d in drivers:
            if not has_driver(node, d):
                reason = "missing drivers"
                break
        else:
            reason = next((_constraint_str(c) for c in constraints
                           if not meets_constraint(c, node)), None)
        if not escaped:
            self.ctx.class_cache[key] = reason is None
        return reason

    def _distinct_conflict(self, node: Node, tg: TaskGroup, whole_job: bool) -> str | None:
        if whole_job:
            taken = self.ctx.job_allocs_on(node.ID, self.job.ID) > 0
        else:
            taken = self.ctx.collisions(node.ID, self.job.ID, tg.Name) > 0
        return "distinct_hosts" if taken else None

    def _rank(self, node: Node, tg: TaskGroup, metric: AllocMetric,
              penalty_nodes: set[str]) -> Option | None:
        used = self.ctx.usage(node.ID)
        ask = _group_ask(tg)
        proposed = used.copy()
        proposed.cpu += ask.cpu
        proposed.memory += ask.memory
        proposed.disk += ask.disk
        ok, dim = fits(node, proposed)
        ports = assign_ports(tg, node, used.ports, self.ctx.rng) if ok else None
        if ok and ports is None:
            ok, dim = False, "network: reserved port collision"
        if not ok:
            metric.NodesExhausted += 1
            _bump(metric, "DimensionExhausted", dim)
            _bump(metric, "ClassExhausted", node.NodeClass or "")
            return None
        scores = {"binpack": score_fit(node, proposed, self.algorithm) / BINPACK_MAX_FIT_SCORE}
        collisions = self.ctx.collisions(node.ID, self.job.ID, tg.Name)
        if collisions > 0:
            scores["job-anti-affinity"] = -(collisions + 1) / max(tg.Count or 1, 1)
        if node.ID in penalty_nodes:
            scores["node-reschedule-penalty"] = -1.0
        return Option(node, scores, _allocated(tg, ports))


def _group_constraints(job: Job, tg: TaskGroup) -> list[Constraint]:
    out = list(job.Constraints or ()) + list(tg.Constraints or ())
    for task in tg.Tasks or ():
        out += task.Constraints or ()
    return out


def _distinct_hosts(job: Job, tg: TaskGroup) -> tuple[bool, bool]:
    def has(cs):
        return any(c.Operand == "distinct_hosts" and c.RTarget in ("", "true")
                   for c in cs or ())
    return has(job.Constraints), has(tg.Constraints)


def _constraint_str(c: Constraint) -> str:
    return f"{c.LTarget} {c.Operand} {c.RTarget}"


def _group_ask(tg: TaskGroup) -> Comparable:
    ask = Comparable()
    for task in tg.Tasks or ():
        res = task.Resources
        if res is not None:
            ask.cpu += res.CPU or 0
            ask.memory += res.MemoryMB or 0
    ask.disk = tg.EphemeralDisk.SizeMB if tg.EphemeralDisk and tg.EphemeralDisk.SizeMB else 0
    return ask


def _allocated(tg: TaskGroup, ports) -> AllocatedResources:
    networks, mappings = ports
    tasks = {}
    for task in tg.Tasks or ():
        res = task.Resources or Resources()
        tasks[task.Name] = AllocatedTaskResources(
            Cpu=AllocatedCpuResources(CpuShares=res.CPU or 0),
            Memory=AllocatedMemoryResources(MemoryMB=res.MemoryMB or 0,
                                            MemoryMaxMB=res.MemoryMaxMB or 0))
    disk = tg.EphemeralDisk.SizeMB if tg.EphemeralDisk and tg.EphemeralDisk.SizeMB else 0
    shared = AllocatedSharedResources(DiskMB=disk, Networks=networks or None,
                                      Ports=mappings or None)
    return AllocatedResources(Tasks=tasks, Shared=shared)


def _bump(metric: AllocMetric, field: str, key: str) -> None:
    counts = getattr(metric, field)
    if counts is None:
        counts = {}
        setattr(metric, field, counts)
    counts[key] = counts.get(key, 0) + 1


def _record_scores(metric: AllocMetric, options: list[Option]) -> None:
    top = sorted(options, key=lambda o: o.final, reverse=True)[:5]
    metric.ScoreMetaData = [NodeScoreMeta(NodeID=o.node.ID, Scores=dict(o.scores),
                                          NormScore=o.final) for o in top]
