"""Score terms beyond bin-packing (Nomad's rank.go and spread.go).

- `AffinityScorer`: Σ(weights of matched affinities) / Σ|weights| → `node-affinity`.
- `SpreadScorer`: per spread block, the boost toward its target percentages (or toward an
  even spread when it has none) → `allocation-spread`.
- `preemption_score`: the logistic score of the allocations a placement would evict.
"""

from __future__ import annotations

import math

from ..structs import Affinity, Allocation, Job, Node, Spread, TaskGroup
from .context import EvalContext
from .feasible import check_constraint, resolve_target, target_escapes
from .propertyset import IMPLICIT_TARGET, PropertySet

DEFAULT_WEIGHT = 50


def merged_affinities(job: Job, tg: TaskGroup) -> list[Affinity]:
    """Job, group and task affinities, in Nomad's merge order."""
    out = list(job.Affinities or ()) + list(tg.Affinities or ())
    for task in tg.Tasks or ():
        out += task.Affinities or ()
    return out


def _weight(w: int | None) -> int:
    return DEFAULT_WEIGHT if w is None else w


class AffinityScorer:
    """The `node-affinity` term for one task group; cached per computed class unless an
    affinity targets a unique attribute."""

    def __init__(self, ctx: EvalContext, affinities: list[Affinity]) -> None:
        self.ctx = ctx
        self.affinities = [(a, _weight(a.Weight)) for a in affinities]
        self.total = sum(abs(w) for _, w in self.affinities)
        self.escaped = any(target_escapes(a.LTarget) or target_escapes(a.RTarget)
                           for a in affinities)
        self._cache: dict[str, float] = {}

    def score(self, node: Node) -> float:
        key = node.ID if self.escaped else self.ctx.node_class(node)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._compute(node)
        return cached

    def _compute(self, node: Node) -> float:
        if self.total == 0:
            return 0.0
        matched = 0.0
        for a, w in self.affinities:
            lval, lok = resolve_target(a.LTarget, node)
            rval, rok = resolve_target(a.RTarget, node)
            if check_constraint(a.Operand, lval, rval, lok, rok):
                matched += w
        return matched / self.total


class _SpreadInfo:
    __slots__ = ("weight", "desired")

    def __init__(self, weight: int, desired: dict[str, float]) -> None:
        self.weight = weight
        self.desired = desired


class SpreadState:
    """Stack-wide spread state: the lowest boost seen so far (Nomad's lowestSpreadBoost)."""

    def __init__(self) -> None:
        self.lowest_boost = -1.0


class SpreadScorer:
    """The `allocation-spread` term for one task group (job-level and group-level spreads)."""

    def __init__(self, ctx: EvalContext, job: Job, tg: TaskGroup, shared: SpreadState) -> None:
        self.shared = shared
        self.sets: list[PropertySet] = []
        for spread in list(job.Spreads or ()) + list(tg.Spreads or ()):
            targets = {t.Value for t in spread.SpreadTarget or ()}
            self.sets.append(PropertySet(ctx, job, spread.Attribute, tg.Name, targets=targets))
        self.infos: dict[str, _SpreadInfo] = {}
        self.total_weight = 0
        count = tg.Count or 0
        for spread in list(tg.Spreads or ()) + list(job.Spreads or ()):
            self.infos[spread.Attribute] = _spread_info(spread, count)
            self.total_weight += _weight(spread.Weight)
        self._cache: dict[tuple, float] = {}
        self._versions: tuple[int, ...] = ()

    def score(self, node: Node) -> float:
        """The spread term; it depends only on the node's values and the current counts, so
        it is memoized per value combination until the counts change."""
        versions = tuple(ps.version for ps in self.sets)
        if versions != self._versions:
            self._cache.clear()
            self._versions = versions
        key = (tuple(ps.value_of(node) for ps in self.sets), self.shared.lowest_boost)
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = self._score(node)
        return got

    def _score(self, node: Node) -> float:
        total = 0.0
        for ps in self.sets:
            value, error, used = ps.used_count(node)
            if error:
                total -= 1.0
                continue
            info = self.infos.get(ps.attribute)
            if info is None:
                continue
            if not info.desired:
                total += even_spread_boost(ps, node)
                continue
            total += self._target_boost(info, value, used + 1)
        return total

    def _target_boost(self, info: _SpreadInfo, value: str, used: int) -> float:
        desired = info.desired.get(value)
        if desired is None:
            desired = info.desired.get(IMPLICIT_TARGET)
            if desired is None:
                return -1.0
        if desired == 0:
            return self.shared.lowest_boost
        weight = info.weight / self.total_weight if self.total_weight else 0.0
        boost = ((desired - used) / desired) * weight
        if boost < self.shared.lowest_boost:
            self.shared.lowest_boost = boost
        return boost


def _spread_info(spread: Spread, count: int) -> _SpreadInfo:
    desired: dict[str, float] = {}
    total = 0.0
    for t in spread.SpreadTarget or ():
        want = t.Percent / 100 * count
        desired[t.Value] = want
        total += want
    if 0 < total < count:
        desired[IMPLICIT_TARGET] = count - total
    return _SpreadInfo(_weight(spread.Weight), desired)


def even_spread_boost(ps: PropertySet, node: Node) -> float:
    """Nomad's evenSpreadScoreBoost: favour the values with the fewest allocations."""
    combined = ps.combined()
    if not combined:
        return 0.0
    value, ok = ps.value_of(node)
    if not ok:
        return -1.0
    current = combined.get(value, 0)
    lo, hi = ps.min_max()
    if current != lo:
        return -1.0 if lo == 0 else (lo - current) / lo
    if lo == hi:
        return -1.0
    if lo == 0:
        return 1.0
    return (hi - lo) / lo


def net_priority(allocs: list[Allocation]) -> float:
    """The max priority of the evicted allocs plus their sum divided by that max."""
    prios = [_priority(a) for a in allocs]
    top = float(max(prios)) if prios else 0.0
    return top + (sum(prios) / top if top else 0.0)


def preemption_score(allocs: list[Allocation]) -> float:
    """Logistic in the net priority: 0.5 at 2048, near 1 for low-priority victims."""
    return 1.0 / (1.0 + math.exp(0.0048 * (net_priority(allocs) - 2048.0)))


def _priority(alloc: Allocation) -> int:
    if alloc.Job is None or alloc.Job.Priority is None:
        return 50
    return alloc.Job.Priority
