"""``nomad deployment`` commands (status, list, promote, fail) and the job-scoped
``job deployments`` / ``job promote``."""

from __future__ import annotations

from typing import Any

from pynomad.cli import views
from pynomad.cli.api import APIError, path_id
from pynomad.cli.format import go_quote, now_str, limit, to_json
from pynomad.cli.meta import Meta

HELP = {
    "deployment status": """Usage: nomad deployment status [options] <deployment id>

  Status is used to display the status of a deployment.

Status Options:

  -monitor  Enter monitor mode directly to poll for updates.
  -verbose  Display full information.
  -json     Output the deployment in its JSON format.
""",
    "deployment list": """Usage: nomad deployment list [options]

  List is used to list the set of deployments tracked by Nomad.

List Options:

  -json     Output the deployments in a JSON format.
  -filter   Specifies an expression used to filter query results.
  -verbose  Display full information.
""",
    "deployment promote": """Usage: nomad deployment promote [options] <deployment id>

  Promote is used to promote task groups in a deployment.

Promote Options:

  -group    Group may be specified many times and is used to promote that
            particular group. If no specific groups are specified, all groups
            are promoted.
  -detach   Return immediately instead of entering monitor mode.
  -verbose  Display full information.
""",
    "deployment fail": """Usage: nomad deployment fail [options] <deployment id>

  Fail is used to mark a deployment as failed.

Fail Options:

  -detach   Return immediately instead of entering monitor mode.
  -verbose  Display full information.
""",
    "job deployments": """Usage: nomad job deployments [options] <job>

  Deployments is used to display the deployments for a particular job.

Deployments Options:

  -latest   Display the latest deployment only.
  -all      Display all deployments matching the job ID, including those from
            an older instance of the job.
  -json     Output the deployments in a JSON format.
  -verbose  Display full information.
""",
    "job promote": """Usage: nomad job promote [options] <job id>

  Promote is used to promote task groups in the most recent deployment for
  the given job.

Promote Options:

  -group    Group to promote; may be given many times (default: all groups).
  -detach   Return immediately instead of entering monitor mode.
  -verbose  Display full information.
""",
}


def get_deployment(meta: Meta, dep_id: str, length: int) -> dict[str, Any]:
    """Resolve a deployment ID prefix (Nomad's getDeployment)."""
    client = meta.client()
    try:
        if len(dep_id) == 36:
            dep, _ = client.get(f"/v1/deployment/{dep_id}")
            return dep
        prefix = dep_id.replace("-", "")
        if len(prefix) == 1:
            raise meta.fail("Error retrieving deployment: Identifier must contain at least "
                            "two characters.")
        if len(prefix) % 2 == 1:
            prefix = prefix[:-1]
        deps, _ = client.get("/v1/deployments", {"prefix": prefix})
    except APIError as exc:
        raise meta.fail(f"Error retrieving deployment: {exc}") from None
    deps = deps or []
    if not deps:
        raise meta.fail(f"Error retrieving deployment: Deployment ID {go_quote(prefix)} "
                        "matched no deployments")
    if len(deps) > 1:
        raise meta.fail("Prefix matched multiple deployments\n\n"
                        + views.deployment_list(deps, length))
    return deps[0]


def _one_arg(meta: Meta, args: list[str], what: str) -> str:
    if len(args) != 1:
        raise meta.usage_error(f"This command takes one argument: {what}")
    return args[0]


def status(meta: Meta, args: list[str]) -> int:
    """``nomad deployment status [-monitor] [-verbose] [-json] <id>``."""
    opts, args = meta.parse(args, {"verbose": "bool", "json": "bool", "t": "str",
                                   "monitor": "bool", "wait": "duration"})
    length = meta.id_length(opts["verbose"])
    dep = get_deployment(meta, _one_arg(meta, args, "<deployment id>"), length)
    if opts["json"]:
        meta.ui.output(to_json(dep))
        return 0
    if opts["monitor"]:
        from pynomad.cli.monitor import DeploymentMonitor

        meta.ui.output(f"{now_str()}: Monitoring deployment {go_quote(limit(dep['ID'], length))}")
        DeploymentMonitor(meta.ui, meta.client(), opts["verbose"]).run(dep["ID"])
        return 0
    meta.ui.output(meta.ui.colorize(views.deployment(dep, length)))
    return 0


