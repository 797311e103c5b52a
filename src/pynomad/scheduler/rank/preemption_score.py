"""Nomad's PreemptionScoringIterator: a candidate that needs evictions scores by the
logistic of their net priority, so evicting few low-priority allocations wins."""

from __future__ import annotations

import math

from ...structs import Allocation
from .base import RankedNode, RankIterator


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


class PreemptionScoringIterator:
    def __init__(self, source: RankIterator) -> None:
        self.source = source

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is not None and option.preempted:
            option.score("preemption", preemption_score(option.preempted))
        return option

    def reset(self) -> None:
        self.source.reset()
