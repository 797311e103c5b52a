"""The placement stacks (Nomad's stack.go): a chain of small steps composed per task group.

Service and batch jobs (GenericStack), per selection:

    RandomIterator           shuffled ready nodes, rotating across selections
    FeasibilityWrapper       job: constraints; group: drivers, constraints, devices,
                             network (memoized per computed class); then per node:
                             host volumes, distinct_hosts, distinct_property
    BinPackIterator          ports, devices and cores offered, cpu/memory/disk fit,
                             preemption when allowed → binpack
    DeviceAffinityIterator   → devices
    JobAntiAffinityIterator  → job-anti-affinity
    NodeReschedulingPenalty  → node-reschedule-penalty
    NodeAffinityIterator     → node-affinity
    SpreadIterator           → allocation-spread
    PreemptionScoring        → preemption
    ScoreNormalization       mean of the terms; top five kept for ScoreMetaData
    LimitIterator            max(2, ⌈log2 N⌉) candidates (2 for batch; with affinity or
                             spread max(count, node_limit_for_feasibility_checks))
    MaxScoreIterator         the best candidate

System and sysbatch jobs (SystemStack) visit one given node per selection and stop after
bin-packing and normalization. Steps a task group doesn't need are left out of its chain.
"""

from __future__ import annotations

import math
import time

from ..structs import AllocMetric, Job, Node, TaskGroup
from ..structs.operator import SchedulerConfiguration
from .context import EvalContext, SelectOptions
from .feasible.base import FeasibilityChecker, FeasibleIterator, present
from .feasible.constraint import ConstraintChecker
from .feasible.device import DeviceChecker
from .feasible.distinct_hosts import DistinctHostsChecker
from .feasible.distinct_property import DistinctPropertyChecker, job_property_sets
from .feasible.driver import DriverChecker
from .feasible.host_volume import HostVolumeChecker
from .feasible.network import NetworkChecker
from .feasible.operators import escapes_class
from .feasible.source import RandomIterator, StaticIterator
from .feasible.wrapper import FeasibilityWrapper
from .group import Group, group_constraints
from .preemption import Preemptor
from .rank.base import RankedNode, RankIterator
from .rank.binpack import BinPackIterator, ResourceAssigner
from .rank.cores import CoreAssigner
from .rank.devices import DeviceAffinityIterator, DeviceAssigner
from .rank.job_anti_affinity import JobAntiAffinityIterator
from .rank.limit import LimitIterator
from .rank.max_score import MaxScoreIterator
from .rank.network import NetworkAssigner
from .rank.node_affinity import NodeAffinityIterator, merged_affinities
from .rank.normalize import ScoreNormalizationIterator
from .rank.preemption_score import PreemptionScoringIterator
from .rank.reschedule_penalty import NodeReschedulingPenaltyIterator
from .rank.spread import SpreadIterator, SpreadState

