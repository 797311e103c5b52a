"""Nomad's NodeReschedulingPenaltyIterator: a replacement scores -1 on the nodes where the
allocation it replaces failed (the selection's penalty nodes)."""

from __future__ import annotations

from ..context import EvalContext
from .base import RankedNode, RankIterator


class NodeReschedulingPenaltyIterator:
    def __init__(self, ctx: EvalContext, source: RankIterator) -> None:
        self.ctx = ctx
        self.source = source

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None:
            return None
        if option.node.ID in self.ctx.options.penalty_nodes:
            option.score("node-reschedule-penalty", -1.0)
        else:
            option.note("node-reschedule-penalty", 0.0)
        return option

    def reset(self) -> None:
        self.source.reset()
