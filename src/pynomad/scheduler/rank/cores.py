"""Reserved cores (`resources { cores = N }`, Nomad's BinPackIterator core reservation).

Each task asking for cores gets N of the node's reservable cores
(`NodeResources.Cpu.ReservableCpuCores`) that no other allocation on the node, planned or
existing, holds and no earlier task of the same placement took, lowest IDs first
(`AllocatedResources.Tasks[t].Cpu.ReservedCores`). Its cpu is N × the node's MHz per core
(CpuShares / TotalCpuCores), so the cpu fit and score see whole cores. Exhausted as
`cores`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ...structs import Allocation, Node, TaskGroup
from ..context import EvalContext
from .base import RankedNode

EXHAUSTED_CORES = "cores"


def reserved_cores(alloc: Allocation) -> Iterable[int]:
    ar = alloc.AllocatedResources
    for task in (ar.Tasks or {}).values() if ar is not None else ():
        if task.Cpu is not None:
            yield from task.Cpu.ReservedCores or ()


def shares_per_core(node: Node) -> int:
    cpu = node.NodeResources.Cpu
    return cpu.CpuShares // cpu.TotalCpuCores if cpu.TotalCpuCores else 0


class CoreAssigner:
    def __init__(self, ctx: EvalContext, tasks: list[tuple[str, int]]) -> None:
        self.ctx = ctx
        self.tasks = tasks

    @classmethod
    def of(cls, ctx: EvalContext, tg: TaskGroup) -> "CoreAssigner | None":
        tasks = [(t.Name, t.Resources.Cores) for t in tg.Tasks or ()
                 if t.Resources is not None and (t.Resources.Cores or 0) > 0]
        return cls(ctx, tasks) if tasks else None

    def assign(self, option: RankedNode, evict: bool) -> str | None:
        node = option.node
        gone = {a.ID for a in option.preempted or ()}
        taken = {core for a in self.ctx.proposed_allocs(node.ID) if a.ID not in gone
                 for core in reserved_cores(a)}
        free = sorted(set(node.NodeResources.Cpu.ReservableCpuCores or ()) - taken)
        per_core = shares_per_core(node)
        offers: dict[str, tuple[list[int], int]] = {}
        for task, wanted in self.tasks:
            if len(free) < wanted:
                return EXHAUSTED_CORES
            cores, free = free[:wanted], free[wanted:]
            offers[task] = (cores, per_core * wanted)
            option.cpu += per_core * wanted
        option.cores = offers
        return None
