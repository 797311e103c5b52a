"""Renderers shared by several commands: allocation, evaluation and deployment tables.

Each function takes decoded API JSON (dicts with Nomad's field names) and
returns the exact text Nomad prints. Bold headers use ``[bold]...[reset]``
markup which the caller passes through :meth:`Ui.colorize`.
"""

from __future__ import annotations

import time
from typing import Any

from pynomad.cli.format import (format_kv, format_list, format_time, format_time_ns,
                                go_bool, go_quote, limit, parse_time_ns, pretty_time_diff)


def alloc_list_stubs(stubs: list[dict[str, Any]], verbose: bool, length: int) -> str:
    """Nomad's formatAllocListStubs (job status / job allocs / deployment allocs)."""
    if not stubs:
        return "No allocations placed"
    now = time.time_ns()
    if verbose:
        rows = ["ID|Eval ID|Node ID|Node Name|Task Group|Version|Desired|Status|Created|Modified"]
        for a in stubs:
            rows.append("|".join([
                limit(a.get("ID"), length), limit(a.get("EvalID"), length),
                limit(a.get("NodeID"), length), a.get("NodeName") or "",
                a.get("TaskGroup") or "", str(a.get("JobVersion") or 0),
                a.get("DesiredStatus") or "", a.get("ClientStatus") or "",
                format_time(a.get("CreateTime")), format_time(a.get("ModifyTime"))]))
    else:
        rows = ["ID|Node ID|Task Group|Version|Desired|Status|Created|Modified"]
        for a in stubs:
            rows.append("|".join([
                limit(a.get("ID"), length), limit(a.get("NodeID"), length),
                a.get("TaskGroup") or "", str(a.get("JobVersion") or 0),
                a.get("DesiredStatus") or "", a.get("ClientStatus") or "",
                pretty_time_diff(parse_time_ns(a.get("CreateTime")), now),
                pretty_time_diff(parse_time_ns(a.get("ModifyTime")), now)]))
    return format_list(rows)


def alloc_job_version(alloc: dict[str, Any]) -> int:
    job = alloc.get("Job") or {}
    version = job.get("Version")
    return int(version if version is not None else alloc.get("JobVersion") or 0)


def alloc_list(allocs: list[dict[str, Any]], verbose: bool, length: int) -> str:
    """Nomad's formatAllocList (full Allocation objects, e.g. node status)."""
    if not allocs:
        return "No allocations placed"
    now = time.time_ns()
    if verbose:
        rows = ["ID|Eval ID|Node ID|Task Group|Version|Desired|Status|Created|Modified"]
    else:
        rows = ["ID|Node ID|Task Group|Version|Desired|Status|Created|Modified"]
    for a in allocs:
        cells = [limit(a.get("ID"), length)]
        if verbose:
            cells.append(limit(a.get("EvalID"), length))
        cells += [limit(a.get("NodeID"), length), a.get("TaskGroup") or "",
                  str(alloc_job_version(a)), a.get("DesiredStatus") or "",
                  a.get("ClientStatus") or ""]
        if verbose:
            cells += [format_time(a.get("CreateTime")), format_time(a.get("ModifyTime"))]
        else:
            cells += [pretty_time_diff(parse_time_ns(a.get("CreateTime")), now),
                      pretty_time_diff(parse_time_ns(a.get("ModifyTime")), now)]
        rows.append("|".join(cells))
    return format_list(rows)


def eval_failure_status(ev: dict[str, Any] | None) -> tuple[str, bool]:
    """Nomad's evalFailureStatus: ("true"/"false"/"N/A - In Progress", has failures)."""
    if not ev:
        return "", False
    failures = bool(ev.get("FailedTGAllocs"))
    text = go_bool(failures)
    if ev.get("Status") == "blocked":
        text = "N/A - In Progress"
    return text, failures


def eval_list(evals: list[dict[str, Any]], verbose: bool) -> str:
    """Nomad's formatEvalList."""
    length = 36 if verbose else 8
    rows = ["ID|Priority|Triggered By|Job ID|Namespace|Node ID|Status|Placement Failures"]
    for ev in evals:
        failures, _ = eval_failure_status(ev)
        rows.append("|".join([
            limit(ev.get("ID"), length), str(ev.get("Priority") or 0),
            ev.get("TriggeredBy") or "", ev.get("JobID") or "", ev.get("Namespace") or "",
            limit(ev.get("NodeID"), length), ev.get("Status") or "", failures]))
    return format_list(rows)


