"""``nomad job plan`` and the annotated job diff it prints (also used by
``job history -p``), following Nomad's ``command/job_plan.go`` layout.

Output strings contain ``[bold]``/``[green]``-style markup; callers pass them
through :meth:`Ui.colorize`.
"""

from __future__ import annotations

import time
from typing import Any

from pynomad.cli import views
from pynomad.cli.api import APIError, path_id
from pynomad.cli.format import format_time, format_time_difference, go_duration, go_quote
from pynomad.cli.meta import Meta

HELP = {
    "job plan": """Usage: nomad job plan [options] <path>
Alias: nomad plan

  Plan invokes a dry-run of the scheduler to determine the effects of submitting
  either a new or updated version of a job. The plan will not result in any
  changes to the cluster but gives insight into whether the job could be run
  successfully and how it would affect existing allocations.

  A job modify index is returned with the plan. This value can be used when
  submitting the job using "nomad run -check-index", which will check that the
  job was not modified between the plan and run command before invoking the
  scheduler.

  Exit codes: 0 no allocations created or destroyed, 1 allocations created or
  destroyed, 255 error determining the plan results.

Plan Options:

  -diff              Determines whether the diff between the remote job and
                     planned job is shown. Defaults to true.
  -json              Parse the job file as JSON.
  -hcl2-strict       Error on variables supplied but not declared (default true).
  -policy-override   Sets the flag to force override any soft mandatory
                     Sentinel policies.
  -var 'key=value'   Variable for the job file, can be used multiple times.
  -var-file=path     Path to an HCL2 file containing user variables.
  -verbose           Increase diff verbosity.
""",
}

_MARKERS = {"Added": ("[green]+[reset] ", 2), "Deleted": ("[red]-[reset] ", 2),
            "Edited": ("[light_yellow]+/-[reset] ", 4)}
_UPDATE_COLORS = {"create": "[green]", "destroy": "[red]", "migrate": "[blue]",
                  "in-place update": "[cyan]", "create/destroy update": "[yellow]",
                  "canary": "[light_yellow]"}
_ANNOTATION_COLORS = {"forces create": "green", "forces destroy": "red",
                      "forces in-place update": "cyan", "forces create/destroy update": "yellow"}

_MODIFY_INDEX_HELP = """To submit the job with version verification run:

nomad job run -check-index {index} {args}{path}

When running the job with the check-index flag, the job will only be run if the
job modify index given matches the server-side version. If the index has
changed, another user has modified the job and the plan's results are
potentially invalid."""


def _marker(kind: str) -> tuple[str, int]:
    return _MARKERS.get(kind, ("", 0))


def _longest(fields: list[dict[str, Any]], objects: list[dict[str, Any]]) -> tuple[int, int]:
    field_len = max((len(f.get("Name", "")) for f in fields), default=0)
    marker_len = max((_marker(d.get("Type", ""))[1] for d in fields + objects), default=0)
    return field_len, marker_len


def _annotations(items: list[str]) -> str:
    return ", ".join(f"[{_ANNOTATION_COLORS[a]}]{a}[reset]" if a in _ANNOTATION_COLORS else a
                     for a in items)


def _field(diff: dict[str, Any], start: int, key_pad: int, value_pad: int) -> str:
    marker, _ = _marker(diff.get("Type", ""))
    out = f"{' ' * start}{marker}{' ' * key_pad}{diff.get('Name', '')}: {' ' * value_pad}"
    kind, old, new = diff.get("Type"), diff.get("Old", ""), diff.get("New", "")
    if kind == "Deleted":
        out += go_quote(old)
    elif kind == "Edited":
        out += f"{go_quote(old)} => {go_quote(new)}"
    else:
        out += go_quote(new)
    if diff.get("Annotations"):
        out += f" ({_annotations(diff['Annotations'])})"
    return out


