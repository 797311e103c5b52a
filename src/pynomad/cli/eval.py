"""``nomad eval`` commands: status and list."""

from __future__ import annotations

import time
from typing import Any

from pynomad.cli import views
from pynomad.cli.api import APIError
from pynomad.cli.format import (format_kv, format_time, go_quote, limit, parse_time_ns,
                                pretty_time_diff, to_json)
from pynomad.cli.meta import Meta, sanitize_uuid_prefix

HELP = {
    "eval status": """Usage: nomad eval status [options] <evaluation>
Alias: nomad eval-status

  Display information about evaluations. This command can be used to inspect
  the current status of an evaluation as well as determine the reason an
  evaluation did not place all allocations.

Eval Status Options:

  -monitor  Monitor an outstanding evaluation.
  -verbose  Show full information.
  -json     Output the evaluation in its JSON format.
""",
    "eval list": """Usage: nomad eval list [options]

  List is used to list the set of evaluations processed by Nomad.

Eval List Options:

  -verbose            Show full information.
  -per-page <n>       How many results to show per page.
  -page-token <tok>   Where to start pagination.
  -filter <expr>      Specifies an expression used to filter query results.
  -job <job-id>       Only show evaluations for this job ID.
  -status <status>    Only show evaluations with this status.
  -json               Output the evaluations in their JSON format.
""",
}


def status(meta: Meta, args: list[str]) -> int:
    """``nomad eval status [-monitor] [-verbose] [-json] <eval>``."""
    opts, args = meta.parse(args, {"monitor": "bool", "verbose": "bool", "json": "bool",
                                   "t": "str"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument")
    length = meta.id_length(opts["verbose"])
    eval_id = args[0]
    if len(eval_id) == 1:
        raise meta.fail("Identifier must contain at least two characters.")
    eval_id = sanitize_uuid_prefix(eval_id)
    client = meta.client()
    try:
        evals, _ = client.get("/v1/evaluations", {"prefix": eval_id})
    except APIError as exc:
        raise meta.fail(f"Error querying evaluation: {exc}") from None
    evals = evals or []
    if not evals:
        raise meta.fail(f"No evaluation(s) with prefix or id {go_quote(eval_id)} found")
    if len(evals) > 1:
        raise meta.fail("Prefix matched multiple evaluations\n\n"
                        + views.eval_list(evals, opts["verbose"]))
    if opts["monitor"]:
        from pynomad.cli.monitor import Monitor

        return Monitor(meta.ui, client, length).monitor(evals[0]["ID"])
    try:
        ev, _ = client.get(f"/v1/evaluation/{evals[0]['ID']}")
    except APIError as exc:
        raise meta.fail(f"Error querying evaluation: {exc}") from None
    if opts["json"]:
        meta.ui.output(to_json(ev))
        return 0
    _render(meta, ev, opts["verbose"], length)
    return 0


def _render(meta: Meta, ev: dict[str, Any], verbose: bool, length: int) -> None:
    ui = meta.ui
    failure_text, failures = views.eval_failure_status(ev)
    noun, subject = _trigger_details(ev)
    if verbose:
        created, modified = format_time(ev.get("CreateTime")), format_time(ev.get("ModifyTime"))
    else:
        now = time.time_ns()
        created = pretty_time_diff(parse_time_ns(ev.get("CreateTime")), now)
        modified = pretty_time_diff(parse_time_ns(ev.get("ModifyTime")), now)
    basic = [
        f"ID|{limit(ev.get('ID'), length)}", f"Create Time|{created}",
        f"Modify Time|{modified}", f"Status|{ev.get('Status', '')}",
        f"Status Description|{ev.get('StatusDescription') or ev.get('Status', '')}",
        f"Type|{ev.get('Type', '')}", f"TriggeredBy|{ev.get('TriggeredBy', '')}",
        f"Job ID|{ev.get('JobID', '')}", f"Namespace|{ev.get('Namespace', '')}",
    ]
    if noun and subject:
        basic.append(f"{noun}|{subject}")
    basic += [f"Priority|{ev.get('Priority', 0)}", f"Placement Failures|{failure_text}"]
    if parse_time_ns(ev.get("WaitUntil")):
        basic.append(f"Wait Until|{format_time(ev.get('WaitUntil'))}")
    if verbose:
        basic += [f"Previous Eval|{ev.get('PreviousEval', '')}",
                  f"Next Eval|{ev.get('NextEval', '')}",
                  f"Blocked Eval|{ev.get('BlockedEval', '')}"]
    ui.output(format_kv(basic))
    if not failures:
        return
    ui.output(ui.colorize("\n[bold]Failed Placements[reset]"))
    groups = ev.get("FailedTGAllocs") or {}
    for tg in sorted(groups):
        metrics = groups[tg] or {}
        coalesced = int(metrics.get("CoalescedFailures") or 0)
        noun_text = "allocations" if coalesced > 0 else "allocation"
        ui.output(f"Task Group {go_quote(tg)} (failed to place {coalesced + 1} {noun_text}):")
        ui.output(views.alloc_metrics(metrics, False, "  "))
        ui.output("")
    if ev.get("BlockedEval"):
        ui.output(f"Evaluation {go_quote(limit(ev['BlockedEval'], length))} waiting for "
                  "additional capacity to place remainder")


def _trigger_details(ev: dict[str, Any]) -> tuple[str, str]:
    if ev.get("TriggeredBy") == "node-update":
        return "Node ID", ev.get("NodeID", "")
    if ev.get("TriggeredBy") == "max-plan-attempts":
        return "Previous Eval", ev.get("PreviousEval", "")
    return "", ""


def list_evals(meta: Meta, args: list[str]) -> int:
    """``nomad eval list [options]``."""
    opts, args = meta.parse(args, {"monitor": "bool", "verbose": "bool", "json": "bool",
                                   "t": "str", "per-page": "int", "page-token": "str",
                                   "filter": "str", "job": "str", "status": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    params = {"filter": opts["filter"], "per_page": opts["per-page"] or None,
              "next_token": opts["page-token"], "job": opts["job"], "status": opts["status"]}
    try:
        evals, qm = meta.client().get("/v1/evaluations", params)
    except APIError as exc:
        raise meta.fail(f"Error querying evaluations: {exc}") from None
    evals = evals or []
    if opts["json"]:
        meta.ui.output(to_json(evals))
        return 0
    if not evals:
        meta.ui.output("No evals found")
        return 0
    meta.ui.output(views.eval_list(evals, opts["verbose"]))
    if qm.next_token:
        import sys

        from pynomad.cli.node import _args_without_page_token

        meta.ui.output("\nResults have been paginated. To get the next page run:\n\n"
                       f"{_args_without_page_token(sys.argv)} -page-token {qm.next_token}")
    return 0
