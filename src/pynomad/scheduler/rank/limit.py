"""Nomad's LimitIterator: stop after `limit` candidates, so a selection scores a handful of
nodes instead of the whole cluster. Up to `max_skip` candidates scoring at or below the
threshold are held back while better ones keep coming, and used only if the nodes run
out."""

from __future__ import annotations

from .base import RankedNode, RankIterator

SKIP_SCORE_THRESHOLD = 0.0
MAX_SKIP = 3


class LimitIterator:
    def __init__(self, source: RankIterator, limit: int,
                 threshold: float = SKIP_SCORE_THRESHOLD, max_skip: int = MAX_SKIP) -> None:
        self.source = source
        self.limit = limit
        self.threshold = threshold
        self.max_skip = max_skip
        self.seen = 0
        self.skipped: list[RankedNode] = []
        self.exhausted = False

    def next(self) -> RankedNode | None:
        if self.seen >= self.limit:
            return None
        option = self._from_source()
        if option is None:
            option = self.skipped.pop(0) if self.skipped else None
        if option is not None:
            self.seen += 1
        return option

    def _from_source(self) -> RankedNode | None:
        while not self.exhausted:
            option = self.source.next()
            if option is None:
                self.exhausted = True
            elif option.final <= self.threshold and len(self.skipped) < self.max_skip:
                self.skipped.append(option)
            else:
                return option
        return None

    def reset(self) -> None:
        self.source.reset()
        self.seen = 0
        self.skipped = []
        self.exhausted = False
