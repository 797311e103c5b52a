"""Nomad's DistinctHostsIterator as a per-node check: with `distinct_hosts` on the job, no
node runs two allocations of the job; on a group, no node runs two of that group."""

from __future__ import annotations

from ...structs import Constraint, Job, Node, TaskGroup
from ..context import EvalContext

FILTER_DISTINCT_HOSTS = "distinct_hosts"
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def distinct_hosts_enabled(constraints: list[Constraint] | None) -> bool:
    """The first distinct_hosts constraint decides: empty or unparsable RTarget means on."""
    for c in constraints or ():
        if c.Operand == "distinct_hosts":
            return c.RTarget == "" or c.RTarget in _TRUE or c.RTarget not in _FALSE
    return False


class DistinctHostsChecker:
    def __init__(self, ctx: EvalContext, job: Job, tg: TaskGroup) -> None:
        self.ctx = ctx
        self.namespace = job.Namespace or "default"
        self.job_id = job.ID
        self.task_group = tg.Name
        self.job_wide = distinct_hosts_enabled(job.Constraints)

    @classmethod
    def of(cls, ctx: EvalContext, job: Job, tg: TaskGroup) -> "DistinctHostsChecker | None":
        if distinct_hosts_enabled(job.Constraints) or distinct_hosts_enabled(tg.Constraints):
            return cls(ctx, job, tg)
        return None

    def check(self, node: Node) -> str | None:
        if self.job_wide:
            taken = self.ctx.job_allocs_on(node.ID, self.namespace, self.job_id)
        else:
            taken = self.ctx.collisions(node.ID, self.namespace, self.job_id, self.task_group)
        return FILTER_DISTINCT_HOSTS if taken > 0 else None
