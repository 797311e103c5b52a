"""Nomad-specific decoding rules layered on :mod:`decode`, and normalization.

Covers what jobspec2's hcl_conversions.go and parse_job.go add to plain
decoding: constraint/affinity shorthands, ``env``/``meta`` written as
arguments, task ``scaling "cpu"|"mem"`` blocks, group and job level
``vault``, tasks directly under ``job`` (implicit groups), and the final
normalization (ID/Name from the label, ports, template and vault defaults).
"""

from __future__ import annotations

import copy
from typing import Any

from . import nodes as n
from .decode import Decoder, check_label_count
from .dynamic import ScopedBlock, expand_blocks
from .evaluate import Scope

_CONSTRAINT_ATTRS = {
    "attribute": "str", "value": "str", "operator": "str", "distinct_property": "str",
    "distinct_hosts": "bool", "regexp": "str", "version": "str", "semver": "str",
    "set_contains": "str", "set_contains_all": "str", "set_contains_any": "str",
    "is_set": "str", "is_not_set": "str",
}
_AFFINITY_ATTRS = {
    "attribute": "str", "value": "str", "operator": "str", "weight": "number",
    "version": "str", "semver": "str", "regexp": "str", "set_contains": "str",
    "set_contains_all": "str", "set_contains_any": "str",
}


def make_decoder(diags: Any) -> Decoder:
    dec = Decoder(diags)
    dec.hooks["Constraint"] = _constraint
    dec.hooks["Affinity"] = _affinity
    dec.hooks["Task"] = _task
    dec.hooks["TaskGroup"] = _group
    return dec


def _spec_values(dec: Decoder, body: n.Body, scope: Scope, spec: dict[str, str]) -> dict[str, Any] | None:
    """hcldec ObjectSpec decode: known attributes only; None if anything failed."""
    before = len(dec.diags)
    dec.check_attributes(body, {k: None for k in spec}, set(), frozenset())  # type: ignore[misc]
    for b in body.blocks:
        dec.diags.error("Unsupported block type", f'Blocks of type "{b.type}" are not expected here.', b.type_rng)
    values: dict[str, Any] = {}
    for name, kind in spec.items():
        attr = body.attr(name)
        if attr is None:
            continue
        if kind == "number":
            values[name] = _number_or_none(dec, attr.expr, scope)
        else:
            values[name] = dec.scalar(kind, attr.expr, scope)
    return None if len(dec.diags) > before else values


def _number_or_none(dec: Decoder, expr: n.Expr, scope: Scope) -> Any:
    from .values import ConversionError, to_number

    ok, v = dec.value(expr, scope)
    try:
        return to_number(v) if ok and v is not None else None
    except ConversionError as err:
        dec.unsuitable(str(err), expr)
        return None


