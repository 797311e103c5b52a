"""Feasibility: constraint operators, target resolution, driver, datacenter and host
volume checks.

Pure functions over `structs.Node`; results (host volumes aside) are cached per computed
node class by the stack.
"""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache

from ..structs import Constraint, Node, TaskGroup

HOST_VOLUMES_FILTER = "missing compatible host volumes"


def resolve_target(target: str, node: Node) -> tuple[str | None, bool]:
    """Nomad's resolveTarget: `${node.*}`, `${attr.*}`, `${meta.*}` or a literal."""
    if not target.startswith("${"):
        return target, True
    inner = target[2:-1] if target.endswith("}") else target[2:]
    if inner == "node.unique.id":
        return node.ID, True
    if inner == "node.datacenter":
        return node.Datacenter, True
    if inner == "node.unique.name":
        return node.Name, True
    if inner == "node.class":
        return node.NodeClass, True
    if inner == "node.pool":
        return node.NodePool, True
    if inner.startswith("attr."):
        val = node.Attributes.get(inner[5:])
        return val, val is not None
    if inner.startswith("meta."):
        val = node.Meta.get(inner[5:])
        return val, val is not None
    return None, False


def check_constraint(operand: str, lval: str | None, rval: str | None,
                     lfound: bool, rfound: bool) -> bool:
    """Nomad's checkConstraint for every operator that compares two values."""
    if operand in ("=", "==", "is"):
        return lfound and rfound and lval == rval
    if operand in ("distinct_hosts", "distinct_property"):
        return True  # checked against proposed allocations by the stack
    if operand in ("!=", "not"):
        return (lval or "") != (rval or "")
    if operand in ("<", "<=", ">", ">="):
        return lfound and rfound and _check_order(operand, lval, rval)
    if operand == "is_set":
        return lfound
    if operand == "is_not_set":
        return not lfound
    if not (lfound and rfound):
        return False
    if operand == "regexp":
        return _regexp(rval).search(lval) is not None if _regexp(rval) else False
    if operand in ("set_contains", "set_contains_all"):
        have = {s.strip() for s in lval.split(",")}
        return all(s.strip() in have for s in rval.split(","))
    if operand == "set_contains_any":
        have = {s.strip() for s in lval.split(",")}
        return any(s.strip() in have for s in rval.split(","))
    if operand in ("version", "semver"):
        return _check_version(lval, rval, strict=operand == "semver")
    return False


def _check_order(op: str, lval: str, rval: str) -> bool:
    for conv in (int, float):
        try:
            lv, rv = conv(lval), conv(rval)
            break
        except (TypeError, ValueError):
            continue
    else:
        lv, rv = lval, rval
    return {"<": lv < rv, "<=": lv <= rv, ">": lv > rv, ">=": lv >= rv}[op]


@lru_cache(maxsize=256)
def _regexp(pattern: str) -> re.Pattern | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def _parse_version(v: str, strict: bool):
    m = _VERSION.match(v.strip())
    if not m or (strict and (m.group(2) is None or m.group(3) is None)):
        return None
    nums = tuple(int(x or 0) for x in m.group(1, 2, 3))
    return nums, m.group(4) or ""


def _check_version(lval: str, constraint: str, strict: bool) -> bool:
    have = _parse_version(lval, strict)
    if have is None:
        return False
    for part in constraint.split(","):
        m = re.match(r"^\s*(>=|<=|!=|~>|=|>|<)?\s*(\S+)\s*$", part)
        if not m:
            return False
        op, want = m.group(1) or "=", _parse_version(m.group(2), strict)
        if want is None or not _version_op(op, have, want, m.group(2)):
            return False
    return True


def _version_op(op: str, have, want, raw: str) -> bool:
    if have[1] and not want[1]:
        return False  # prereleases match only constraints that name a prerelease
    hk, wk = (have[0], have[1] == "", have[1]), (want[0], want[1] == "", want[1])
    if op == "~>":
        depth = raw.lstrip("v").split("-")[0].count(".")
        prefix = max(depth, 1)
        return hk >= wk and have[0][:prefix] == want[0][:prefix]
    return {"=": hk == wk, "!=": hk != wk, ">": hk > wk, "<": hk < wk,
            ">=": hk >= wk, "<=": hk <= wk}[op]


def meets_constraint(c: Constraint, node: Node) -> bool:
    lval, lfound = resolve_target(c.LTarget, node)
    rval, rfound = resolve_target(c.RTarget, node)
    return check_constraint(c.Operand, lval, rval, lfound, rfound)


_ESCAPING_PREFIXES = ("${unique.", "${node.unique.", "${attr.unique.", "${meta.unique.")


def target_escapes(target: str) -> bool:
    """Whether a target names a unique attribute, which the computed class doesn't hash."""
    return target.startswith(_ESCAPING_PREFIXES)


def escapes_class(constraints: list[Constraint]) -> bool:
    """Constraints on unique attributes can't be cached per computed class."""
    return any(target_escapes(c.LTarget) or target_escapes(c.RTarget) for c in constraints)


def constraint_string(c: Constraint) -> str:
    """How a constraint is named in AllocMetric.ConstraintFiltered (Constraint.String)."""
    return f"{c.LTarget} {c.Operand} {c.RTarget}"


_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def distinct_hosts_enabled(constraints: list[Constraint] | None) -> bool:
    """The first distinct_hosts constraint decides: empty or unparsable RTarget means on."""
    for c in constraints or ():
        if c.Operand == "distinct_hosts":
            return c.RTarget == "" or c.RTarget in _TRUE or c.RTarget not in _FALSE
    return False


def has_driver(node: Node, driver: str) -> bool:
    info = node.Drivers.get(driver)
    if info is not None:
        return info.Detected and info.Healthy
    return node.Attributes.get(f"driver.{driver}") in ("1", "true")


def in_datacenters(node: Node, datacenters: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(node.Datacenter, dc) for dc in datacenters)


def host_volume_requests(tg: TaskGroup, alloc_name: str = "") -> dict[str, list[bool]]:
    """The group's host volumes by source, with each request's read-only flag. A per-alloc
    volume's source gets the alloc's index suffix (`data` → `data[2]`)."""
    requests: dict[str, list[bool]] = {}
    for req in (tg.Volumes or {}).values():
        if not isinstance(req, dict) or req.get("Type") != "host":
            continue
        source = req.get("Source") or ""
        if req.get("PerAlloc"):
            source += alloc_name[alloc_name.rfind("["):] if "[" in alloc_name else ""
        requests.setdefault(source, []).append(bool(req.get("ReadOnly")))
    return requests


def has_host_volumes(node: Node, requests: dict[str, list[bool]]) -> bool:
    """Nomad's HostVolumeChecker: every source exists on the node, and a read-only node
    volume is only requested read-only."""
    volumes = node.HostVolumes or {}
    for source, read_only in requests.items():
        volume = volumes.get(source)
        if volume is None or (volume.ReadOnly and not all(read_only)):
            return False
    return True
