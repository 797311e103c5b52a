"""Nomad's ConstraintChecker: every constraint of the job, or of a task group and its tasks,
must hold on the node; the first one that doesn't names the filter."""

from __future__ import annotations

from ...structs import Constraint, Node
from .operators import constraint_string, meets_constraint

# placement-time operators the checker leaves to their own steps
_PLAN_OPERANDS = ("distinct_hosts", "distinct_property")


class ConstraintChecker:
    def __init__(self, constraints: list[Constraint]) -> None:
        self.constraints = [c for c in constraints if c.Operand not in _PLAN_OPERANDS]

    def check(self, node: Node) -> str | None:
        for c in self.constraints:
            if not meets_constraint(c, node):
                return constraint_string(c)
        return None