def _shorthands(v: dict[str, Any], out: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if v.get(name):
            out["Operand"] = name
            out["RTarget"] = v[name]


def _constraint(dec: Decoder, body: n.Body, scope: Scope, labels: list[str], block: n.Block | None) -> dict:
    out = {"LTarget": "", "RTarget": "", "Operand": ""}
    v = _spec_values(dec, body, scope, _CONSTRAINT_ATTRS)
    if v is None:
        return out
    out.update(LTarget=v.get("attribute") or "", RTarget=v.get("value") or "", Operand=v.get("operator") or "")
    _shorthands(v, out, ("version", "semver", "regexp", "set_contains"))
    if v.get("distinct_hosts") is not None:
        out["Operand"] = "distinct_hosts"
        out["RTarget"] = "true" if v["distinct_hosts"] else "false"
    if v.get("distinct_property"):
        out["Operand"] = "distinct_property"
        out["LTarget"] = v["distinct_property"]
    if not out["Operand"]:
        out["Operand"] = "="
    return out


def _affinity(dec: Decoder, body: n.Body, scope: Scope, labels: list[str], block: n.Block | None) -> dict:
    out: dict[str, Any] = {"LTarget": "", "RTarget": "", "Operand": "", "Weight": None}
    v = _spec_values(dec, body, scope, _AFFINITY_ATTRS)
    if v is None:
        return out
    out.update(LTarget=v.get("attribute") or "", RTarget=v.get("value") or "", Operand=v.get("operator") or "")
    if v.get("weight") is not None:
        w = int(v["weight"])  # Go truncates toward zero, then wraps to int8
        out["Weight"] = (w + 128) % 256 - 128
    _shorthands(v, out, ("version", "semver", "regexp", "set_contains_any", "set_contains_all", "set_contains"))
    if not out["Operand"]:
        out["Operand"] = "="
    return out


def _as_attribute(dec: Decoder, body: n.Body, scope: Scope, name: str) -> tuple[bool, dict | None]:
    """``env = {...}`` / ``meta = {...}``; returns (found, map)."""
    attr = body.attr(name)
    if attr is None:
        return False, None
    dup = next((b for b in body.blocks if b.type == name), None)
    if dup is not None:
        dec.diags.error(f"Duplicate {name} block",
                        f"{name} may not be defined more than once. Another definition is defined at {attr.rng}.",
                        dup.def_rng)
        return True, None
    return True, dec.expr_map(attr.expr, scope)


def _task(dec: Decoder, body: n.Body, scope: Scope, labels: list[str], block: n.Block | None) -> dict:
    skip, overrides = set(), {}
    for name, json_name in (("env", "Env"), ("meta", "Meta")):
        found, value = _as_attribute(dec, body, scope, name)
        if found:
            skip.add(name)
            if value is not None:
                overrides[json_name] = value
    extra = {"scaling": ("ScalingPolicies", lambda blocks: _task_scaling(dec, blocks))}
    out = dec.plain_struct("Task", body, scope, labels, block, frozenset(skip), extra)
    out.update(overrides)
    return out


def _task_scaling(dec: Decoder, blocks: list[ScopedBlock]) -> list[dict] | None:
    policies: list[dict] = []
    seen: dict[str, n.Block] = {}
    for b, sc in blocks:
        if not check_label_count(b, 1, dec.diags):
            continue
        label = b.labels[0].lower()
        policy_type = {"cpu": "vertical_cpu", "mem": "vertical_mem"}.get(label)
        if policy_type is None:
            dec.diags.error("Invalid scaling policy name", 'scaling policy name must be "cpu" or "mem"', b.label_rngs[0])
            continue
        if label in seen:
            dec.diags.error(f'Duplicate scaling "{label}" block',
                            f"Only one scaling {label} block is allowed. Another was defined at {seen[label].def_rng}.",
                            b.def_rng)
            continue
        seen[label] = b
        p = dec.plain_struct("ScalingPolicy", b.body, sc, [], b)
        if p["Type"] == "":
            p["Type"] = policy_type
        elif p["Type"] != policy_type:
            dec.diags.error("Invalid scaling policy type",
                            f'Invalid policy type, expected "{p["Type"]}" but found "{policy_type}"', b.def_rng)
            continue
        policies.append(p)
    return policies or None


def _group(dec: Decoder, body: n.Body, scope: Scope, labels: list[str], block: n.Block | None) -> dict:
    found, meta = _as_attribute(dec, body, scope, "meta")
    vaults: list[dict] = []

    def collect_vault(blocks: list[ScopedBlock]) -> None:
        for b, sc in blocks:
            if check_label_count(b, 0, dec.diags):
                vaults.append(dec.struct("Vault", b.body, sc, [], b))

    skip = frozenset({"meta"}) if found else frozenset()
    out = dec.plain_struct("TaskGroup", body, scope, labels, block, skip, {"vault": ("", collect_vault)})
    if found and meta is not None:
        out["Meta"] = meta
    if vaults:
        for task in out.get("Tasks") or []:
            if task.get("Vault") is None:
                task["Vault"] = copy.deepcopy(vaults[-1])
    if out.get("Scaling") is not None:
        _group_scaling(dec, out["Scaling"], body, scope)
    return out


def _group_scaling(dec: Decoder, policy: dict, body: n.Body, scope: Scope) -> None:
    if policy["Type"] == "":
        policy["Type"] = "horizontal"
    if policy["Max"] is not None and policy["Type"] == "horizontal":
        return
    blocks = [b for b, _ in expand_blocks(body, scope, {"scaling"}, dec.diags) if b.type == "scaling"]
    if not blocks:
        return
    sbody = blocks[0].body
    if sbody.attr("max") is None:
        dec.diags.error("Missing required argument", 'The argument "max" is required, but no definition was found.',
                        blocks[0].def_rng)
    type_attr = sbody.attr("type")
    if policy["Type"] != "horizontal" and type_attr is not None:
        dec.diags.error("Invalid group scaling type", f'task group scaling policy had invalid type: "{policy["Type"]}"',
                        type_attr.expr.rng)


def decode_job(dec: Decoder, block: n.Block, scope: Scope) -> dict:
    """Decode the ``job`` block, then normalize like jobspec2's normalizeJob."""
    body = block.body
    found, meta = _as_attribute(dec, body, scope, "meta")
    vaults: list[tuple[dict, n.Block]] = []
    tasks: list[dict] = []

    def collect_vault(blocks: list[ScopedBlock]) -> None:
        for b, sc in blocks:
            if not check_label_count(b, 0, dec.diags):
                continue
            if vaults:
                dec.diags.error("Duplicate vault block",
                                f'Only one block of type "vault" is allowed. Previous definition was at {vaults[0][1].def_rng}.',
                                b.def_rng)
                continue
            vaults.append((dec.struct("Vault", b.body, sc, [], b), b))

    def collect_tasks(blocks: list[ScopedBlock]) -> None:
        for b, sc in blocks:
            if check_label_count(b, 1, dec.diags):
                tasks.append(dec.struct("Task", b.body, sc, b.labels, b))

    skip = frozenset({"meta"}) if found else frozenset()
    extra = {"vault": ("", collect_vault), "task": ("", collect_tasks)}
    job = dec.plain_struct("Job", body, scope, [], block, skip, extra)
    if found and meta is not None:
        job["Meta"] = meta
    normalize_job(job, block.labels[0], vaults[0][0] if vaults else None, tasks)
    return job


def normalize_job(job: dict, job_id: str, vault: dict | None, tasks: list[dict]) -> None:
    if job["Name"] is None:
        job["Name"] = job_id
    if job["ID"] is None:
        job["ID"] = job_id
    periodic = job.get("Periodic")
    if periodic is not None and (periodic["Spec"] is not None or periodic["Specs"] is not None):
        periodic["SpecType"] = "cron"
    _normalize_vault(vault)
    if tasks:
        implicit = [_implicit_group(t) for t in tasks]
        job["TaskGroups"] = implicit + (job["TaskGroups"] or [])
    for tg in job["TaskGroups"] or []:
        _normalize_ports(tg.get("Networks"))
        for task in tg.get("Tasks") or []:
            if task.get("Resources") is not None:
                _normalize_ports(task["Resources"].get("Networks"))
            _normalize_templates(task.get("Templates"))
            _normalize_vault(task.get("Vault"))
            if task.get("Vault") is None and vault is not None:
                task["Vault"] = copy.deepcopy(vault)


def _implicit_group(task: dict) -> dict:
    from .schema import fields

    group: dict[str, Any] = {}
    for f in fields("TaskGroup"):
        if f.kind.startswith("="):
            group[f.json] = {"=null": None, "=false": False, "=0": 0, '=""': ""}[f.kind]
        else:
            group[f.json] = None
    group["Name"] = task["Name"]
    group["Tasks"] = [task]
    return group


def _normalize_vault(v: dict | None) -> None:
    if v is None:
        return
    if v["Env"] is None:
        v["Env"] = True
    if v["DisableFile"] is None:
        v["DisableFile"] = False
    if v["ChangeMode"] is None:
        v["ChangeMode"] = "restart"


def _normalize_ports(networks: list[dict] | None) -> None:
    for net in networks or []:
        ports = net.get("DynamicPorts")
        if not ports:
            continue
        dynamic = [p for p in ports if p["Value"] <= 0]
        reserved = [p for p in ports if p["Value"] > 0]
        net["DynamicPorts"] = dynamic or None
        net["ReservedPorts"] = reserved or None


def _normalize_templates(templates: list[dict] | None) -> None:
    for t in templates or []:
        if t["ChangeMode"] is None:
            t["ChangeMode"] = "restart"
        if t["Perms"] is None:
            t["Perms"] = "0644"
        if t["Splay"] is None:
            t["Splay"] = 5_000_000_000
        if t["ErrMissingKey"] is None:
            t["ErrMissingKey"] = False
        script = t.get("ChangeScript")
        if script is not None:
            if script["Args"] is None:
                script["Args"] = []
            if script["Timeout"] is None:
                script["Timeout"] = 5_000_000_000
            if script["FailOnError"] is None:
                script["FailOnError"] = False
