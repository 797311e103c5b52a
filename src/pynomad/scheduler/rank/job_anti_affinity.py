"""Nomad's JobAntiAffinityIterator: a node already running n allocations of the group scores
-(n+1)/count, spreading a group's allocations over the cluster."""

from __future__ import annotations

from ...structs import Job
from ..group import Group
from .base import RankedNode, RankIterator


class JobAntiAffinityIterator:
    def __init__(self, source: RankIterator, job: Job, group: Group) -> None:
        self.source = source
        self.key = (job.Namespace or "default", job.ID, group.name)
        self.count = max(group.count, 1)

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is None:
            return None
        collisions = option.usage.counts.get(self.key, 0)
        if collisions > 0:
            option.score("job-anti-affinity", -(collisions + 1) / self.count)
        else:
            option.note("job-anti-affinity", 0.0)
        return option

    def reset(self) -> None:
        self.source.reset()
