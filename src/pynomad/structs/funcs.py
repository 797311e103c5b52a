"""Resource arithmetic shared by the scheduler and the plan applier (Nomad's funcs.go)."""

from __future__ import annotations

from collections.abc import Iterable

from .alloc import Allocation
from .node import Node

BINPACK_MAX_FIT_SCORE = 18.0


class Comparable:
    """Summed cpu/memory/disk of a set of allocations plus the host ports they hold."""

    __slots__ = ("cpu", "memory", "disk", "ports")

    def __init__(self) -> None:
        self.cpu = 0
        self.memory = 0
        self.disk = 0
        self.ports: set[int] = set()

    def add_alloc(self, alloc: Allocation) -> None:
        ar = alloc.AllocatedResources
        if ar is None:
            return
        for task in (ar.Tasks or {}).values():
            if task.Cpu is not None:
                self.cpu += task.Cpu.CpuShares
            if task.Memory is not None:
                self.memory += task.Memory.MemoryMB
        if ar.Shared is not None:
            self.disk += ar.Shared.DiskMB
            for p in ar.Shared.Ports or ():
                self.ports.add(p.Value)

    def sub_alloc(self, alloc: Allocation) -> None:
        ar = alloc.AllocatedResources
        if ar is None:
            return
        for task in (ar.Tasks or {}).values():
            if task.Cpu is not None:
                self.cpu -= task.Cpu.CpuShares
            if task.Memory is not None:
                self.memory -= task.Memory.MemoryMB
        if ar.Shared is not None:
            self.disk -= ar.Shared.DiskMB
            for p in ar.Shared.Ports or ():
                self.ports.discard(p.Value)

    def copy(self) -> "Comparable":
        c = Comparable()
        c.cpu, c.memory, c.disk, c.ports = self.cpu, self.memory, self.disk, set(self.ports)
        return c


class NodeUsage(Comparable):
    """What a node's live allocations use, plus how many each (namespace, job, group) has
    there. Kept incrementally as allocations come and go, never re-summed."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[tuple[str, str, str], int] = {}

    def add(self, alloc: Allocation) -> None:
        self.add_alloc(alloc)
        key = (alloc.Namespace, alloc.JobID, alloc.TaskGroup)
        self.counts[key] = self.counts.get(key, 0) + 1

    def remove(self, alloc: Allocation) -> None:
        self.sub_alloc(alloc)
        key = (alloc.Namespace, alloc.JobID, alloc.TaskGroup)
        left = self.counts.get(key, 0) - 1
        if left > 0:
            self.counts[key] = left
        else:
            self.counts.pop(key, None)

    def copy(self) -> "NodeUsage":
        c = NodeUsage()
        c.cpu, c.memory, c.disk, c.ports = self.cpu, self.memory, self.disk, set(self.ports)
        c.counts = dict(self.counts)
        return c


def node_capacity(node: Node) -> tuple[int, int, int]:
    """Schedulable cpu (MHz), memory (MB) and disk (MB): node resources minus reserved."""
    nr, rr = node.NodeResources, node.ReservedResources
    return (nr.Cpu.CpuShares - rr.Cpu.CpuShares, nr.Memory.MemoryMB - rr.Memory.MemoryMB,
            nr.Disk.DiskMB - rr.Disk.DiskMB)


def fits(node: Node, used: Comparable) -> tuple[bool, str]:
    """Whether `used` fits on `node`; the exhausted dimension when it doesn't."""
    cpu, mem, disk = node_capacity(node)
    if used.cpu > cpu:
        return False, "cpu"
    if used.memory > mem:
        return False, "memory"
    if used.disk > disk:
        return False, "disk"
    return True, ""


def allocs_fit(node: Node, allocs: Iterable[Allocation]) -> tuple[bool, str]:
    """Nomad's AllocsFit: resources and port collisions of the proposed alloc set."""
    used = Comparable()
    for a in allocs:
        before = len(used.ports)
        ports = _alloc_ports(a)
        used.add_alloc(a)
        if len(used.ports) - before != len(ports):
            return False, "network: port collision"
    return fits(node, used)


def _alloc_ports(alloc: Allocation) -> list[int]:
    ar = alloc.AllocatedResources
    if ar is None or ar.Shared is None:
        return []
    return [p.Value for p in ar.Shared.Ports or ()]


def score_fit(node: Node, used: Comparable, algorithm: str = "binpack") -> float:
    """Nomad's ScoreFitBinPack / ScoreFitSpread, in [0, 18]."""
    cpu, mem, _ = node_capacity(node)
    free_cpu = 1.0 - used.cpu / cpu if cpu > 0 else 0.0
    free_mem = 1.0 - used.memory / mem if mem > 0 else 0.0
    total = 10 ** free_cpu + 10 ** free_mem
    score = total - 2 if algorithm == "spread" else 20 - total
    return min(max(score, 0.0), BINPACK_MAX_FIT_SCORE)
