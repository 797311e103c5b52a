"""Structural job diffs in Nomad's format (nomad/structs/diff.go) and their annotation
with the scheduler's desired updates (scheduler/annotate.go), for `job plan`.

Diffs work on the JSON form of canonicalized jobs. As in Nomad, `contextual` only makes
unchanged fields appear inside changed blocks; job, group and task fields list changes only. Each level has `Type` (Added, Deleted,
Edited, None), `Fields` (flattened primitives, `Meta[key]`-style for maps, sorted by name)
and `Objects` (nested blocks; lists of blocks are matched by `Name` when they have one,
otherwise compared as sets). The job diff adds `TaskGroups`, each with `Tasks`.
"""

from __future__ import annotations

from typing import Any

ADDED, DELETED, EDITED, NONE = "Added", "Deleted", "Edited", "None"

JOB_FILTER = {"ID", "Status", "StatusDescription", "Version", "Stable", "CreateIndex",
              "ModifyIndex", "JobModifyIndex", "SubmitTime", "NomadTokenID", "VaultToken",
              "ConsulToken", "Payload", "TaskGroups"}
GROUP_FILTER = {"Name", "Tasks"}
TASK_FILTER = {"Name"}
MAP_FIELDS = {"Meta", "Env"}
SINGULAR = {"Constraints": "Constraint", "Affinities": "Affinity", "Spreads": "Spread",
            "Services": "Service", "Templates": "Template", "Artifacts": "Artifact",
            "Networks": "Network", "VolumeMounts": "VolumeMount", "Identities": "Identity",
            "ScalingPolicies": "ScalingPolicy", "Checks": "Check", "Devices": "Device",
            "DynamicPorts": "Dynamic Port", "ReservedPorts": "Static Port",
            "Volumes": "Volume", "Targets": "Target"}

ANNOTATION_FORCES_CREATE = "forces create"
ANNOTATION_FORCES_DESTROY = "forces destroy"
ANNOTATION_FORCES_INPLACE = "forces in-place update"
ANNOTATION_FORCES_DESTRUCTIVE = "forces create/destroy update"
UPDATE_TYPES = (("Ignore", "ignore"), ("Place", "create"), ("Migrate", "migrate"),
                ("Stop", "destroy"), ("Canary", "canary"), ("InPlaceUpdate", "in-place update"),
                ("DestructiveUpdate", "create/destroy update"))


# -- flattening ---------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool))


def primitives(obj: dict | None, skip: set[str] = frozenset()) -> dict[str, str]:
    """Primitive fields of a block (maps of scalars as `Name[key]`), like flatmap.Flatten."""
    out: dict[str, str] = {}
    for k, v in (obj or {}).items():
        if k in skip or v is None:
            continue
        if _scalar(v):
            out[k] = _fmt(v)
        elif isinstance(v, dict) and k in MAP_FIELDS:
            for mk, mv in v.items():
                if _scalar(mv):
                    out[f"{k}[{mk}]"] = _fmt(mv)
    return out


