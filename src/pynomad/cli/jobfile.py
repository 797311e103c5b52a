"""Commands that read job files: ``job run``, ``job validate`` and ``job init``.

Job files are parsed locally (HCL2 through :mod:`pynomad.jobspec`, or JSON with
``-json``) and the resulting API ``Job`` object is submitted over HTTP, exactly
as the Nomad CLI does.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from typing import Any

from pynomad.cli.api import APIError
from pynomad.cli.format import format_time, format_time_difference, to_go_json
from pynomad.cli.meta import Meta

DEFAULT_INIT_NAME = "example.nomad.hcl"
_ENFORCE = re.compile(r"\((Enforcing job modify index.*)\)")

FILE_FLAGS = {"json": "bool", "hcl1": "bool", "hcl2-strict": "bool", "var": "list",
               "var-file": "list", "vault-token": "str", "vault-namespace": "str"}

HELP = {
    "job run": """Usage: nomad job run [options] <path>
Alias: nomad run

  Starts running a new job or updates an existing job using the specification
  located at <path>. If the supplied path is "-", the job file is read from
  stdin.

  Upon successful job submission, this command will immediately enter an
  interactive monitor that shows the scheduling decisions and placements. The
  monitor ends once placement (and any deployment) is done; it is safe to exit
  it early with ctrl+c.

  Exit code 0 means success, 2 means there were placement failures
  (unsatisfiable constraints, resource exhaustion, ...), and 1 means any other
  error, including connection issues and failed deployments.

Run Options:

  -check-index       Only register or update the job if the passed job modify
                     index matches the server side version (0: only if new).
  -detach            Return immediately instead of entering monitor mode.
  -eval-priority     Override the priority of the evaluations produced.
  -json              Parse the job file as JSON (a top-level "Job" key is allowed).
  -hcl2-strict       Error on variables supplied but not declared (default true).
  -output            Output the JSON that would be submitted to the HTTP API
                     without submitting the job.
  -policy-override   Override any soft mandatory Sentinel policies.
  -preserve-counts   Preserve the existing task group counts when updating.
  -consul-token      Consul token stored in the job before submission.
  -vault-token       Vault token stored in the job before submission.
  -var 'key=value'   Variable for the job file, can be used multiple times.
  -var-file=path     Path to an HCL2 file containing user variables.
  -verbose           Display full information.
""",
    "job validate": """Usage: nomad job validate [options] <path>
Alias: nomad validate

  Checks if a given HCL job file has a valid specification. If the supplied
  path is "-", the job file is read from stdin.

Validate Options:

  -json              Parse the job file as JSON.
  -hcl2-strict       Error on variables supplied but not declared (default true).
  -var 'key=value'   Variable for the job file, can be used multiple times.
  -var-file=path     Path to an HCL2 file containing user variables.
""",
    "job init": """Usage: nomad job init <filename>
Alias: nomad init <filename>

  Creates an example job file that can be used as a starting point to
  customize further. If no filename is given, the default of
  "example.nomad.hcl" will be used.

Init Options:

  -short   If the short flag is set, a minimal jobspec without comments is
           emitted.
""",
}


class JobFileError(Exception):
    """The job file could not be read or parsed; the message is user-facing."""


def _var_flags(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def _read_source(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    if not path:
        raise JobFileError("Error jobfile path has to be specified.")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise JobFileError(f"Error getting jobfile from \"{path}\": {exc.strerror or exc}") from None


def load_job(path: str, opts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse the job file at ``path``; return (API Job dict, JobSubmission dict)."""
    source = _read_source(path)
    if opts["json"]:
        try:
            data = json.loads(source)
        except ValueError as exc:
            raise JobFileError(f"Failed to parse JSON job: {exc}") from None
        if not isinstance(data, dict):
            raise JobFileError("Failed to parse JSON job: expected a JSON object")
        job = data["Job"] if isinstance(data.get("Job"), dict) else data
        return job, {"Source": source, "Format": "json"}
    variables = _var_flags(opts["var"])
    job = _parse_hcl(path, source, variables, opts)
    var_files = ""
    for name in opts["var-file"]:
        try:
            with open(name, encoding="utf-8") as fh:
                var_files += fh.read() + "\n"
        except OSError as exc:
            raise JobFileError(f"Failed to read var file(s): {exc}") from None
    env_vars = {k[len("NOMAD_VAR_"):]: v for k, v in os.environ.items()
                if k.startswith("NOMAD_VAR_")}
    env_vars.update(variables)
    return job, {"Source": source, "Format": "hcl2", "VariableFlags": env_vars,
                 "Variables": var_files}


