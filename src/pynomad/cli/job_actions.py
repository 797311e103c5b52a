"""``nomad job`` commands that trigger scheduler work on an existing job: eval,
revert, dispatch, scale and periodic force."""

from __future__ import annotations

from typing import Any

from pynomad.cli.api import APIError, path_id
from pynomad.cli.format import format_kv, go_quote, limit
from pynomad.cli.job import _monitor, _one_job
from pynomad.cli.meta import Meta

HELP = {
    "job eval": """Usage: nomad job eval [options] <job_id>

  Force an evaluation of the provided job ID.

Eval Options:

  -force-reschedule  Force reschedule failed allocations even if not eligible.
  -detach            Return immediately instead of entering monitor mode.
  -verbose           Display full information.
""",
    "job revert": """Usage: nomad job revert [options] <job> <version>

  Revert is used to revert a job to a prior version of the job.

Revert Options:

  -detach   Return immediately instead of entering monitor mode.
  -verbose  Display full information.
""",
    "job dispatch": """Usage: nomad job dispatch [options] <parameterized job> [input source]

  Dispatch creates an instance of a parameterized job.

Dispatch Options:

  -meta <key>=<value>      Dispatch metadata, can be given multiple times.
  -idempotency-token       Optional identifier used to prevent duplicate dispatches.
  -id-prefix-template      Optional prefix template for the dispatched job ID.
  -detach                  Return immediately instead of entering monitor mode.
  -verbose                 Display full information.
""",
    "job scale": """Usage: nomad job scale [options] <job> [<group>] <count>

  Perform a scaling action by altering the count within a job group.

Scale Options:

  -detach   Return immediately instead of entering monitor mode.
  -verbose  Display full information.
""",
    "job periodic force": """Usage: nomad job periodic force [options] <job id>

  Force the launch of a periodic job, ignoring its schedule.

Periodic Force Options:

  -detach   Return immediately instead of entering monitor mode.
  -verbose  Display full information.
""",
}


# --------------------------------------------------------------------------- #
# job eval / revert / dispatch / scale / periodic force
# --------------------------------------------------------------------------- #