def _object(diff: dict[str, Any], start: int, key_pad: int) -> str:
    marker, marker_len = _marker(diff.get("Type", ""))
    out = f"{' ' * start}{marker}{' ' * key_pad}{diff.get('Name', '')} {{\n"
    fields, objects = diff.get("Fields") or [], diff.get("Objects") or []
    longest_field, longest_marker = _longest(fields, objects)
    out += _aligned(fields, objects, start + key_pad + 2, longest_field, longest_marker)
    return f"{out}\n{' ' * (start + marker_len + key_pad)}}}"


def _aligned(fields: list[dict[str, Any]], objects: list[dict[str, Any]], start: int,
             longest_field: int, longest_marker: int) -> str:
    parts = []
    for f in fields:
        parts.append(_field(f, start, longest_marker - _marker(f.get("Type", ""))[1],
                            longest_field - len(f.get("Name", ""))))
    for o in objects:
        parts.append(_object(o, start, longest_marker - _marker(o.get("Type", ""))[1]))
    return "\n".join(parts)


def _task(task: dict[str, Any], start: int, pad: int, verbose: bool) -> str:
    marker, _ = _marker(task.get("Type", ""))
    out = f"{' ' * start}{marker}{' ' * pad}[bold]Task: {go_quote(task.get('Name', ''))}"
    if task.get("Annotations"):
        out += f" [reset]({_annotations(task['Annotations'])})"
    kind = task.get("Type")
    if kind == "None" or (kind in ("Deleted", "Added") and not verbose):
        return out
    fields, objects = task.get("Fields") or [], task.get("Objects") or []
    longest_field, longest_marker = _longest(fields, objects)
    return out + "\n" + _aligned(fields, objects, start + 2, longest_field, longest_marker)


def _group(tg: dict[str, Any], pad: int, verbose: bool) -> str:
    marker, _ = _marker(tg.get("Type", ""))
    out = f"{marker}{' ' * pad}[bold]Task Group: {go_quote(tg.get('Name', ''))}[reset]"
    updates = tg.get("Updates") or {}
    if updates:
        text = ", ".join(f"[reset]{_UPDATE_COLORS.get(k, '')}{updates[k]} {k}"
                         for k in sorted(updates))
        out += f" ({text}[reset])\n"
    else:
        out += "[reset]\n"
    fields, objects, tasks = tg.get("Fields") or [], tg.get("Objects") or [], tg.get("Tasks") or []
    longest_field, longest_marker = _longest(fields, objects)
    longest_marker = max([longest_marker] + [_marker(t.get("Type", ""))[1] for t in tasks])
    sub = pad + 2
    if tg.get("Type") == "Edited" or verbose:
        fo = _aligned(fields, objects, sub, longest_field, longest_marker)
        out += fo + ("\n" if fo else "")
    for t in tasks:
        out += _task(t, sub, longest_marker - _marker(t.get("Type", ""))[1], verbose) + "\n"
    return out


def format_job_diff(job: dict[str, Any], verbose: bool = False) -> str:
    """Nomad's formatJobDiff: the annotated diff of a JobDiff object."""
    marker, _ = _marker(job.get("Type", ""))
    out = f"{marker}[bold]Job: {go_quote(job.get('ID', ''))}\n"
    fields, objects, groups = job.get("Fields") or [], job.get("Objects") or [], job.get(
        "TaskGroups") or []
    longest_field, longest_marker = _longest(fields, objects)
    longest_marker = max([longest_marker] + [_marker(g.get("Type", ""))[1] for g in groups])
    if job.get("Type") == "Edited" or verbose:
        fo = _aligned(fields, objects, 0, longest_field, longest_marker)
        out += fo + ("\n" if fo else "")
    for g in groups:
        out += _group(g, longest_marker - _marker(g.get("Type", ""))[1], verbose) + "\n"
    return out


