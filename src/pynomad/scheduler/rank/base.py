"""The shape of a ranking step (Nomad's RankIterator) and the candidate it ranks.

`next()` returns the next ranked candidate or None when the source is exhausted; `reset()`
starts a new selection. Each step adds its score terms to the candidate: `score()` records
a term that counts in the final average, `note()` one that is only reported in
`ScoreMetaData` (Nomad's ScoreNode without appending to Scores).
"""

from __future__ import annotations

from typing import Protocol

from ...structs import Allocation, AllocatedResources, Node, NodeUsage
from ..group import Group, PortOffer


class RankedNode:
    """A feasible node with its score terms and the resources offered to the placement;
    the allocated resources are built only for the winner."""

    __slots__ = ("node", "group", "usage", "cpu", "scores", "total", "terms", "final",
                 "preempted", "ports", "devices", "cores", "device_affinity")

    def __init__(self, node: Node, group: Group, usage: NodeUsage) -> None:
        self.node = node
        self.group = group
        self.usage = usage            # the node's usage as the plan leaves it
        self.cpu = group.ask.cpu      # the group's cpu ask here (reserved cores change it)
        self.scores: dict[str, float] = {}
        self.total = 0.0
        self.terms = 0
        self.final = 0.0
        self.preempted: list[Allocation] | None = None
        self.ports: PortOffer | None = None
        self.devices: dict[str, list] | None = None
        self.cores: dict[str, tuple[list[int], int]] | None = None
        self.device_affinity: float | None = None

    def score(self, name: str, value: float) -> None:
        self.scores[name] = value
        self.total += value
        self.terms += 1

    def note(self, name: str, value: float) -> None:
        self.scores[name] = value

    def preempt(self, allocs: list[Allocation]) -> None:
        self.preempted = (self.preempted or []) + allocs

    @property
    def resources(self) -> AllocatedResources:
        return self.group.allocated(self.ports, self.devices, self.cores)


class RankIterator(Protocol):
    def next(self) -> RankedNode | None: ...
    def reset(self) -> None: ...
