"""Nomad's BinPackIterator: the first ranking step. It upgrades each feasible node to a
ranked candidate, lets the group's resource assigners (ports, devices, cores) make their
offers, checks that cpu, memory and disk fit next to what the plan leaves on the node
(preempting lower-priority allocations when eviction is allowed), and scores the fit:
`binpack` packs nodes full, the `spread` algorithm keeps them empty.

An assigner answers `assign(option, evict)` with None, or the exhausted dimension.
"""

from __future__ import annotations

from typing import Protocol

from ...structs import Node
from ...structs.funcs import BINPACK_MAX_FIT_SCORE
from ..context import EvalContext
from ..feasible.base import FeasibleIterator
from ..group import Group
from ..metrics import exhausted_node
from ..preemption import Preemptor, alloc_resources
from .base import RankedNode


class ResourceAssigner(Protocol):
    def assign(self, option: RankedNode, evict: bool) -> str | None: ...


def fit_score(cap: tuple[int, int, int], cpu: int, mem: int, algorithm: str) -> float:
    """ScoreFitBinPack / ScoreFitSpread (structs.score_fit) normalized by 18."""
    free_cpu = 1.0 - cpu / cap[0] if cap[0] > 0 else 0.0
    free_mem = 1.0 - mem / cap[1] if cap[1] > 0 else 0.0
    total = 10 ** free_cpu + 10 ** free_mem
    score = total - 2 if algorithm == "spread" else 20 - total
    return min(max(score, 0.0), BINPACK_MAX_FIT_SCORE) / BINPACK_MAX_FIT_SCORE


class BinPackIterator:
    def __init__(self, ctx: EvalContext, source: FeasibleIterator, group: Group,
                 algorithm: str, assigners: list[ResourceAssigner],
                 preemptor: Preemptor) -> None:
        self.ctx = ctx
        self.source = source
        self.group = group
        self.algorithm = algorithm
        self.assigners = assigners
        self.preemptor = preemptor

    def next(self) -> RankedNode | None:
        ctx, group = self.ctx, self.group
        while True:
            node = self.source.next()
            if node is None:
                return None
            option = RankedNode(node, group, ctx.usage(node.ID))
            evict = ctx.options.evict
            dim = self._assign(option, evict) if self.assigners else None
            if dim is None:
                dim = self._fit(option, evict)
            if dim is not None:
                exhausted_node(ctx.metrics, node, dim)
                continue
            return option

    def reset(self) -> None:
        self.source.reset()

    def _assign(self, option: RankedNode, evict: bool) -> str | None:
        for assigner in self.assigners:
            dim = assigner.assign(option, evict)
            if dim is not None:
                return dim
        return None

    def _fit(self, option: RankedNode, evict: bool) -> str | None:
        node, used, ask = option.node, option.usage, self.group.ask
        cap = self.ctx.capacity(node)
        cpu, mem, disk = used.cpu + option.cpu, used.memory + ask.memory, used.disk + ask.disk
        for a in option.preempted or ():
            c, m, d = alloc_resources(a)
            cpu, mem, disk = cpu - c, mem - m, disk - d
        dim = "cpu" if cpu > cap[0] else "memory" if mem > cap[1] else \
            "disk" if disk > cap[2] else None
        if dim is not None:
            victims = self._preempt(node, option) if evict else None
            if not victims:
                return dim
            option.preempt(victims)
        option.score("binpack", fit_score(cap, cpu, mem, self.algorithm))
        return None

    def _preempt(self, node: Node, option: RankedNode):
        gone = {a.ID for a in option.preempted or ()}
        proposed = [a for a in self.ctx.proposed_allocs(node.ID) if a.ID not in gone]
        ask = (option.cpu, self.group.ask.memory, self.group.ask.disk)
        return self.preemptor.preempt_for_ask(node, proposed, ask)
