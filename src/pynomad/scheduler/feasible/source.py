"""The head of the chain: the nodes a selection visits (Nomad's StaticIterator and
RandomIterator).

Each selection visits every node at most once, starting where the previous selection
stopped, so successive placements spread over the cluster.
"""

from __future__ import annotations

from ...structs import Node
from ..context import EvalContext


class StaticIterator:
    """Nodes in the given order, rotating across selections."""

    def __init__(self, ctx: EvalContext, nodes: list[Node]) -> None:
        self.ctx = ctx
        self.nodes = list(nodes)
        self.offset = 0
        self.seen = 0

    def set_nodes(self, nodes: list[Node]) -> None:
        self.nodes = list(nodes)
        self.offset = self.seen = 0

    def next(self) -> Node | None:
        n = len(self.nodes)
        if self.seen >= n:
            return None
        i = self.offset
        self.offset = (i + 1) % n
        self.seen += 1
        self.ctx.metrics.NodesEvaluated += 1
        return self._at(i, n)

    def _at(self, i: int, n: int) -> Node:
        return self.nodes[i]

    def reset(self) -> None:
        self.seen = 0


class RandomIterator(StaticIterator):
    """Nodes in a random order. The Fisher–Yates shuffle is done lazily, one position per
    first visit, so a selection costs O(nodes visited), not O(nodes)."""

    def __init__(self, ctx: EvalContext, nodes: list[Node]) -> None:
        super().__init__(ctx, nodes)
        self._shuffled = 0  # nodes[:_shuffled] are in their final random order

    def _at(self, i: int, n: int) -> Node:
        nodes = self.nodes
        if i >= self._shuffled:
            j = self.ctx.rng.randrange(i, n)
            nodes[i], nodes[j] = nodes[j], nodes[i]
            self._shuffled = i + 1
        return nodes[i]