def format_dry_run(resp: dict[str, Any], job: dict[str, Any]) -> str:
    """Nomad's formatDryRun: the scheduler dry-run summary."""
    rolling = None
    for ev in resp.get("CreatedEvals") or []:
        if ev.get("TriggeredBy") == "rolling-update":
            rolling = ev
    failed = resp.get("FailedTGAllocs") or {}
    if not failed:
        out = "[bold][green]- All tasks successfully allocated.[reset]\n"
    else:
        if job.get("Type") == "system":
            out = "[bold][yellow]- WARNING: Failed to place allocations on all nodes.[reset]\n"
        else:
            out = "[bold][yellow]- WARNING: Failed to place all allocations.[reset]\n"
        for tg in sorted(failed):
            metrics = failed[tg] or {}
            coalesced = int(metrics.get("CoalescedFailures") or 0)
            noun = "allocations" if coalesced > 0 else "allocation"
            out += f"  [yellow]Task Group {go_quote(tg)} (failed to place {coalesced + 1} {noun}):\n[reset]"
            out += f"[yellow]{views.alloc_metrics(metrics, False, '    ')}[reset]\n\n"
        if rolling is None:
            out = out.removesuffix("\n")
    if rolling is not None:
        out += f"[green]- Rolling update, next evaluation will be in {go_duration(rolling.get('Wait'))}.\n"
    from pynomad.cli.format import parse_time_ns

    nxt = parse_time_ns(resp.get("NextPeriodicLaunch"))
    if nxt and not job.get("ParameterizedJob"):
        now = time.time_ns()
        out += (f"[green]- If submitted now, next periodic launch would be at {format_time(nxt)} "
                f"({format_time_difference(now, nxt)} from now).\n")
    return out.removesuffix("\n")


def _exit_code(resp: dict[str, Any]) -> int:
    if (resp.get("Diff") or {}).get("Type") == "None":
        return 0
    for d in ((resp.get("Annotations") or {}).get("DesiredTGUpdates") or {}).values():
        if sum(int(d.get(k) or 0) for k in ("Stop", "Place", "Migrate", "DestructiveUpdate",
                                            "Canary")) > 0:
            return 1
    return 0


def plan(meta: Meta, args: list[str]) -> int:
    """``nomad job plan [options] <path>``."""
    from pynomad.cli import jobfile
    from pynomad.cli.meta import CommandExit

    spec = dict(jobfile.FILE_FLAGS, diff="bool", verbose="bool", **{"policy-override": "bool"})
    try:
        opts, args = meta.parse(args, spec, initial={"hcl2-strict": True, "diff": True})
        if len(args) != 1:
            raise meta.usage_error("This command takes one argument: <path>")
        job, _ = jobfile.get_job(meta, args[0], opts)
    except CommandExit:
        return 255
    client = meta.client()
    if job.get("Region"):
        client.set_region(job["Region"])
    if job.get("Namespace"):
        client.set_namespace(job["Namespace"])
    body = {"Job": job, "Diff": True, "PolicyOverride": opts["policy-override"]}
    try:
        resp, _ = client.post(f"/v1/job/{path_id(job.get('ID', ''))}/plan", body)
    except APIError as exc:
        meta.ui.error(f"Error during plan: {exc}")
        return 255
    resp = resp or {}
    ui = meta.ui
    if opts["diff"]:
        ui.output(ui.colorize(format_job_diff(resp.get("Diff") or {}, opts["verbose"]).strip()) + "\n")
    ui.output(ui.colorize("[bold]Scheduler dry-run:[reset]"))
    ui.output(ui.colorize(format_dry_run(resp, job)))
    ui.output("")
    if resp.get("Warnings"):
        ui.output(ui.colorize(f"[bold][yellow]Job Warnings:\n{resp['Warnings']}[reset]\n"))
    run_args = "".join(f"-var={go_quote(v)} " for v in opts["var"])
    run_args += "".join(f"-var-file={go_quote(v)} " for v in opts["var-file"])
    if opts["namespace"]:
        run_args += f"-namespace={go_quote(opts['namespace'])} "
    index = resp.get("JobModifyIndex") or 0
    ui.output(ui.colorize(f"[reset][bold]Job Modify Index: {index}[reset]\n"
                          + _MODIFY_INDEX_HELP.format(index=index, args=run_args, path=args[0])))
    return _exit_code(resp)