def _parse_hcl(path: str, source: str, variables: dict[str, str],
               opts: dict[str, Any]) -> dict[str, Any]:
    try:
        from pynomad.jobspec import JobspecError, parse_job_file
    except ImportError as exc:
        raise JobFileError(f"Error parsing job file from {path}:\nHCL support unavailable: "
                           f"{exc}") from None
    strict = bool(opts["hcl2-strict"]) and not opts["hcl1"]
    tmp = None
    file_path = path
    if path == "-":
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix="stdin", suffix=".nomad.hcl")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(source)
        file_path = tmp
    try:
        return parse_job_file(file_path, variables=variables, var_files=list(opts["var-file"]),
                              strict=strict)
    except JobspecError as exc:
        raise JobFileError(f"Error parsing job file from {path}:\n{exc}") from None
    finally:
        if tmp:
            os.unlink(tmp)


def _check_options(meta: Meta, opts: dict[str, Any]) -> None:
    problem = ""
    if opts["hcl1"] and opts["json"]:
        problem = "cannot parse job file as HCL and JSON."
    elif (opts["var"] or opts["var-file"]) and opts["json"]:
        problem = "cannot use variables with JSON files."
    if problem:
        raise meta.fail(f"Invalid job options: {problem}")


def get_job(meta: Meta, path: str, opts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    _check_options(meta, opts)
    try:
        return load_job(path, opts)
    except JobFileError as exc:
        raise meta.fail(f"Error getting job struct: {exc}") from None


# --------------------------------------------------------------------------- #
# job run
# --------------------------------------------------------------------------- #


def run(meta: Meta, args: list[str]) -> int:
    """``nomad job run [options] <path>``."""
    spec = dict(FILE_FLAGS, **{
        "detach": "bool", "verbose": "bool", "output": "bool", "policy-override": "bool",
        "preserve-counts": "bool", "check-index": "str", "consul-token": "str",
        "consul-namespace": "str", "eval-priority": "int"})
    opts, args = meta.parse(args, spec, initial={"hcl2-strict": True})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <path>")
    job, submission = get_job(meta, args[0], opts)
    _apply_tokens(job, opts)
    if opts["output"]:
        meta.ui.output(to_go_json({"Job": job}))
        return 0
    client = meta.client()
    if job.get("Region"):
        client.set_region(job["Region"])
    if job.get("Namespace"):
        client.set_namespace(job["Namespace"])
    body = _register_body(meta, job, submission, opts)
    try:
        resp, _ = client.post("/v1/jobs", body)
    except APIError as exc:
        match = _ENFORCE.search(str(exc))
        if match:
            meta.ui.error(match.group(1))
            meta.ui.error("Job not updated")
            return 1
        raise meta.fail(f"Error submitting job: {exc}") from None
    resp = resp or {}
    if resp.get("Warnings"):
        meta.ui.output(meta.ui.colorize(f"[bold][yellow]Job Warnings:\n{resp['Warnings']}[reset]\n"))
    return _after_register(meta, job, resp.get("EvalID") or "", opts)


def _apply_tokens(job: dict[str, Any], opts: dict[str, Any]) -> None:
    consul = opts.get("consul-token") or os.environ.get("CONSUL_HTTP_TOKEN", "")
    if consul:
        job["ConsulToken"] = consul
    if opts.get("consul-namespace"):
        job["ConsulNamespace"] = opts["consul-namespace"]
    vault = opts.get("vault-token") or os.environ.get("VAULT_TOKEN", "")
    if vault:
        job["VaultToken"] = vault
    if opts.get("vault-namespace"):
        job["VaultNamespace"] = opts["vault-namespace"]


def _register_body(meta: Meta, job: dict[str, Any], submission: dict[str, Any],
                   opts: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"Job": job, "Submission": submission,
                            "PolicyOverride": opts["policy-override"],
                            "PreserveCounts": opts["preserve-counts"],
                            "EvalPriority": opts["eval-priority"]}
    text = opts["check-index"]
    if text:
        try:
            index = int(text)
            if index < 0:
                raise ValueError
        except ValueError:
            raise meta.fail(f'Error parsing check-index value "{text}": strconv.ParseUint: '
                            f'parsing "{text}": invalid syntax') from None
        body["EnforceIndex"] = True
        body["JobModifyIndex"] = index
    return body


def _after_register(meta: Meta, job: dict[str, Any], eval_id: str, opts: dict[str, Any]) -> int:
    periodic = bool(job.get("Periodic"))
    param = bool(job.get("ParameterizedJob"))
    multiregion = bool(job.get("Multiregion"))
    if opts["detach"] or periodic or param or multiregion:
        meta.ui.output("Job registration successful")
        if periodic and not param:
            from pynomad.cli.job import next_periodic_launch

            nxt = next_periodic_launch(job["Periodic"])
            if nxt is not None:
                now = time.time_ns()
                meta.ui.output(f"Approximate next launch time: {format_time(nxt)} "
                               f"({format_time_difference(now, nxt)} from now)")
        elif not param:
            meta.ui.output("Evaluation ID: " + eval_id)
        return 0
    from pynomad.cli.monitor import Monitor

    return Monitor(meta.ui, meta.client(), meta.id_length(opts["verbose"])).monitor(eval_id)


# --------------------------------------------------------------------------- #
# job validate
# --------------------------------------------------------------------------- #


def validate(meta: Meta, args: list[str]) -> int:
    """``nomad job validate [options] <path>``."""
    opts, args = meta.parse(args, dict(FILE_FLAGS), initial={"hcl2-strict": True})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <path>")
    job, _ = get_job(meta, args[0], opts)
    client = meta.client()
    if job.get("Region"):
        client.set_region(job["Region"])
    _apply_tokens(job, opts)
    ui = meta.ui
    try:
        resp, _ = client.post("/v1/validate/job", {"Job": job})
        resp = resp or {}
    except APIError as exc:
        if exc.status:
            raise meta.fail(f"Error validating job: {exc}") from None
        resp = _validate_local(meta, job)
    if not resp.get("DriverConfigValidated"):
        ui.output(ui.colorize("[bold][yellow]Driver configuration not validated since "
                              "connection to Nomad agent couldn't be established.[reset]\n"))
    if resp.get("Error"):
        ui.error(ui.colorize("[bold][red]Job validation errors:[reset]"))
        ui.error(resp["Error"])
        return 1
    if resp.get("Warnings"):
        ui.output(ui.colorize(f"[bold][yellow]Job Warnings:\n{resp['Warnings']}[reset]\n"))
    ui.output(ui.colorize("[bold][green]Job validation successful[reset]"))
    return 0


def _validate_local(meta: Meta, job: dict) -> dict:
    """No agent reachable: validate here, as Nomad's CLI falls back to doing."""
    import msgspec

    from ..structs import Job, ValidationError, canonicalize, format_errors, validate_job
    from ..structs.api_convert import from_api

    try:
        parsed = from_api(canonicalize(msgspec.convert(job, Job)))
        validate_job(parsed)
    except msgspec.ValidationError as exc:
        raise meta.fail(f"Error validating job: {exc}") from None
    except ValidationError as exc:
        return {"DriverConfigValidated": False, "Error": format_errors(exc.errors)}
    return {"DriverConfigValidated": False}


# --------------------------------------------------------------------------- #
# job init
# --------------------------------------------------------------------------- #


def init(meta: Meta, args: list[str]) -> int:
    """``nomad job init [-short] [filename]``: write the example job file."""
    opts, args = meta.parse(args, {"short": "bool", "connect": "bool", "template": "str",
                                   "list-templates": "bool"})
    if len(args) > 1:
        raise meta.usage_error("This command takes either no arguments or one: <filename>")
    if opts["connect"] or opts["template"] or opts["list-templates"]:
        raise meta.fail("The -connect, -template and -list-templates options are not "
                        "supported by this version")
    filename = args[0] if args else DEFAULT_INIT_NAME
    if os.path.lexists(filename):
        raise meta.fail(f"Job '{filename}' already exists")
    from pynomad.cli import init_assets

    text = init_assets.EXAMPLE_SHORT if opts["short"] else init_assets.EXAMPLE
    try:
        fd = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o660)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise meta.fail(f"Failed to write '{filename}': {exc}") from None
    meta.ui.output(f"Example job file written to {filename}")
    return 0
