"""What the placement chain needs about one task group, computed once per evaluation: its
constraints (group and tasks), its resource ask, and the allocated resources of a placement
(shared by every placement that gets no ports, devices or cores of its own)."""

from __future__ import annotations

from ..structs import (AllocatedCpuResources, AllocatedMemoryResources, AllocatedResources,
                       AllocatedSharedResources, AllocatedTaskResources, Comparable, Constraint,
                       Resources, TaskGroup)

PortOffer = tuple[list, list]  # (networks, port mappings), as rank.network assigns them


def group_constraints(tg: TaskGroup) -> list[Constraint]:
    """Group and task constraints (Nomad's TaskGroupConstraints); job ones are separate."""
    out = list(tg.Constraints or ())
    for task in tg.Tasks or ():
        out += task.Constraints or ()
    return out


def group_ask(tg: TaskGroup) -> Comparable:
    ask = Comparable()
    for task in tg.Tasks or ():
        res = task.Resources
        if res is not None:
            ask.cpu += res.CPU or 0
            ask.memory += res.MemoryMB or 0
    ask.disk = tg.EphemeralDisk.SizeMB if tg.EphemeralDisk and tg.EphemeralDisk.SizeMB else 0
    return ask


class Group:
    def __init__(self, tg: TaskGroup) -> None:
        self.tg = tg
        self.name = tg.Name
        self.count = tg.Count or 0
        self.ask = group_ask(tg)
        self._shared: AllocatedResources | None = None

    def allocated(self, ports: PortOffer | None, devices: dict[str, list] | None,
                  cores: dict[str, tuple[list[int], int]] | None) -> AllocatedResources:
        """The allocation's resources; without offers of its own it shares one object."""
        if (ports is not None and (ports[0] or ports[1])) or devices or cores:
            return self._build(ports, devices, cores)
        if self._shared is None:
            self._shared = self._build(None, None, None)
        return self._shared

    def _build(self, ports: PortOffer | None, devices: dict[str, list] | None,
               cores: dict[str, tuple[list[int], int]] | None) -> AllocatedResources:
        tg = self.tg
        networks, mappings = ports or ([], [])
        tasks = {}
        for task in tg.Tasks or ():
            res = task.Resources or Resources()
            reserved, shares = (cores or {}).get(task.Name, (None, res.CPU or 0))
            tasks[task.Name] = AllocatedTaskResources(
                Cpu=AllocatedCpuResources(CpuShares=shares, ReservedCores=reserved),
                Memory=AllocatedMemoryResources(MemoryMB=res.MemoryMB or 0,
                                                MemoryMaxMB=res.MemoryMaxMB or 0),
                Devices=(devices or {}).get(task.Name))
        shared = AllocatedSharedResources(DiskMB=self.ask.disk, Networks=networks or None,
                                          Ports=mappings or None)
        return AllocatedResources(Tasks=tasks, Shared=shared)