def alloc_metrics(metrics: dict[str, Any] | None, scores: bool, prefix: str) -> str:
    """Nomad's formatAllocMetrics: the reasons a placement failed."""
    m = metrics or {}
    out = []
    if not m.get("NodesEvaluated"):
        out.append(f"{prefix}* No nodes were eligible for evaluation")
    for dc, available in (m.get("NodesAvailable") or {}).items():
        if available == 0:
            out.append(f"{prefix}* No nodes are available in datacenter {go_quote(dc)}")
    for cls, num in (m.get("ClassFiltered") or {}).items():
        out.append(f"{prefix}* Class {go_quote(cls)}: {num} nodes excluded by filter")
    for cons, num in (m.get("ConstraintFiltered") or {}).items():
        out.append(f"{prefix}* Constraint {go_quote(cons)}: {num} nodes excluded by filter")
    if m.get("NodesExhausted"):
        out.append(f"{prefix}* Resources exhausted on {m['NodesExhausted']} nodes")
    for cls, num in (m.get("ClassExhausted") or {}).items():
        out.append(f"{prefix}* Class {go_quote(cls)} exhausted on {num} nodes")
    for dim, num in (m.get("DimensionExhausted") or {}).items():
        out.append(f"{prefix}* Dimension {go_quote(dim)} exhausted on {num} nodes")
    for dim in m.get("QuotaExhausted") or []:
        out.append(f"{prefix}* Quota limit hit {go_quote(dim)}")
    text = "\n".join(out)
    if scores:
        text = _join_scores(text, m, prefix)
    return text


def _join_scores(text: str, m: dict[str, Any], prefix: str) -> str:
    meta = m.get("ScoreMetaData") or []
    if meta:
        names = sorted({k for s in meta for k in (s.get("Scores") or {})})
        rows = ["Node|" + "|".join(names + ["final score"])]
        for s in meta:
            vals = [_g3(float((s.get("Scores") or {}).get(n, 0))) for n in names]
            rows.append("|".join([str(s.get("NodeID", ""))] + vals + [_g3(float(s.get("NormScore") or 0))]))
        return (text + "\n" if text else "") + format_list(rows)
    extra = [f"{prefix}* Score {go_quote(k)} = {float(v):f}" for k, v in (m.get("Scores") or {}).items()]
    return "\n".join([t for t in [text] + extra if t])


def _g3(value: float) -> str:
    """Go's ``%.3g``."""
    text = f"{value:.3g}"
    if "e" in text:
        mant, exp = text.split("e")
        sign = exp[0]
        digits = exp[1:].lstrip("0").rjust(2, "0")
        text = f"{mant}e{sign}{digits}"
    return text


def deployment_groups(d: dict[str, Any], length: int) -> str:
    """Nomad's formatDeploymentGroups: the per-task-group deployment table."""
    groups = d.get("TaskGroups") or {}
    names = sorted(groups)
    autorevert = any(g.get("AutoRevert") for g in groups.values())
    canaries = any((g.get("DesiredCanaries") or 0) > 0 for g in groups.values())
    deadline = any(g.get("ProgressDeadline") for g in groups.values())
    header = ["Task Group"]
    if autorevert:
        header.append("Auto Revert")
    if canaries:
        header.append("Promoted")
    header.append("Desired")
    if canaries:
        header.append("Canaries")
    header += ["Placed", "Healthy", "Unhealthy"]
    if deadline:
        header.append("Progress Deadline")
    rows = ["|".join(header)]
    for name in names:
        g = groups[name]
        cells = [name]
        if autorevert:
            cells.append(go_bool(g.get("AutoRevert")))
        if canaries:
            cells.append(go_bool(g.get("Promoted")) if (g.get("DesiredCanaries") or 0) > 0 else "N/A")
        cells.append(str(g.get("DesiredTotal") or 0))
        if canaries:
            cells.append(str(g.get("DesiredCanaries") or 0))
        cells += [str(g.get("PlacedAllocs") or 0), str(g.get("HealthyAllocs") or 0),
                  str(g.get("UnhealthyAllocs") or 0)]
        if deadline:
            ns = parse_time_ns(g.get("RequireProgressBy"))
            cells.append(format_time_ns(ns) if ns else "N/A")
        rows.append("|".join(cells))
    return format_list(rows)


def deployment(d: dict[str, Any] | None, length: int) -> str:
    """Nomad's formatDeployment (deployment status / deployment monitor)."""
    if not d:
        return "No deployment found"
    base = format_kv([
        f"ID|{limit(d.get('ID'), length)}",
        f"Job ID|{d.get('JobID') or ''}",
        f"Job Version|{d.get('JobVersion') or 0}",
        f"Status|{d.get('Status') or ''}",
        f"Description|{d.get('StatusDescription') or ''}",
    ])
    if not d.get("TaskGroups"):
        return base
    return base + "\n\n[bold]Deployed[reset]\n" + deployment_groups(d, length)


def deployment_short(d: dict[str, Any], length: int) -> str:
    """The deployment block of ``job status`` (no Job ID / Job Version lines)."""
    base = format_kv([
        f"ID|{limit(d.get('ID'), length)}",
        f"Status|{d.get('Status') or ''}",
        f"Description|{d.get('StatusDescription') or ''}",
    ])
    if not d.get("TaskGroups"):
        return base
    return base + "\n\n[bold]Deployed[reset]\n" + deployment_groups(d, length)


def deployment_list(deploys: list[dict[str, Any]], length: int) -> str:
    """Nomad's formatDeployments."""
    if not deploys:
        return "No deployments found"
    rows = ["ID|Job ID|Job Version|Status|Description"]
    for d in deploys:
        rows.append("|".join([limit(d.get("ID"), length), d.get("JobID") or "",
                              str(d.get("JobVersion") or 0), d.get("Status") or "",
                              d.get("StatusDescription") or ""]))
    return format_list(rows)
