"""Device instances for a placement (Nomad's deviceAllocator / DeviceAccounter).

For every `device` request of every task, the first of the node's device groups that
matches the request and has `count` free healthy instances, preferring the group whose
attributes match the request's affinities best, gives `count` instance IDs; the task's
`AllocatedResources.Tasks[t].Devices` records them. An instance is never given twice:
instances held by the node's other allocations (and by earlier tasks of the same
placement) are not free. Exhausted as `devices: <why>`.

DeviceAffinityIterator then scores the chosen groups' matched affinity weights over the
requests' total weight → `devices` (only when a request has affinities).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ...structs import Allocation, Node, TaskGroup
from ..context import EvalContext
from ..feasible.attribute import Attribute
from ..feasible.device import (Device, Request, check_attribute, device_id, device_matches,
                               group_device_requests, meets, request_count,
                               resolve_device_target)
from .base import RankedNode, RankIterator
from .node_affinity import weight_or_default

NO_DEVICES = "no devices available"
ZERO_DEVICES = "invalid request of zero devices"
NO_MATCH = "no devices match request"


def allocated_devices(alloc: Allocation) -> Iterable[dict[str, Any]]:
    ar = alloc.AllocatedResources
    for task in (ar.Tasks or {}).values() if ar is not None else ():
        yield from task.Devices or ()


class DeviceAccounter:
    """How many allocations use each healthy instance of each of a node's device groups."""

    def __init__(self, node: Node) -> None:
        self.groups: list[tuple[Device, dict[str, int]]] = []
        self._by_id: dict[tuple[str, str, str], dict[str, int]] = {}
        for dev in node.NodeResources.Devices or ():
            instances = {i.get("ID") or "": 0 for i in dev.get("Instances") or ()
                         if i.get("Healthy")}
            self.groups.append((dev, instances))
            self._by_id[device_id(dev)] = instances

    def add_allocs(self, allocs: Iterable[Allocation]) -> bool:
        """Count the instances the allocations hold; True when one is held twice."""
        collision = False
        for alloc in allocs:
            if alloc.client_terminal():
                continue
            for offer in allocated_devices(alloc):
                collision |= self.add_reserved(offer)
        return collision

    def add_reserved(self, offer: dict[str, Any]) -> bool:
        key = (offer.get("Vendor") or "", offer.get("Type") or "", offer.get("Name") or "")
        instances = self._by_id.get(key)
        collision = False
        for iid in offer.get("DeviceIDs") or ():
            if instances is not None and iid in instances:
                collision |= instances[iid] > 0
                instances[iid] += 1
        return collision

    def assign(self, req: Request) -> tuple[dict[str, Any] | None, float, str]:
        """The best offer for a request, the matched affinity weight, or why there's none."""
        if not self.groups:
            return None, 0.0, NO_DEVICES
        count = request_count(req)
        if count == 0:
            return None, 0.0, ZERO_DEVICES
        best: tuple[float, float, dict[str, Any]] | None = None
        for dev, instances in self.groups:
            if sum(1 for n in instances.values() if n == 0) < count:
                continue
            if not device_matches(dev, req):
                continue
            ids = [iid for iid, n in instances.items()
                   if n == 0 and _id_allowed(iid, req, dev)][:count]
            if len(ids) < count:
                continue
            score, matched = _affinity(req, dev)
            if best is None or score > best[0]:
                vendor, typ, name = device_id(dev)
                best = (score, matched, {"Vendor": vendor, "Type": typ, "Name": name,
                                         "DeviceIDs": ids})
        if best is None:
            return None, 0.0, NO_MATCH
        return best[2], best[1], ""


def _affinity(req: Request, dev: Device) -> tuple[float, float]:
    """(normalized score, sum of matched weights) of the request's affinities on `dev`."""
    total = matched = 0.0
    for a in req.get("Affinities") or ():
        weight = weight_or_default(a.get("Weight"))
        total += abs(weight)
        if meets(a, dev):
            matched += weight
    return (matched / total if total else 0.0), matched


def _id_allowed(iid: str, req: Request, dev: Device) -> bool:
    """Constraints on `${device.ids}` narrow which instances of a matching group qualify."""
    for c in req.get("Constraints") or ():
        if c.get("LTarget") == "${device.ids}":
            other = c.get("RTarget") or ""
        elif c.get("RTarget") == "${device.ids}":
            other = c.get("LTarget") or ""
        else:
            continue
        target, _ = resolve_device_target(other, dev)
        if not check_attribute(c.get("Operand") or "=", target, Attribute(iid), True, True):
            return False
    return True


class DeviceAssigner:
    def __init__(self, ctx: EvalContext, requests: list[tuple[str, Request]]) -> None:
        self.ctx = ctx
        self.requests = requests

    @classmethod
    def of(cls, ctx: EvalContext, tg: TaskGroup) -> "DeviceAssigner | None":
        requests = group_device_requests(tg)
        return cls(ctx, requests) if requests else None

    def assign(self, option: RankedNode, evict: bool) -> str | None:
        gone = {a.ID for a in option.preempted or ()}
        accounter = DeviceAccounter(option.node)
        accounter.add_allocs(a for a in self.ctx.proposed_allocs(option.node.ID)
                             if a.ID not in gone)
        offers: dict[str, list[dict[str, Any]]] = {}
        total_weight = matched = 0.0
        for task, req in self.requests:
            offer, weight, why = accounter.assign(req)
            if offer is None:
                return f"devices: {why}"
            accounter.add_reserved(offer)
            offers.setdefault(task, []).append(offer)
            if req.get("Affinities"):
                total_weight += sum(abs(weight_or_default(a.get("Weight")))
                                    for a in req["Affinities"])
                matched += weight
        option.devices = offers
        if total_weight:
            option.device_affinity = matched / total_weight
        return None


class DeviceAffinityIterator:
    def __init__(self, source: RankIterator) -> None:
        self.source = source

    @classmethod
    def wrap(cls, source: RankIterator, tg: TaskGroup) -> RankIterator:
        weighted = any(req.get("Affinities") for _, req in group_device_requests(tg))
        return cls(source) if weighted else source

    def next(self) -> RankedNode | None:
        option = self.source.next()
        if option is not None and option.device_affinity is not None:
            option.score("devices", option.device_affinity)
        return option

    def reset(self) -> None:
        self.source.reset()