def list_deployments(meta: Meta, args: list[str]) -> int:
    """``nomad deployment list [-json] [-verbose]``."""
    opts, args = meta.parse(args, {"verbose": "bool", "json": "bool", "filter": "str",
                                   "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        deps, _ = meta.client().get("/v1/deployments", {"filter": opts["filter"]})
    except APIError as exc:
        raise meta.fail(f"Error retrieving deployments: {exc}") from None
    if opts["json"]:
        meta.ui.output(to_json(deps or []))
        return 0
    meta.ui.output(views.deployment_list(deps or [], meta.id_length(opts["verbose"])))
    return 0


def _after_update(meta: Meta, resp: dict[str, Any] | None, detach: bool, length: int,
                  blank: bool = False) -> int:
    eval_id = (resp or {}).get("EvalID") or ""
    if not eval_id:
        return 0
    if detach:
        meta.ui.output("Evaluation ID: " + eval_id)
        return 0
    if blank:
        meta.ui.output("")
    from pynomad.cli.monitor import Monitor

    return Monitor(meta.ui, meta.client(), length).monitor(eval_id)


def _promote_body(dep_id: str, groups: list[str]) -> dict[str, Any]:
    if groups:
        return {"DeploymentID": dep_id, "All": False, "Groups": groups}
    return {"DeploymentID": dep_id, "All": True}


def promote(meta: Meta, args: list[str]) -> int:
    """``nomad deployment promote [-group g]... <id>``."""
    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool", "group": "list"})
    length = meta.id_length(opts["verbose"])
    dep = get_deployment(meta, _one_arg(meta, args, "<deployment id>"), length)
    try:
        resp, _ = meta.client().post(f"/v1/deployment/promote/{dep['ID']}",
                                     _promote_body(dep["ID"], opts["group"]))
    except APIError as exc:
        raise meta.fail(f"Error promoting deployment: {exc}") from None
    return _after_update(meta, resp, opts["detach"], length)


def fail(meta: Meta, args: list[str]) -> int:
    """``nomad deployment fail <id>``."""
    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool"})
    length = meta.id_length(opts["verbose"])
    dep = get_deployment(meta, _one_arg(meta, args, "<deployment id>"), length)
    try:
        resp, _ = meta.client().post(f"/v1/deployment/fail/{dep['ID']}",
                                     {"DeploymentID": dep["ID"]})
    except APIError as exc:
        raise meta.fail(f"Error failing deployment: {exc}") from None
    reverted = (resp or {}).get("RevertedJobVersion")
    if reverted is None:
        meta.ui.output(f"Deployment {go_quote(dep['ID'])} failed")
    else:
        meta.ui.output(f"Deployment {go_quote(dep['ID'])} failed. Auto-reverted to job "
                       f"version {reverted}.")
    return _after_update(meta, resp, opts["detach"], length, blank=True)


def job_deployments(meta: Meta, args: list[str]) -> int:
    """``nomad job deployments [-latest] [-all] [-json] <job>``."""
    opts, args = meta.parse(args, {"latest": "bool", "verbose": "bool", "all": "bool",
                                   "json": "bool", "t": "str"})
    job_id, namespace = meta.job_id_by_prefix(_one_arg(meta, args, "<job>").strip())
    length = meta.id_length(opts["verbose"])
    client = meta.client()
    try:
        if opts["latest"]:
            dep, _ = client.get(f"/v1/job/{path_id(job_id)}/deployment", namespace=namespace or None)
            meta.ui.output(to_json(dep) if opts["json"] else
                           meta.ui.colorize(views.deployment(dep, length)))
            return 0
        deps, _ = client.get(f"/v1/job/{path_id(job_id)}/deployments", {"all": opts["all"]},
                             namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error retrieving deployments: {exc}") from None
    meta.ui.output(to_json(deps or []) if opts["json"] else views.deployment_list(deps or [], length))
    return 0


def job_promote(meta: Meta, args: list[str]) -> int:
    """``nomad job promote [-group g]... <job>``."""
    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool", "group": "list"})
    job_id, namespace = meta.job_id_by_prefix(_one_arg(meta, args, "<job id>").strip())
    length = meta.id_length(opts["verbose"])
    client = meta.client()
    try:
        dep, _ = client.get(f"/v1/job/{path_id(job_id)}/deployment", namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error retrieving deployment: {exc}") from None
    if not dep:
        raise meta.fail(f"Job {go_quote(job_id)} has no deployment to promote")
    try:
        resp, _ = client.post(f"/v1/deployment/promote/{dep['ID']}",
                              _promote_body(dep["ID"], opts["group"]), namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error promoting deployment {go_quote(dep['ID'])} for job "
                        f"{go_quote(job_id)}: {exc}") from None
    return _after_update(meta, resp, opts["detach"], length)
