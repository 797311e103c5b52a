"""Nomad's DistinctPropertyIterator as a per-node check: each `distinct_property` constraint
of the job or group allows at most RTarget (default 1) allocations per value of its
property; the counts include the plan's placements and stops."""

from __future__ import annotations

from ...structs import Job, Node, TaskGroup
from ..context import EvalContext
from .propertyset import PropertySet, distinct_property_set


class DistinctPropertyChecker:
    def __init__(self, sets: list[PropertySet]) -> None:
        self.sets = sets

    @classmethod
    def of(cls, ctx: EvalContext, job_sets: list[PropertySet], job: Job,
           tg: TaskGroup) -> "DistinctPropertyChecker | None":
        sets = job_sets + [distinct_property_set(ctx, job, c, tg.Name)
                           for c in tg.Constraints or () if c.Operand == "distinct_property"]
        return cls(sets) if sets else None

    def check(self, node: Node) -> str | None:
        for ps in self.sets:
            reason = ps.satisfies_distinct(node)
            if reason is not None:
                return reason
        return None


def job_property_sets(ctx: EvalContext, job: Job) -> list[PropertySet]:
    """The job-level distinct_property sets, shared by every group of the job."""
    return [distinct_property_set(ctx, job, c) for c in job.Constraints or ()
            if c.Operand == "distinct_property"]
