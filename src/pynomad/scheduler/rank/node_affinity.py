"""Nomad's NodeAffinityIterator: Σ(weights of the matched job, group and task affinities)
/ Σ|weights| → `node-affinity`. Without affinities every node notes 0."""

from __future__ import annotations

from ...structs import Affinity, Job, Node, TaskGroup
from ..context import EvalContext
from ..feasible.operators import check_constraint, resolve_target, target_escapes
from .base import RankedNode, RankIterator

DEFAULT_WEIGHT = 50


def merged_affinities(job: Job, tg: TaskGroup) -> list[Affinity]:
    """Job, group and task affinities, in Nomad's merge order."""
    out = list(job.Affinities or ()) + list(tg.Affinities or ())
    for task in tg.Tasks or ():
        out += task.Affinities or ()
    return out


def weight_or_default(w: int | None) -> int:
    return DEFAULT_WEIGHT if w is None else w


class AffinityScorer:
    """The `node-affinity` term for one task group; cached per computed class unless an
    affinity targets a unique attribute."""

    def __init__(self, ctx: EvalContext, affinities: list[Affinity]) -> None:
        self.ctx = ctx
        self.affinities = [(a, weight_or_default(a.Weight)) for a in affinities]
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


class NodeAffinityIterator:
    def __init__(self, ctx: EvalContext, source: RankIterator, job: Job, tg: TaskGroup) -> None:
        self.source = source
        affinities = merged_affinities(job, tg)
        self.scorer = AffinityScorer(ctx, affinities) if affinities else None

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None:
            return None
        if self.scorer is not None:
            option.score("node-affinity", self.scorer.score(option.node))
        else:
            option.note("node-affinity", 0.0)
        return option

    def reset(self) -> None:
        self.source.reset()