class GenericStack:
    """Selects a node for one placement of a task group (service and batch jobs)."""

    def __init__(self, ctx: EvalContext, job: Job, nodes: list[Node], batch: bool,
                 algorithm: str | None = None, config: SchedulerConfiguration | None = None,
                 evict: bool = False) -> None:
        self.ctx = ctx
        self.job = job
        self.config = SchedulerConfiguration.from_any(config, algorithm)
        self.algorithm = self.config.SchedulerAlgorithm
        self.evict = evict
        self.source = self._source(nodes)
        n = len(nodes)
        self.limit = 2 if batch or n == 0 else max(2, math.ceil(math.log2(n)))
        self.spread_state = SpreadState()
        self.job_constraints = list(job.Constraints or ())
        self.job_property_sets = job_property_sets(ctx, job)
        self.preemptor = Preemptor(ctx, job.Namespace or "default", job.ID,
                                   job.Priority if job.Priority is not None else 50)
        self._chains: dict[str, tuple[TaskGroup, RankIterator]] = {}
        ctx.eligibility.set_job(escapes_class(self.job_constraints), {
            tg.Name: escapes_class(group_constraints(tg)) for tg in job.TaskGroups or ()})

    def select(self, tg: TaskGroup, metric: AllocMetric, penalty_nodes=frozenset(),
               preempt: bool = False, alloc_name: str = "") -> RankedNode | None:
        start = time.perf_counter_ns()
        chain = self._chain(tg)
        self.ctx.begin_select(metric, SelectOptions(penalty_nodes, preempt or self.evict,
                                                    alloc_name))
        chain.reset()
        option = chain.next()
        metric.ScoreMetaData = self.ctx.top_scores.result()
        metric.AllocationTime = time.perf_counter_ns() - start
        return option

    def _chain(self, tg: TaskGroup) -> RankIterator:
        got = self._chains.get(tg.Name)
        if got is None or got[0] is not tg:
            got = self._chains[tg.Name] = (tg, self._compose(tg))
        return got[1]

    # -- composition ---------------------------------------------------------------------
    def _source(self, nodes: list[Node]) -> StaticIterator:
        return RandomIterator(self.ctx, nodes)

    def _compose(self, tg: TaskGroup) -> RankIterator:
        ctx, job = self.ctx, self.job
        group = Group(tg)
        it: RankIterator = self._binpack(tg, group)
        it = DeviceAffinityIterator.wrap(it, tg)
        it = JobAntiAffinityIterator(it, job, group)
        it = NodeReschedulingPenaltyIterator(ctx, it)
        it = NodeAffinityIterator(ctx, it, job, tg)
        it = SpreadIterator.wrap(ctx, it, job, tg, self.spread_state)
        it = PreemptionScoringIterator(it)
        it = ScoreNormalizationIterator(ctx, it)
        it = LimitIterator(it, self._limit(tg))
        return MaxScoreIterator(it)

    def _binpack(self, tg: TaskGroup, group: Group) -> BinPackIterator:
        ctx = self.ctx
        assigners: list[ResourceAssigner] = present(
            NetworkAssigner.of(ctx, tg, self.preemptor),
            DeviceAssigner.of(ctx, tg),
            CoreAssigner.of(ctx, tg))
        return BinPackIterator(ctx, self._feasible(tg), group, self.algorithm, assigners,
                               self.preemptor)

    def _feasible(self, tg: TaskGroup) -> FeasibleIterator:
        ctx, job = self.ctx, self.job
        job_checks: list[FeasibilityChecker] = [ConstraintChecker(self.job_constraints)]
        group_checks: list[FeasibilityChecker] = present(
            DriverChecker(tg),
            ConstraintChecker(group_constraints(tg)),
            DeviceChecker.of(tg),
            NetworkChecker.of(tg))
        available: list[FeasibilityChecker] = present(
            HostVolumeChecker.of(ctx, tg),
            self._distinct_hosts(tg),
            DistinctPropertyChecker.of(ctx, self.job_property_sets, job, tg))
        return FeasibilityWrapper(ctx, self.source, tg.Name, job_checks, group_checks,
                                  available)

    def _distinct_hosts(self, tg: TaskGroup) -> DistinctHostsChecker | None:
        return DistinctHostsChecker.of(self.ctx, self.job, tg)

    def _limit(self, tg: TaskGroup) -> int:
        if merged_affinities(self.job, tg) or self.job.Spreads or tg.Spreads:
            return max(tg.Count or 0, self.config.node_limit)
        return self.limit


class SystemStack(GenericStack):
    """Placement on one given node at a time (system and sysbatch jobs)."""

    def __init__(self, ctx: EvalContext, job: Job, algorithm: str | None = None,
                 config: SchedulerConfiguration | None = None, sysbatch: bool = False) -> None:
        cfg = SchedulerConfiguration.from_any(config, algorithm)
        super().__init__(ctx, job, [], batch=True, config=cfg,
                         evict=cfg.preemption_enabled("sysbatch" if sysbatch else "system"))

    def select_on(self, node: Node, tg: TaskGroup, metric: AllocMetric,
                  alloc_name: str = "") -> RankedNode | None:
        """Nomad resets class eligibility per system selection: one node says little."""
        self.source.set_nodes([node])
        self.ctx.eligibility.reset()
        return self.select(tg, metric, alloc_name=alloc_name)

    def _source(self, nodes: list[Node]) -> StaticIterator:
        return StaticIterator(self.ctx, nodes)

    def _compose(self, tg: TaskGroup) -> RankIterator:
        it: RankIterator = self._binpack(tg, Group(tg))
        it = DeviceAffinityIterator.wrap(it, tg)
        return ScoreNormalizationIterator(self.ctx, it)

    def _distinct_hosts(self, tg: TaskGroup) -> None:
        return None
