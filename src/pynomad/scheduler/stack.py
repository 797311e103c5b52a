"""The placement stack (Nomad's stack.go): feasibility → fit → score → limit → max.

GenericStack (service, batch): nodes are shuffled once per evaluation and visited in a
rotating order. Per node: job and group checks cached per computed class (escaped ones run
on every node), then distinct_hosts and distinct_property; then bin-pack fit (with
preemption when enabled) and the score terms binpack, job-anti-affinity,
node-reschedule-penalty, node-affinity, allocation-spread and preemption, averaged into
the final score. Each selection scores at most `limit` feasible nodes and takes the best.

SystemStack (system, sysbatch): one given node per selection, no limit, no spread or
affinity terms, preemption on by default for system jobs.
"""

from __future__ import annotations

import math
import time

from ..structs import (AllocatedCpuResources, AllocatedMemoryResources, AllocatedResources,
                       AllocatedSharedResources, AllocatedTaskResources, Allocation,
                       AllocMetric, Comparable, Constraint, Job, Node, Resources, TaskGroup,
                       node_capacity)
from ..structs.funcs import BINPACK_MAX_FIT_SCORE
from .config import SchedulerConfig
from .context import ELIGIBLE, ESCAPED, INELIGIBLE, UNKNOWN, EvalContext
from .feasible import (HOST_VOLUMES_FILTER, constraint_string, distinct_hosts_enabled,
                       escapes_class, has_driver, has_host_volumes, host_volume_requests,
                       meets_constraint)
from .metrics import TopScores, exhausted_node, filter_node
from .ports import assign_ports, group_networks, static_ports
from .preemption import Preemptor, alloc_resources
from .propertyset import PropertySet, distinct_property_set
from .rank import (AffinityScorer, SpreadScorer, SpreadState, merged_affinities,
                   preemption_score)

SKIP_SCORE_THRESHOLD = 0.0
MAX_SKIP = 3
CLASS_INELIGIBLE = "computed class ineligible"
_NO_PORTS = ([], [])


class Option:
    """A ranked candidate node; its allocated resources are built only for the winner."""

    __slots__ = ("node", "scores", "final", "preempted", "_group", "_ports", "_resources")

    def __init__(self, node: Node, scores: dict[str, float], final: float, group: "_Group",
                 ports, preempted: list[Allocation] | None) -> None:
        self.node = node
        self.scores = scores
        self.final = final
        self.preempted = preempted
        self._group = group
        self._ports = ports
        self._resources: AllocatedResources | None = None

    @property
    def resources(self) -> AllocatedResources:
        """The winner's allocated resources; groups without ports share one object."""
        if self._resources is None:
            networks, mappings = self._ports
            if networks or mappings:
                self._resources = _allocated(self._group.tg, self._ports)
            else:
                if self._group.shared_resources is None:
                    self._group.shared_resources = _allocated(self._group.tg, self._ports)
                self._resources = self._group.shared_resources
        return self._resources


class _Group:
    """Everything about a task group the stack needs, computed once per evaluation."""

    def __init__(self, stack: "GenericStack", tg: TaskGroup) -> None:
        ctx, job = stack.ctx, stack.job
        self.tg = tg
        self.name = tg.Name
        self.count = tg.Count or 0
        self.shared_resources: AllocatedResources | None = None
        self.constraints = group_constraints(tg)
        self.drivers = sorted({t.Driver for t in tg.Tasks or ()})
        self.distinct_hosts = distinct_hosts_enabled(tg.Constraints)
        self.property_sets = stack.job_property_sets + [
            distinct_property_set(ctx, job, c, tg.Name)
            for c in tg.Constraints or () if c.Operand == "distinct_property"]
        self.ask = group_ask(tg)
        self.static_ports = static_ports(tg)
        self.has_networks = bool(group_networks(tg))
        self.host_volumes = host_volume_requests(tg)
        self.per_alloc_volumes = any(isinstance(v, dict) and v.get("PerAlloc")
                                     for v in (tg.Volumes or {}).values())
        self.affinity: AffinityScorer | None = None
        self.spread: SpreadScorer | None = None
        if not stack.system:
            affinities = merged_affinities(job, tg)
            if affinities:
                self.affinity = AffinityScorer(ctx, affinities)
            if job.Spreads or tg.Spreads:
                self.spread = SpreadScorer(ctx, job, tg, stack.spread_state)


