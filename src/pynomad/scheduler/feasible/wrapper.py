"""Nomad's FeasibilityWrapper: job checks, then task group checks, each verdict memoized per
computed node class, then the checks that depend on the node itself or on the plan.

Job and group checkers see only what the computed class hashes, so once one node of a
class passed or failed them, every node of that class does the same ("computed class
ineligible"), unless a constraint targets a unique attribute: the class then "escaped"
and every node is checked. Available checkers (host volumes, distinct_hosts,
distinct_property) run on every node.
"""

from __future__ import annotations

from ...structs import Node
from ..context import ELIGIBLE, ESCAPED, INELIGIBLE, UNKNOWN, EvalContext
from ..metrics import filter_node
from .base import FeasibilityChecker, FeasibleIterator

CLASS_INELIGIBLE = "computed class ineligible"


class FeasibilityWrapper:
    def __init__(self, ctx: EvalContext, source: FeasibleIterator, task_group: str,
                 job: list[FeasibilityChecker], group: list[FeasibilityChecker],
                 available: list[FeasibilityChecker]) -> None:
        self.ctx = ctx
        self.source = source
        self.task_group = task_group
        self.job_checks = job
        self.group_checks = group
        self.available = available

    def next(self) -> Node | None:
        source, available = self.source, self.available
        while True:
            node = source.next()
            if node is None:
                return None
            if not self._class_feasible(node):
                continue
            if available and not self._passes(available, node):
                continue
            return node

    def reset(self) -> None:
        self.source.reset()

    def _class_feasible(self, node: Node) -> bool:
        ctx = self.ctx
        elig = ctx.eligibility
        cls = ctx.node_class(node)
        status = elig.job_status(cls)
        if status == INELIGIBLE:
            return filter_node(ctx.metrics, node, CLASS_INELIGIBLE)
        if status != ELIGIBLE:
            if not self._passes(self.job_checks, node):
                if status != ESCAPED:
                    elig.set_job_eligibility(False, cls)
                return False
            if status == UNKNOWN:
                elig.set_job_eligibility(True, cls)
        status = elig.tg_status(self.task_group, cls)
        if status == ELIGIBLE:
            return True
        if status == INELIGIBLE:
            return filter_node(ctx.metrics, node, CLASS_INELIGIBLE)
        if not self._passes(self.group_checks, node):
            if status != ESCAPED:
                elig.set_tg_eligibility(False, self.task_group, cls)
            return False
        if status == UNKNOWN:
            elig.set_tg_eligibility(True, self.task_group, cls)
        return True

    def _passes(self, checks: list[FeasibilityChecker], node: Node) -> bool:
        for check in checks:
            reason = check.check(node)
            if reason is not None:
                return filter_node(self.ctx.metrics, node, reason)
        return True