def flatten_all(value: Any, prefix: str = "", out: dict[str, str] | None = None) -> dict[str, str]:
    """Everything flattened (`args[0]`, `port_map[0][db]`), for task driver config."""
    out = {} if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            flatten_all(v, f"{prefix}[{k}]" if prefix else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flatten_all(v, f"{prefix}[{i}]", out)
    elif value is not None:
        out[prefix] = _fmt(value)
    return out


# -- field and object diffs ---------------------------------------------------------------
def field_diffs(old: dict[str, str], new: dict[str, str], contextual: bool) -> list[dict]:
    diffs = []
    for name in sorted(set(old) | set(new)):
        o, n = old.get(name, ""), new.get(name, "")
        if o == n:
            if contextual:
                diffs.append(_field(NONE, name, o, n))
            continue
        kind = ADDED if o == "" else DELETED if n == "" else EDITED
        diffs.append(_field(kind, name, o, n))
    return diffs


def _field(kind: str, name: str, old: str, new: str) -> dict:
    return {"Type": kind, "Name": name, "Old": old, "New": new, "Annotations": None}


def _kind_of(fields: list[dict], objects: list[dict]) -> str:
    kinds = {d["Type"] for d in fields + objects} - {NONE}
    if not kinds:
        return NONE
    if EDITED in kinds or kinds == {ADDED, DELETED}:
        return EDITED
    return kinds.pop()


def object_diff(old: Any, new: Any, name: str, contextual: bool,
                skip: set[str] = frozenset()) -> dict | None:
    """The diff of one block, or None when it didn't change."""
    if name == "Config" or (old is not None and not isinstance(old, dict)) or \
            (new is not None and not isinstance(new, dict)):
        fields = field_diffs(flatten_all(old), flatten_all(new), contextual)
        objects: list[dict] = []
    else:
        fields = field_diffs(primitives(old, skip), primitives(new, skip), contextual)
        objects = nested_diffs(old, new, contextual, skip)
    kind = _kind_of(fields, objects)
    if kind == NONE:
        return None
    if old is None:
        kind = ADDED
    elif new is None:
        kind = DELETED
    return {"Type": kind, "Name": name, "Fields": fields, "Objects": objects or None}


def nested_diffs(old: dict | None, new: dict | None, contextual: bool,
                 skip: set[str] = frozenset()) -> list[dict]:
    """Diffs of a block's nested blocks, lists of blocks and lists of strings."""
    old, new = old or {}, new or {}
    out: list[dict] = []
    for key in sorted(set(old) | set(new)):
        if key in skip or key in MAP_FIELDS:
            continue
        o, n = old.get(key), new.get(key)
        if _scalar(o) or _scalar(n) or (o is None and n is None):
            continue
        if key == "Volumes" and (isinstance(o, dict) or isinstance(n, dict)):
            o = list((o or {}).values()) or None
            n = list((n or {}).values()) or None
        if isinstance(o, list) or isinstance(n, list):
            out += list_diffs(o or [], n or [], key, contextual)
        else:
            d = object_diff(o, n, key, contextual)
            if d is not None:
                out.append(d)
    return out


def list_diffs(old: list, new: list, key: str, contextual: bool) -> list[dict]:
    name = SINGULAR.get(key, key)
    if all(_scalar(v) for v in old + new):
        fields = []
        for v in sorted({_fmt(v) for v in old} | {_fmt(v) for v in new}):
            in_old, in_new = v in {_fmt(x) for x in old}, v in {_fmt(x) for x in new}
            if in_old and in_new:
                if contextual:
                    fields.append(_field(NONE, key, v, v))
            else:
                fields.append(_field(ADDED if in_new else DELETED, key, "" if in_new else v,
                                     v if in_new else ""))
        kind = _kind_of(fields, [])
        return [] if kind == NONE else [{"Type": kind, "Name": key, "Fields": fields,
                                         "Objects": None}]
    if all(isinstance(v, dict) and v.get("Name") for v in old + new):
        olds = {v["Name"]: v for v in old}
        news = {v["Name"]: v for v in new}
        pairs = [(olds.get(k), news.get(k)) for k in sorted(set(olds) | set(news))]
    else:
        pairs = [(v, None) for v in old if v not in new] + [(None, v) for v in new if v not in old]
    out = []
    for o, n in pairs:
        d = object_diff(o, n, name, contextual)
        if d is not None:
            out.append(d)
    return out


# -- jobs, groups and tasks ---------------------------------------------------------------
def task_diff(old: dict | None, new: dict | None, contextual: bool) -> dict:
    """A task's own fields are never contextual; its blocks' fields are."""
    fields = field_diffs(primitives(old, TASK_FILTER), primitives(new, TASK_FILTER), False)
    objects = nested_diffs(old, new, contextual, TASK_FILTER)
    kind = ADDED if old is None else DELETED if new is None else _kind_of(fields, objects)
    return {"Type": kind, "Name": (new or old)["Name"], "Fields": fields or None,
            "Objects": objects or None, "Annotations": None}


def group_diff(old: dict | None, new: dict | None, contextual: bool) -> dict:
    fields = field_diffs(primitives(old, GROUP_FILTER), primitives(new, GROUP_FILTER), False)
    objects = nested_diffs(old, new, contextual, GROUP_FILTER)
    old_tasks = {t["Name"]: t for t in (old or {}).get("Tasks") or ()}
    new_tasks = {t["Name"]: t for t in (new or {}).get("Tasks") or ()}
    tasks = [task_diff(old_tasks.get(n), new_tasks.get(n), contextual)
             for n in sorted(set(old_tasks) | set(new_tasks))]
    kind = ADDED if old is None else DELETED if new is None else _kind_of(fields, objects + tasks)
    return {"Type": kind, "Name": (new or old)["Name"], "Fields": fields or None,
            "Objects": objects or None, "Tasks": tasks or None, "Updates": None}


def job_diff(old: dict | None, new: dict, contextual: bool = True) -> dict:
    """Nomad's Job.Diff(old, new, contextual): job fields are never contextual."""
    fields = field_diffs(primitives(old, JOB_FILTER), primitives(new, JOB_FILTER), False)
    objects = nested_diffs(old, new, contextual, JOB_FILTER)
    old_groups = {g["Name"]: g for g in (old or {}).get("TaskGroups") or ()}
    new_groups = {g["Name"]: g for g in new.get("TaskGroups") or ()}
    groups = [group_diff(old_groups.get(n), new_groups.get(n), contextual)
              for n in sorted(set(old_groups) | set(new_groups))]
    kind = ADDED if old is None else _kind_of(fields, objects + groups)
    return {"Type": kind, "ID": new.get("ID"), "Fields": fields or None,
            "Objects": objects or None, "TaskGroups": groups or None}


# -- annotation -----------------------------------------------------------------------------
def annotate(diff: dict, desired: dict[str, dict[str, int]] | None) -> dict:
    """Nomad's scheduler.Annotate: per-group update counts, count and task annotations."""
    for tg in diff.get("TaskGroups") or ():
        counts = (desired or {}).get(tg["Name"])
        if counts:
            tg["Updates"] = {label: counts[key] for key, label in UPDATE_TYPES
                             if counts.get(key)} or None
        for f in tg.get("Fields") or ():
            if f["Name"] == "Count":
                o, n = int(f["Old"] or 0), int(f["New"] or 0)
                if o != n:
                    f["Annotations"] = [ANNOTATION_FORCES_CREATE if o < n else ANNOTATION_FORCES_DESTROY]
        for task in tg.get("Tasks") or ():
            _annotate_task(task, tg)
    return diff


def _annotate_task(task: dict, group: dict) -> None:
    if task["Type"] == NONE:
        return
    if group["Type"] in (ADDED, DELETED) and task["Type"] in (ADDED, DELETED):
        task["Annotations"] = [ANNOTATION_FORCES_CREATE if task["Type"] == ADDED
                               else ANNOTATION_FORCES_DESTROY]
        return
    destructive = any(f["Type"] != NONE and f["Name"] != "KillTimeout"
                      for f in task.get("Fields") or ())
    for obj in task.get("Objects") or ():
        if destructive:
            break
        if obj["Name"] in ("Service", "Constraint"):
            continue
        if obj["Name"] == "LogConfig":
            destructive = any(f["Name"] == "Disabled" and f["Type"] != NONE
                              for f in obj.get("Fields") or ())
            continue
        destructive = True
    task["Annotations"] = [ANNOTATION_FORCES_DESTRUCTIVE if destructive
                           else ANNOTATION_FORCES_INPLACE]
