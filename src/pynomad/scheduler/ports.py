"""Host-mode port assignment for a task group on a node (a small NetworkIndex)."""

from __future__ import annotations

import random

from ..structs import (AllocatedPortMapping, NetworkResource, Node, Port, TaskGroup)

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
