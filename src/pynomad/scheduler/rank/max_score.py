"""Nomad's MaxScoreIterator: consume every candidate the limit lets through and return the
best one (the first of equals)."""

from __future__ import annotations

from .base import RankedNode, RankIterator


class MaxScoreIterator:
    def __init__(self, source: RankIterator) -> None:
        self.source = source

    def next(self) -> RankedNode | None:
        best = None
        while True:
            option = self.source.next()
            if option is None:
                return best
            if best is None or option.final > best.final:
                best = option

    def reset(self) -> None:
        self.source.reset()
