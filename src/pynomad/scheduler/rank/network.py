"""Host ports for a task group on a node (a small NetworkIndex), the first resource the
bin-packer assigns: static ports must be free, dynamic ones are picked at random in the
node's range. Exhausted as `network: <reason>`; with eviction allowed, the allocations
holding the wanted static ports may be preempted."""

from __future__ import annotations

import random

from ...structs import (AllocatedPortMapping, Allocation, NetworkResource, Node, Port,
                        TaskGroup)
from ..context import EvalContext
from ..preemption import Preemptor
from .base import RankedNode

MAX_RAND_PORT_ATTEMPTS = 20


def node_ip(node: Node) -> str:
    for net in node.NodeResources.Networks or ():
        if net.IP:
            return net.IP
    return node.Attributes.get("unique.network.ip-address", "127.0.0.1")


def group_networks(tg: TaskGroup) -> list[NetworkResource]:
    nets = list(tg.Networks or ())
    for task in tg.Tasks or ():
        if task.Resources is not None:
            nets += task.Resources.Networks or ()
    return nets


Assigned = tuple[list[NetworkResource], list[AllocatedPortMapping]]


def static_ports(tg: TaskGroup) -> set[int]:
    return {p.Value for net in group_networks(tg) for p in net.ReservedPorts or ()}


def assign_ports(tg: TaskGroup, node: Node, used: set[int], rng: random.Random
                 ) -> tuple[Assigned | None, str]:
    """Pick host ports for the group's networks. On failure returns (None, reason) with
    Nomad's NetworkIndex reasons (`reserved port collision http=80`, `dynamic port
    selection failed`)."""
    networks = group_networks(tg)
    if not networks:
        return ([], []), ""
    ip = node_ip(node)
    taken = set(used)
    out_nets: list[NetworkResource] = []
    mappings: list[AllocatedPortMapping] = []
    for net in networks:
        reserved, dynamic = [], []
        for p in net.ReservedPorts or ():
            if p.Value in taken:
                return None, f"reserved port collision {p.Label}={p.Value}"
            taken.add(p.Value)
            reserved.append(Port(Label=p.Label, Value=p.Value, To=p.To, HostNetwork=p.HostNetwork or "default"))
        for p in net.DynamicPorts or ():
            value = _pick_dynamic(node, taken, rng)
            if value is None:
                return None, "dynamic port selection failed"
            taken.add(value)
            dynamic.append(Port(Label=p.Label, Value=value, To=p.To, HostNetwork=p.HostNetwork or "default"))
        for p in reserved + dynamic:
            mappings.append(AllocatedPortMapping(Label=p.Label, Value=p.Value, To=p.To, HostIP=ip))
        out_nets.append(NetworkResource(Mode=net.Mode or "host", Device=net.Device, IP=ip,
                                        MBits=net.MBits or 0, ReservedPorts=reserved or None,
                                        DynamicPorts=dynamic or None))
    return (out_nets, mappings), ""


def _pick_dynamic(node: Node, taken: set[int], rng: random.Random) -> int | None:
    lo, hi = node.NodeResources.MinDynamicPort, node.NodeResources.MaxDynamicPort
    for _ in range(MAX_RAND_PORT_ATTEMPTS):
        port = rng.randint(lo, hi)
        if port not in taken:
            return port
    for port in range(lo, hi + 1):
        if port not in taken:
            return port
    return None


def held_ports(alloc: Allocation) -> set[int]:
    ar = alloc.AllocatedResources
    return {p.Value for p in (ar.Shared.Ports or ())} if ar and ar.Shared else set()


class NetworkAssigner:
    def __init__(self, ctx: EvalContext, tg: TaskGroup, preemptor: Preemptor) -> None:
        self.ctx = ctx
        self.tg = tg
        self.preemptor = preemptor
        self.static_ports = static_ports(tg)

    @classmethod
    def of(cls, ctx: EvalContext, tg: TaskGroup, preemptor: Preemptor) -> "NetworkAssigner | None":
        return cls(ctx, tg, preemptor) if group_networks(tg) else None

    def assign(self, option: RankedNode, evict: bool) -> str | None:
        node = option.node
        ports, reason = assign_ports(self.tg, node, option.usage.ports, self.ctx.rng)
        if ports is None and evict:
            ports = self._preempt(option)
        if ports is None:
            return f"network: {reason}"
        option.ports = ports
        return None

    def _preempt(self, option: RankedNode) -> Assigned | None:
        proposed = self.ctx.proposed_allocs(option.node.ID)
        victims = self.preemptor.preempt_for_ports(proposed, self.static_ports)
        if not victims:
            return None
        freed = set(option.usage.ports)
        for v in victims:
            freed -= held_ports(v)
        ports, _ = assign_ports(self.tg, option.node, freed, self.ctx.rng)
        if ports is not None:
            option.preempt(victims)
        return ports
