"""Nomad's ScoreNormalizationIterator: the final score is the mean of the terms the steps
scored; every candidate's final score is offered to the metric's top-five
`ScoreMetaData`."""

from __future__ import annotations

from ..context import EvalContext
from .base import RankedNode, RankIterator


class ScoreNormalizationIterator:
    def __init__(self, ctx: EvalContext, source: RankIterator) -> None:
        self.ctx = ctx
        self.source = source

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None or not option.terms:
            return option
        option.final = option.total / option.terms
        self.ctx.top_scores.add(option.node.ID, option.scores, option.final)
        return option

    def reset(self) -> None:
        self.source.reset()
