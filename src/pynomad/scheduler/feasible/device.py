"""Nomad's DeviceChecker: the node has enough healthy instances of devices matching each of
the group's `device` requests (name and constraints), counted greedily over the node's
device groups. The count of free instances is the bin-packer's business (rank.devices).

A request names `type`, `vendor/type` or `vendor/type/model`; its constraints and
affinities use `${device.vendor}`, `${device.type}`, `${device.model}`, `${device.ids}`
and `${device.attr.<name>}`, compared as typed attributes with units.
"""

from __future__ import annotations

from typing import Any

from ...structs import Node, TaskGroup
from .attribute import Attribute
from .operators import check_version, compiled_regexp

FILTER_DEVICES = "missing devices"

Device = dict[str, Any]   # a NodeDeviceResource: Vendor, Type, Name, Instances, Attributes
Request = dict[str, Any]  # a RequestedDevice: Name, Count, Constraints, Affinities


def request_id(req: Request) -> tuple[str, str, str]:
    """(vendor, type, model) of a request; empty parts match anything."""
    parts = (req.get("Name") or "").split("/", 2)
    if len(parts) == 1:
        return "", parts[0], ""
    if len(parts) == 2:
        return parts[0], parts[1], ""
    return parts[0], parts[1], parts[2]


def device_id(dev: Device) -> tuple[str, str, str]:
    return dev.get("Vendor") or "", dev.get("Type") or "", dev.get("Name") or ""


def id_matches(dev: Device, req: Request) -> bool:
    want = request_id(req)
    have = device_id(dev)
    return all(not w or w == h for w, h in zip(want, have))


def request_count(req: Request) -> int:
    count = req.get("Count")
    return 1 if count is None else int(count)


def healthy_instances(dev: Device) -> list[str]:
    return [i.get("ID") or "" for i in dev.get("Instances") or () if i.get("Healthy")]


def resolve_device_target(target: str, dev: Device) -> tuple[Attribute | None, bool]:
    """Nomad's resolveDeviceTarget."""
    if not target.startswith("${"):
        return Attribute.parse(target), True
    if target == "${device.ids}":
        ids = ",".join(i.get("ID") or "" for i in dev.get("Instances") or ())
        return Attribute(ids), True
    if target == "${device.model}":
        return Attribute(dev.get("Name") or ""), True
    if target == "${device.vendor}":
        return Attribute(dev.get("Vendor") or ""), True
    if target == "${device.type}":
        return Attribute(dev.get("Type") or ""), True
    if target.startswith("${device.attr.") and target.endswith("}"):
        attr = Attribute.from_json((dev.get("Attributes") or {}).get(target[14:-1]))
        return attr, attr is not None
    return None, False


def check_attribute(operand: str, lval: Attribute | None, rval: Attribute | None,
                    lfound: bool, rfound: bool) -> bool:
    """Nomad's checkAttributeConstraint (and checkAttributeAffinity)."""
    if operand in ("distinct_hosts", "distinct_property"):
        return True
    if operand == "is_set":
        return lfound
    if operand == "is_not_set":
        return not lfound
    if operand in ("!=", "not"):
        if lfound != rfound:
            return True
        if not lfound or lval is None or rval is None:
            return False
        cmp = lval.compare(rval)
        return cmp is not None and cmp != 0
    if not (lfound and rfound) or lval is None or rval is None:
        return False
    if operand in ("=", "==", "is", "<", "<=", ">", ">="):
        cmp = lval.compare(rval)
        if cmp is None:
            return False
        return {"=": cmp == 0, "==": cmp == 0, "is": cmp == 0, "<": cmp < 0,
                "<=": cmp <= 0, ">": cmp > 0, ">=": cmp >= 0}[operand]
    if operand in ("version", "semver"):
        have = lval.text if lval.text is not None else (
            str(lval.value) if isinstance(lval.value, int) and not isinstance(lval.value, bool)
            else None)
        return have is not None and rval.text is not None and \
            check_version(have, rval.text, strict=operand == "semver")
    ls, rs = lval.text, rval.text
    if ls is None or rs is None:
        return False
    if operand == "regexp":
        pattern = compiled_regexp(rs)
        return pattern is not None and pattern.search(ls) is not None
    have = {s.strip() for s in ls.split(",")}
    if operand in ("set_contains", "set_contains_all"):
        return all(s.strip() in have for s in rs.split(","))
    if operand == "set_contains_any":
        return any(s.strip() in have for s in rs.split(","))
    return False


def meets(rule: dict[str, Any], dev: Device) -> bool:
    """Whether one device constraint or affinity holds for a device group."""
    lval, lok = resolve_device_target(rule.get("LTarget") or "", dev)
    rval, rok = resolve_device_target(rule.get("RTarget") or "", dev)
    return check_attribute(rule.get("Operand") or "=", lval, rval, lok, rok)


def device_matches(dev: Device, req: Request) -> bool:
    """Nomad's nodeDeviceMatches: the name matches and every constraint holds."""
    return id_matches(dev, req) and all(meets(c, dev) for c in req.get("Constraints") or ())


def group_device_requests(tg: TaskGroup) -> list[tuple[str, Request]]:
    """(task name, request) for every device request of the group's tasks."""
    return [(task.Name, req) for task in tg.Tasks or ()
            for req in (task.Resources.Devices if task.Resources else None) or ()
            if isinstance(req, dict)]


class DeviceChecker:
    def __init__(self, requests: list[Request]) -> None:
        self.requests = requests

    @classmethod
    def of(cls, tg: TaskGroup) -> "DeviceChecker | None":
        requests = [req for _, req in group_device_requests(tg)]
        return cls(requests) if requests else None

    def check(self, node: Node) -> str | None:
        devices = node.NodeResources.Devices or []
        available = [[d, len(healthy_instances(d))] for d in devices]
        for req in self.requests:
            wanted = request_count(req)
            for entry in available:
                if wanted == 0:
                    break
                if entry[1] and device_matches(entry[0], req):
                    take = min(wanted, entry[1])
                    entry[1] -= take
                    wanted -= take
            if wanted > 0:
                return FILTER_DEVICES
        return None