class GenericStack:
    """Selects a node for one placement of a task group (service and batch jobs)."""

    system = False

    def __init__(self, ctx: EvalContext, job: Job, nodes: list[Node], batch: bool,
                 algorithm: str | None = None, config: SchedulerConfig | None = None,
                 evict: bool = False) -> None:
        self.ctx = ctx
        self.job = job
        self.config = SchedulerConfig.from_any(config, algorithm)
        self.algorithm = self.config.SchedulerAlgorithm
        self.evict = evict
        self.nodes = list(nodes)
        self._shuffled = 0  # nodes[:_shuffled] are in their final random order
        self.offset = 0
        n = len(self.nodes)
        self.limit = 2 if batch or n == 0 else max(2, math.ceil(math.log2(n)))
        self.spread_state = SpreadState()
        self.job_constraints = list(job.Constraints or ())
        self.distinct_hosts = distinct_hosts_enabled(job.Constraints)
        self.job_property_sets: list[PropertySet] = [
            distinct_property_set(ctx, job, c) for c in job.Constraints or ()
            if c.Operand == "distinct_property"]
        self.preemptor = Preemptor(ctx, job.Namespace or "default", job.ID,
                                   job.Priority if job.Priority is not None else 50)
        self._groups: dict[str, _Group] = {}
        self._capacities: dict[str, tuple[int, int, int]] = {}
        ctx.eligibility.set_job(escapes_class(self.job_constraints), {
            tg.Name: escapes_class(group_constraints(tg)) for tg in job.TaskGroups or ()})

    # -- selection -----------------------------------------------------------------------
    def select(self, tg: TaskGroup, metric: AllocMetric, penalty_nodes=frozenset(),
               preempt: bool = False, alloc_name: str = "") -> Option | None:
        start = time.perf_counter_ns()
        group = self._group(tg)
        limit = self._limit(group)
        volumes = host_volume_requests(tg, alloc_name) if group.per_alloc_volumes \
            else group.host_volumes
        top = TopScores()
        options: list[Option] = []
        skipped: list[Option] = []
        n = len(self.nodes)
        for _ in range(n):
            if len(options) >= limit:
                break
            node = self._next_node(n)
            metric.NodesEvaluated += 1
            if not self._feasible(node, group, volumes, metric):
                continue
            option = self._rank(node, group, metric, penalty_nodes, preempt or self.evict)
            if option is None:
                continue
            top.add(node.ID, option.scores, option.final)
            if option.final <= SKIP_SCORE_THRESHOLD and len(skipped) < MAX_SKIP:
                skipped.append(option)
                continue
            options.append(option)
        options += skipped[:max(0, limit - len(options))]
        metric.ScoreMetaData = top.result()
        metric.AllocationTime = time.perf_counter_ns() - start
        if not options:
            return None
        best = options[0]
        for o in options[1:]:
            if o.final > best.final:
                best = o
        return best

    def _next_node(self, n: int) -> Node:
        """The next node in a random rotation. The Fisher–Yates shuffle is done lazily, one
        position per first visit, so a selection costs O(nodes visited), not O(nodes)."""
        i = self.offset
        if i >= self._shuffled:
            j = self.ctx.rng.randrange(i, n)
            self.nodes[i], self.nodes[j] = self.nodes[j], self.nodes[i]
            self._shuffled = i + 1
        self.offset = (i + 1) % n
        return self.nodes[i]

    def _group(self, tg: TaskGroup) -> _Group:
        group = self._groups.get(tg.Name)
        if group is None or group.tg is not tg:
            group = self._groups[tg.Name] = _Group(self, tg)
        return group

    def _limit(self, group: _Group) -> int:
        if group.affinity is not None or group.spread is not None:
            return max(group.count, self.config.node_limit)
        return self.limit

    # -- feasibility ---------------------------------------------------------------------
    def _feasible(self, node: Node, group: _Group, volumes: dict[str, list[bool]],
                  metric: AllocMetric) -> bool:
        if not self._class_feasible(node, group, metric):
            return False
        if volumes and not has_host_volumes(node, volumes):
            return filter_node(metric, node, HOST_VOLUMES_FILTER)
        if not self.system and (self.distinct_hosts or group.distinct_hosts):
            if self._distinct_hosts_conflict(node, group):
                return filter_node(metric, node, "distinct_hosts")
        for ps in group.property_sets:
            reason = ps.satisfies_distinct(node)
            if reason is not None:
                return filter_node(metric, node, reason)
        return True

    def _class_feasible(self, node: Node, group: _Group, metric: AllocMetric) -> bool:
        """Nomad's FeasibilityWrapper: job checks, then group checks, memoized per class."""
        elig = self.ctx.eligibility
        cls = self.ctx.node_class(node)
        status = elig.job_status(cls)
        if status == INELIGIBLE:
            return filter_node(metric, node, CLASS_INELIGIBLE)
        if status != ELIGIBLE:
            reason = _first_failed(self.job_constraints, node)
            if reason is not None:
                if status != ESCAPED:
                    elig.set_job_eligibility(False, cls)
                return filter_node(metric, node, reason)
            if status == UNKNOWN:
                elig.set_job_eligibility(True, cls)
        status = elig.tg_status(group.name, cls)
        if status == ELIGIBLE:
            return True
        if status == INELIGIBLE:
            return filter_node(metric, node, CLASS_INELIGIBLE)
        reason = self._group_failure(node, group)
        if reason is not None:
            if status != ESCAPED:
                elig.set_tg_eligibility(False, group.name, cls)
            return filter_node(metric, node, reason)
        if status == UNKNOWN:
            elig.set_tg_eligibility(True, group.name, cls)
        return True

    @staticmethod
    def _group_failure(node: Node, group: _Group) -> str | None:
        for d in group.drivers:
            if not has_driver(node, d):
                return "missing drivers"
        return _first_failed(group.constraints, node)

    def _distinct_hosts_conflict(self, node: Node, group: _Group) -> bool:
        ns = self.job.Namespace or "default"
        if self.distinct_hosts:
            return self.ctx.job_allocs_on(node.ID, ns, self.job.ID) > 0
        return self.ctx.collisions(node.ID, ns, self.job.ID, group.name) > 0

    # -- ranking -------------------------------------------------------------------------
    def _rank(self, node: Node, group: _Group, metric: AllocMetric, penalty_nodes,
              evict: bool) -> Option | None:
        used = self.ctx.usage(node.ID)
        preempted: list[Allocation] = []
        ports = _NO_PORTS
        if group.has_networks:
            ports, reason = assign_ports(group.tg, node, used.ports, self.ctx.rng)
            if ports is None:
                if not evict:
                    return exhausted_node(metric, node, f"network: {reason}")
                ports, preempted = self._preempt_ports(node, group, used)
                if ports is None:
                    return exhausted_node(metric, node, f"network: {reason}")
        cap = self._capacity(node)
        cpu, mem, disk = _plus(used, group.ask, preempted)
        dim = "cpu" if cpu > cap[0] else "memory" if mem > cap[1] else \
            "disk" if disk > cap[2] else ""
        if dim:
            if not evict:
                return exhausted_node(metric, node, dim)
            victims = self._preempt_resources(node, group, preempted)
            if not victims:
                return exhausted_node(metric, node, dim)
            preempted += victims
        fitness = fit_score(cap, cpu, mem, self.algorithm)
        scores = {"binpack": fitness}
        terms = [fitness]
        if not self.system:
            self._score_terms(node, group, penalty_nodes, preempted, scores, terms)
        return Option(node, scores, sum(terms) / len(terms), group, ports, preempted or None)

    def _capacity(self, node: Node) -> tuple[int, int, int]:
        cap = self._capacities.get(node.ID)
        if cap is None:
            cap = self._capacities[node.ID] = node_capacity(node)
        return cap

    def _score_terms(self, node: Node, group: _Group, penalty_nodes, preempted,
                     scores: dict[str, float], terms: list[float]) -> None:
        collisions = self.ctx.collisions(node.ID, self.job.Namespace or "default",
                                         self.job.ID, group.name)
        anti = -(collisions + 1) / max(group.count, 1) if collisions > 0 else 0.0
        _term(scores, terms, "job-anti-affinity", anti, append=collisions > 0)
        penalty = -1.0 if node.ID in penalty_nodes else 0.0
        _term(scores, terms, "node-reschedule-penalty", penalty, append=penalty != 0)
        if group.affinity is not None:
            _term(scores, terms, "node-affinity", group.affinity.score(node), append=True)
        else:
            scores["node-affinity"] = 0.0
        if group.spread is not None:
            spread = group.spread.score(node)
            if spread != 0.0:
                _term(scores, terms, "allocation-spread", spread, append=True)
        if preempted:
            _term(scores, terms, "preemption", preemption_score(preempted), append=True)

    def _preempt_ports(self, node: Node, group: _Group, used: Comparable):
        proposed = self.ctx.proposed_allocs(node.ID)
        victims = self.preemptor.preempt_for_ports(proposed, group.static_ports)
        if not victims:
            return None, []
        freed = set(used.ports)
        for v in victims:
            ar = v.AllocatedResources
            freed -= {p.Value for p in (ar.Shared.Ports or ())} if ar and ar.Shared else set()
        ports, _ = assign_ports(group.tg, node, freed, self.ctx.rng)
        return (ports, victims) if ports is not None else (None, [])

    def _preempt_resources(self, node: Node, group: _Group,
                           already: list[Allocation]) -> list[Allocation] | None:
        gone = {a.ID for a in already}
        proposed = [a for a in self.ctx.proposed_allocs(node.ID) if a.ID not in gone]
        ask = (group.ask.cpu, group.ask.memory, group.ask.disk)
        return self.preemptor.preempt_for_ask(node, proposed, ask)