def evaluate(meta: Meta, args: list[str]) -> int:
    """``nomad job eval [-force-reschedule] [-detach] <job>``."""
    opts, args = meta.parse(args, {"force-reschedule": "bool", "detach": "bool",
                                   "verbose": "bool"})
    job_id, namespace = meta.job_id_by_prefix(_one_job(meta, args))
    length = meta.id_length(opts["verbose"])
    body = {"JobID": job_id, "EvalOptions": {"ForceReschedule": opts["force-reschedule"]}}
    try:
        resp, _ = meta.client().post(f"/v1/job/{path_id(job_id)}/evaluate", body,
                                     namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error evaluating job: {exc}") from None
    eval_id = (resp or {}).get("EvalID", "")
    if opts["detach"]:
        meta.ui.output(f"Created eval ID: {go_quote(limit(eval_id, length))} ")
        return 0
    return _monitor(meta, eval_id, length)


def revert(meta: Meta, args: list[str]) -> int:
    """``nomad job revert [-detach] <job> <version>``."""
    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool",
                                   "consul-token": "str", "vault-token": "str"})
    if len(args) != 2:
        raise meta.usage_error("This command takes two arguments: <job> <version>")
    try:
        version = int(args[1])
    except ValueError:
        raise meta.fail(f"Failed to parse job-version flag: strconv.ParseUint: parsing "
                        f"{go_quote(args[1])}: invalid syntax") from None
    job_id, namespace = meta.job_id_by_prefix(args[0].strip())
    body: dict[str, Any] = {"JobID": job_id, "JobVersion": version}
    try:
        resp, _ = meta.client().post(f"/v1/job/{path_id(job_id)}/revert", body,
                                     namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error retrieving job versions: {exc}") from None
    eval_id = (resp or {}).get("EvalID", "")
    if not eval_id:
        return 0
    if opts["detach"]:
        meta.ui.output("Evaluation ID: " + eval_id)
        return 0
    return _monitor(meta, eval_id, meta.id_length(opts["verbose"]))


def dispatch(meta: Meta, args: list[str]) -> int:
    """``nomad job dispatch [-meta k=v] <job> [input]``."""
    import base64
    import sys

    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool",
                                   "idempotency-token": "str", "meta": "list",
                                   "id-prefix-template": "str"})
    if not 1 <= len(args) <= 2:
        raise meta.usage_error("This command takes one or two argument: "
                               "<parameterized job> [input source]")
    payload = b""
    if len(args) == 2:
        try:
            payload = sys.stdin.buffer.read() if args[1] == "-" else open(args[1], "rb").read()
        except OSError as exc:
            raise meta.fail(f"Error reading input data: {exc}") from None
    dmeta: dict[str, str] = {}
    for item in opts["meta"]:
        if "=" not in item:
            raise meta.fail(f"Error parsing meta value: {item}")
        key, value = item.split("=", 1)
        dmeta[key] = value
    job_id, namespace = meta.job_id_by_prefix(args[0].strip())
    body = {"JobID": job_id, "Meta": dmeta, "Payload": base64.b64encode(payload).decode(),
            "IdPrefixTemplate": opts["id-prefix-template"]}
    if opts["idempotency-token"]:
        meta.client().config.headers["X-Nomad-Idempotency-Token"] = opts["idempotency-token"]
    try:
        resp, _ = meta.client().post(f"/v1/job/{path_id(job_id)}/dispatch", body,
                                     {"idempotency_token": opts["idempotency-token"]},
                                     namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Failed to dispatch job: {exc}") from None
    resp = resp or {}
    length = meta.id_length(opts["verbose"])
    basic = [f"Dispatched Job ID|{resp.get('DispatchedJobID', '')}"]
    if resp.get("EvalID"):
        basic.append(f"Evaluation ID|{limit(resp['EvalID'], length)}")
    meta.ui.output(format_kv(basic))
    if opts["detach"] or not resp.get("EvalID"):
        return 0
    meta.ui.output("")
    return _monitor(meta, resp["EvalID"], length)


def scale(meta: Meta, args: list[str]) -> int:
    """``nomad job scale <job> [<group>] <count>``."""
    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool"})
    if not 2 <= len(args) <= 3:
        raise meta.fail("Command requires at least two arguments and no more than three")
    group, count_text = (args[1], args[2]) if len(args) == 3 else ("", args[1])
    try:
        count = int(count_text)
    except ValueError:
        raise meta.fail(f"Failed to convert count string to int: strconv.Atoi: parsing "
                        f"{go_quote(count_text)}: invalid syntax") from None
    job_id, namespace = meta.job_id_by_prefix(args[0].strip())
    client = meta.client()
    try:
        scale_status, _ = client.get(f"/v1/job/{path_id(job_id)}/scale", namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error querying job: {exc}") from None
    groups = list(((scale_status or {}).get("TaskGroups") or {}).keys())
    if not group:
        if len(groups) != 1:
            raise meta.fail("Group name required")
        group = groups[0]
    elif group not in groups:
        raise meta.fail(f"Group {go_quote(group)} not found within job")
    body = {"Count": count, "Target": {"Group": group},
            "Message": "submitted using the Nomad CLI", "PolicyOverride": False}
    try:
        resp, _ = client.post(f"/v1/job/{path_id(job_id)}/scale", body, namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error submitting scaling request: {exc}") from None
    resp = resp or {}
    if resp.get("Warnings"):
        meta.ui.output(meta.ui.colorize(f"[bold][yellow]Job Warnings:\n{resp['Warnings']}[reset]\n"))
    if opts["detach"]:
        meta.ui.output("Evaluation ID: " + resp.get("EvalID", ""))
        return 0
    return _monitor(meta, resp.get("EvalID", ""), meta.id_length(opts["verbose"]))


def periodic_force(meta: Meta, args: list[str]) -> int:
    """``nomad job periodic force <job>``."""
    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <job id>")
    job_id, namespace = meta.job_id_by_prefix(args[0].strip())
    try:
        resp, _ = meta.client().post(f"/v1/job/{path_id(job_id)}/periodic/force",
                                     namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error forcing periodic job {go_quote(job_id)}: {exc}") from None
    eval_id = (resp or {}).get("EvalID", "")
    if opts["detach"]:
        meta.ui.output("Force periodic successful")
        meta.ui.output("Evaluation ID: " + eval_id)
        return 0
    return _monitor(meta, eval_id, meta.id_length(opts["verbose"]))
