"""What the plan applier re-checks on a node beyond cpu, memory, disk and ports (Nomad's
AllocsFit): a reserved core belongs to the node's reservable cores and to one allocation
at most ("cores"), and a device instance is held by one allocation at most ("device
oversubscribed")."""

from __future__ import annotations

from collections.abc import Iterable

from ..structs import Allocation, Node, Plan
from .context import State
from .rank.cores import reserved_cores
from .rank.devices import DeviceAccounter

CORES_CONFLICT = "cores"
DEVICES_CONFLICT = "device oversubscribed"


def reserves_exclusive(alloc: Allocation) -> bool:
    """Whether the allocation holds reserved cores or device instances."""
    ar = alloc.AllocatedResources
    for task in (ar.Tasks or {}).values() if ar is not None else ():
        if task.Devices or (task.Cpu is not None and task.Cpu.ReservedCores):
            return True
    return False


def exclusive_fit(node: Node, allocs: Iterable[Allocation]) -> tuple[bool, str]:
    """Whether the allocations share no reserved core and no device instance."""
    allocs = [a for a in allocs if not a.client_terminal()]
    reservable = set(node.NodeResources.Cpu.ReservableCpuCores or ())
    seen: set[int] = set()
    for alloc in allocs:
        for core in reserved_cores(alloc):
            if core not in reservable or core in seen:
                return False, CORES_CONFLICT
            seen.add(core)
    if DeviceAccounter(node).add_allocs(allocs):
        return False, DEVICES_CONFLICT
    return True, ""


def plan_exclusive_fit(state: State, plan: Plan, node: Node,
                       placed: list[Allocation]) -> tuple[bool, str]:
    """`exclusive_fit` of what the plan leaves on the node: its live allocations minus the
    plan's stops and preemptions, plus `placed`. Free when nothing placed reserves any."""
    if not any(reserves_exclusive(a) for a in placed):
        return True, ""
    gone = {a.ID for a in (*plan.NodeUpdate.get(node.ID, ()),
                           *plan.NodePreemptions.get(node.ID, ()))}
    proposed = {a.ID: a for a in state.allocs_by_node_id(node.ID)
                if not a.terminal() and a.ID not in gone}
    proposed.update((a.ID, a) for a in placed)
    return exclusive_fit(node, proposed.values())
