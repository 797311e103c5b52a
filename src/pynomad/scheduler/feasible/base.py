"""The two shapes of a feasibility step (Nomad's FeasibilityChecker and FeasibleIterator).

A checker answers for one node: `check(node)` is None when the node can run the task group,
else the reason it is filtered (the key counted in `AllocMetric.ConstraintFiltered`).
Checkers hold no per-node state, so the FeasibilityWrapper may cache their verdict per
computed node class.

An iterator yields nodes: `next()` returns the next node that passed, or None when the
source is exhausted; `reset()` starts a new selection over the same nodes.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from ...structs import Node

T = TypeVar("T")


class FeasibilityChecker(Protocol):
    def check(self, node: Node) -> str | None: ...


class FeasibleIterator(Protocol):
    def next(self) -> Node | None: ...
    def reset(self) -> None: ...


def present(*links: T | None) -> list[T]:
    """The links a task group needs: builders return None when theirs has nothing to do."""
    return [link for link in links if link is not None]
