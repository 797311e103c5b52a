"""AllocMetric bookkeeping, as Nomad's AllocMetric methods fill it.

FilterNode/ExhaustedNode count per node class only when the node has one; ScoreNode keeps
the five best-scoring nodes by normalized score (ScoreMetaData, best first).
"""

from __future__ import annotations

import heapq

from ..structs import (AllocMetric, Node, NodeScoreMeta, NodeScores, Resources, TaskGroup,
                       shared_float)

MAX_RETAINED_NODE_SCORES = 5


def _bump(metric: AllocMetric, field: str, key: str) -> None:
    counts = getattr(metric, field)
    if counts is None:
        counts = {}
        setattr(metric, field, counts)
    counts[key] = counts.get(key, 0) + 1


def filter_node(metric: AllocMetric, node: Node, reason: str) -> bool:
    """Record a node removed by a feasibility check; returns False for `return filter_...`."""
    metric.NodesFiltered += 1
    if node.NodeClass:
        _bump(metric, "ClassFiltered", node.NodeClass)
    if reason:
        _bump(metric, "ConstraintFiltered", reason)
    return False


def exhausted_node(metric: AllocMetric, node: Node, dimension: str) -> None:
    """Record a feasible node that lacked room (`cpu`, `memory`, `disk`, `network: ...`)."""
    metric.NodesExhausted += 1
    if node.NodeClass:
        _bump(metric, "ClassExhausted", node.NodeClass)
    if dimension:
        _bump(metric, "DimensionExhausted", dimension)


def exhaust_resources(metric: AllocMetric, tg: TaskGroup, times: int = 1) -> None:
    """Nomad's ExhaustResources: add the group's cpu/memory asks per task when exhausted
    (`times` failed placements at once)."""
    dims = metric.DimensionExhausted
    if not dims or times <= 0:
        return
    if metric.ResourcesExhausted is None:
        metric.ResourcesExhausted = {}
    for task in tg.Tasks or ():
        have = metric.ResourcesExhausted.get(task.Name) or Resources(CPU=0, MemoryMB=0)
        res = task.Resources or Resources()
        if dims.get("memory"):
            have.MemoryMB = (have.MemoryMB or 0) + (res.MemoryMB or 0) * times
        if dims.get("cpu"):
            have.CPU = (have.CPU or 0) + (res.CPU or 0) * times
        metric.ResourcesExhausted[task.Name] = have


class TopScores:
    """The top-K nodes by normalized score for AllocMetric.ScoreMetaData.

    Candidates are kept as plain tuples; structs are built only for the final K."""

    def __init__(self, k: int = MAX_RETAINED_NODE_SCORES) -> None:
        self.k = k
        self._heap: list[tuple[float, int, str, dict[str, float]]] = []
        self._seq = 0

    def add(self, node_id: str, scores: dict[str, float], norm: float) -> None:
        self._seq -= 1
        entry = (norm, self._seq, node_id, scores)
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, entry)
        elif entry[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, entry)

    def result(self) -> list[NodeScoreMeta] | None:
        if not self._heap:
            return None
        # (score, seq) pairs are unique, so sorting never compares node IDs or dicts
        return [NodeScoreMeta(NodeID=node_id, Scores=NodeScores.from_dict(scores),
                              NormScore=shared_float(norm))
                for norm, _, node_id, scores in sorted(self._heap, reverse=True)]