class SystemStack(GenericStack):
    """Placement on one given node at a time (system and sysbatch jobs)."""

    system = True

    def __init__(self, ctx: EvalContext, job: Job, algorithm: str | None = None,
                 config: SchedulerConfig | None = None, sysbatch: bool = False) -> None:
        cfg = SchedulerConfig.from_any(config, algorithm)
        super().__init__(ctx, job, [], batch=True, config=cfg,
                         evict=cfg.preemption_enabled("sysbatch" if sysbatch else "system"))

    def select_on(self, node: Node, tg: TaskGroup, metric: AllocMetric,
                  alloc_name: str = "") -> Option | None:
        """Nomad resets class eligibility per system selection: one node says little."""
        self.nodes, self.offset, self._shuffled = [node], 0, 1
        self.ctx.eligibility.reset()
        return self.select(tg, metric, alloc_name=alloc_name)

    def _limit(self, group: _Group) -> int:
        return 1


def _term(scores: dict[str, float], terms: list[float], name: str, value: float,
          append: bool) -> None:
    scores[name] = value
    if append:
        terms.append(value)


def _first_failed(constraints: list[Constraint], node: Node) -> str | None:
    for c in constraints:
        if not meets_constraint(c, node):
            return constraint_string(c)
    return None


def _plus(used: Comparable, ask: Comparable, minus: list[Allocation]) -> tuple[int, int, int]:
    cpu, mem, disk = used.cpu + ask.cpu, used.memory + ask.memory, used.disk + ask.disk
    for a in minus:
        c, m, d = alloc_resources(a)
        cpu, mem, disk = cpu - c, mem - m, disk - d
    return cpu, mem, disk


def fit_score(cap: tuple[int, int, int], cpu: int, mem: int, algorithm: str) -> float:
    """ScoreFitBinPack / ScoreFitSpread (structs.score_fit) normalized by 18."""
    free_cpu = 1.0 - cpu / cap[0] if cap[0] > 0 else 0.0
    free_mem = 1.0 - mem / cap[1] if cap[1] > 0 else 0.0
    total = 10 ** free_cpu + 10 ** free_mem
    score = total - 2 if algorithm == "spread" else 20 - total
    return min(max(score, 0.0), BINPACK_MAX_FIT_SCORE) / BINPACK_MAX_FIT_SCORE


def group_constraints(tg: TaskGroup) -> list[Constraint]:
    """Group and task constraints (Nomad's TaskGroupConstraints); job ones are separate."""
    out = list(tg.Constraints or ())
    for task in tg.Tasks or ():
        out += task.Constraints or ()
    return out


def group_ask(tg: TaskGroup) -> Comparable:
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
