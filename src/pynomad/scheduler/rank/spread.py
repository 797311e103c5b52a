"""Nomad's SpreadIterator: per spread block of the job and group, the boost toward its
target percentages (or toward an even spread over the values seen when it names none)
→ `allocation-spread`, scored only when non-zero."""

from __future__ import annotations

from ...structs import Job, Node, Spread, TaskGroup
from ..context import EvalContext
from ..feasible.propertyset import IMPLICIT_TARGET, PropertySet
from .base import RankedNode, RankIterator
from .node_affinity import weight_or_default


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
            self.total_weight += weight_or_default(spread.Weight)
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
    return _SpreadInfo(weight_or_default(spread.Weight), desired)


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


class SpreadIterator:
    def __init__(self, ctx: EvalContext, source: RankIterator, job: Job, tg: TaskGroup,
                 shared: SpreadState) -> None:
        self.source = source
        self.scorer = SpreadScorer(ctx, job, tg, shared)

    @classmethod
    def wrap(cls, ctx: EvalContext, source: RankIterator, job: Job, tg: TaskGroup,
             shared: SpreadState) -> RankIterator:
        return cls(ctx, source, job, tg, shared) if job.Spreads or tg.Spreads else source

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None:
            return None
        boost = self.scorer.score(option.node)
        if boost != 0.0:
            option.score("allocation-spread", boost)
        return option

    def reset(self) -> None:
        self.source.reset()
