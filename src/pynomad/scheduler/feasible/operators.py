"""The constraint language: target resolution (`${attr.*}`, `${meta.*}`, `${node.*}`) and
every operator, as Nomad's resolveTarget / checkConstraint.

Pure functions over `structs.Node`, shared by the constraint checker, affinities, spread
and the property sets.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ...structs import Constraint, Node


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
        return compiled_regexp(rval).search(lval) is not None if compiled_regexp(rval) else False
    if operand in ("set_contains", "set_contains_all"):
        have = {s.strip() for s in lval.split(",")}
        return all(s.strip() in have for s in rval.split(","))
    if operand == "set_contains_any":
        have = {s.strip() for s in lval.split(",")}
        return any(s.strip() in have for s in rval.split(","))
    if operand in ("version", "semver"):
        return check_version(lval, rval, strict=operand == "semver")
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
def compiled_regexp(pattern: str) -> re.Pattern | None:
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


def check_version(lval: str, constraint: str, strict: bool) -> bool:
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
