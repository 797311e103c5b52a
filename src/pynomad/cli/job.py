"""``nomad job`` commands that act on registered jobs: status, stop, inspect, allocs,
history, eval, revert, dispatch, scale and periodic force.

Submitting job files (``run``, ``validate``, ``init``) lives in :mod:`jobfile`.
"""

from __future__ import annotations

import time
from typing import Any

from pynomad.cli import views
from pynomad.cli.api import APIError, path_id
from pynomad.cli.format import (columnize, format_kv, format_list, format_time,
                                format_time_difference, go_bool, go_quote, limit, to_json)
from pynomad.cli.meta import CommandExit, Meta, job_list_output, status_string

HELP = {
    "job status": """Usage: nomad job status [options] <job>

  Display status information about a job. If no job ID is given, a list of all
  known jobs will be displayed.

Status Options:

  -short         Display short output. Used only when a single job is being
                 queried, and drops verbose information about allocations.
  -evals         Display the evaluations associated with the job.
  -all-allocs    Display all allocations matching the job ID, including those
                 from an older instance of the job.
  -verbose       Display full information.
""",
    "job stop": """Usage: nomad job stop [options] <job>

  Stop an existing job. Upon successful deregistration, an interactive monitor
  session will start to display log lines as the job unwinds its allocations.

Stop Options:

  -detach            Return immediately instead of entering monitor mode.
  -eval-priority     Override the priority of the evaluations produced.
  -purge             Purge the job from the system (garbage collect it now).
  -global            Stop a multi-region job in all its regions.
  -no-shutdown-delay Ignore the group and task shutdown_delay configuration.
  -yes               Automatic yes to prompts.
  -verbose           Display full information.
""",
    "job inspect": """Usage: nomad job inspect [options] <job>
Alias: nomad inspect

  Inspect is used to see the specification of a submitted job.

Inspect Options:

  -version <job version>  Display the job at the given job version.
  -json                   Output the job in its JSON format.
  -t                      Format and display job using a Go template.
""",
    "job allocs": """Usage: nomad job allocs [options] <job>

  Display allocations for a particular job.

Allocs Options:

  -all      Display all allocations matching the job ID, even those from an
            older instance of the job.
  -json     Output the allocations in a JSON format.
  -verbose  Display full information.
""",
    "job history": """Usage: nomad job history [options] <job>

  History is used to display the known versions of a particular job.

History Options:

  -p        Display the difference between each version of the job.
  -full     Display the full job definition for each version.
  -version <job version>  Display only the history for the given job version.
  -json     Output the job versions in a JSON format.
""",
}


def _monitor(meta: Meta, eval_id: str, length: int) -> int:
    from pynomad.cli.monitor import Monitor

    return Monitor(meta.ui, meta.client(), length).monitor(eval_id)


def _one_job(meta: Meta, args: list[str], what: str = "<job>") -> str:
    if len(args) != 1:
        raise meta.usage_error(f"This command takes one argument: {what}")
    return args[0].strip()


# --------------------------------------------------------------------------- #
# job status
# --------------------------------------------------------------------------- #


def status(meta: Meta, args: list[str]) -> int:
    """``nomad job status [job]``."""
    opts, args = meta.parse(args, {"short": "bool", "evals": "bool", "all-allocs": "bool",
                                   "verbose": "bool", "json": "bool", "t": "str"})
    if len(args) > 1:
        raise meta.usage_error("This command takes either no arguments or one: <job>")
    length = meta.id_length(opts["verbose"])
    client = meta.client()
    if not args:
        try:
            jobs, _ = client.get("/v1/jobs")
        except APIError as exc:
            raise meta.fail(f"Error querying jobs: {exc}") from None
        if opts["json"]:
            meta.ui.output(to_json(jobs or []))
        elif not jobs:
            meta.ui.output("No running jobs")
        else:
            meta.ui.output(job_list_output(jobs, meta.all_namespaces()))
        return 0
    job_id, namespace = meta.job_id_by_prefix(args[0].strip())
    try:
        job, _ = client.get(f"/v1/job/{path_id(job_id)}", namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error querying job: {exc}") from None
    if opts["json"]:
        meta.ui.output(to_json(job))
        return 0
    namespace = job.get("Namespace") or namespace
    meta.ui.output(format_kv(job_basic_info(job, namespace)))
    if opts["short"]:
        return 0
    view = _JobStatusView(meta, job, namespace, opts, length)
    view.render()
    return 0




def is_periodic(job: dict[str, Any]) -> bool:
    return bool(job.get("Periodic"))


def is_parameterized(job: dict[str, Any]) -> bool:
    return bool(job.get("ParameterizedJob")) and not job.get("Dispatched")


def job_basic_info(job: dict[str, Any], namespace: str) -> list[str]:
    """The key/value header of ``job status``."""
    periodic, param = is_periodic(job), is_parameterized(job)
    basic = [
        f"ID|{job.get('ID', '')}",
        f"Name|{job.get('Name', '')}",
        f"Submit Date|{format_time(job.get('SubmitTime'))}",
        f"Type|{job.get('Type', '')}",
        f"Priority|{job.get('Priority', 0)}",
        f"Datacenters|{','.join(job.get('Datacenters') or [])}",
        f"Namespace|{namespace}",
        f"Node Pool|{job.get('NodePool') or ''}",
        f"Status|{status_string(job.get('Status', ''), job.get('Stop'))}",
        f"Periodic|{go_bool(periodic)}",
        f"Parameterized|{go_bool(param)}",
    ]
    if job.get("DispatchIdempotencyToken"):
        basic.append(f"Idempotency Token|{job['DispatchIdempotencyToken']}")
    if periodic and not param:
        if job.get("Stop"):
            basic.append("Next Periodic Launch|none (job stopped)")
        else:
            nxt = next_periodic_launch(job.get("Periodic") or {})
            if nxt is not None:
                now = time.time_ns()
                basic.append(f"Next Periodic Launch|{format_time(nxt)} "
                             f"({format_time_difference(now, nxt)} from now)")
    return basic


def next_periodic_launch(periodic: dict[str, Any]) -> int | None:
    """The next launch time (ns) of a cron periodic block, if croniter is available."""
    try:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from croniter import croniter  # type: ignore[import-not-found]
    except ImportError:
        return None
    specs = periodic.get("Specs") or ([periodic["Spec"]] if periodic.get("Spec") else [])
    try:
        tz = ZoneInfo(periodic.get("TimeZone") or "UTC")
        now = datetime.now(tz)
        times = [croniter(spec, now).get_next(datetime) for spec in specs]
    except Exception:  # noqa: BLE001 - an unparsable spec just hides the line
        return None
    return int(min(times).timestamp()) * 1_000_000_000 if times else None


class _JobStatusView:
    """Renders the sections below the header of ``job status <job>``."""

    def __init__(self, meta: Meta, job: dict[str, Any], namespace: str,
                 opts: dict[str, Any], length: int) -> None:
        self.meta, self.job, self.ns, self.opts, self.length = meta, job, namespace, opts, length
        self.ui = meta.ui
        self.client = meta.client()
        self.path = f"/v1/job/{path_id(job['ID'])}"

    def _get(self, suffix: str, what: str, params: dict[str, Any] | None = None) -> Any:
        try:
            data, _ = self.client.get(self.path + suffix, params, namespace=self.ns or None)
            return data
        except APIError as exc:
            if suffix == "/deployment" and exc.status == 404:
                return None
            raise self.meta.fail(f"Error querying {what}: {exc}") from None

    def header(self, title: str) -> None:
        self.ui.output(self.ui.colorize(f"\n[bold]{title}[reset]"))

    def render(self) -> None:
        if is_periodic(self.job) and not is_parameterized(self.job):
            self.summary()
            self.children("/periodic-", "No instances of periodic job found",
                          "Previously Launched Jobs")
        elif is_parameterized(self.job):
            pj = self.job.get("ParameterizedJob") or {}
            self.header("Parameterized Job")
            self.ui.output(format_kv([
                f"Payload|{pj.get('Payload', '')}",
                f"Required Metadata|{', '.join(pj.get('MetaRequired') or [])}",
                f"Optional Metadata|{', '.join(pj.get('MetaOptional') or [])}"]))
            self.summary()
            self.children("/dispatch-", "No dispatched instances of parameterized job found",
                          "Dispatched Jobs")
        else:
            self.job_info()

    def summary(self) -> None:
        summary = self._get("/summary", "job summary")
        if not summary:
            return
        periodic, param = is_periodic(self.job), is_parameterized(self.job)
        if not periodic and not param:
            self.header("Summary")
            rows = ["Task Group|Queued|Starting|Running|Failed|Complete|Lost|Unknown"]
            groups = summary.get("Summary") or {}
            for name in sorted(groups):
                g = groups[name] or {}
                rows.append("|".join([name] + [str(g.get(k) or 0) for k in (
                    "Queued", "Starting", "Running", "Failed", "Complete", "Lost", "Unknown")]))
            self.ui.output(format_list(rows))
        children = summary.get("Children")
        if children is not None:
            total = sum(int(children.get(k) or 0) for k in ("Pending", "Running", "Dead"))
            if param or periodic or total > 0:
                self.header("Parameterized Job Summary" if param else "Children Job Summary")
                self.ui.output(format_list([
                    "Pending|Running|Dead",
                    f"{children.get('Pending') or 0}|{children.get('Running') or 0}|"
                    f"{children.get('Dead') or 0}"]))

    def children(self, suffix: str, none_msg: str, title: str) -> None:
        try:
            kids, _ = self.client.get("/v1/jobs", {"prefix": self.job["ID"] + suffix})
        except APIError as exc:
            raise self.meta.fail(f"Error querying job: {exc}") from None
        if not kids:
            self.ui.output("\n" + none_msg)
            return
        rows = ["ID|Status"] + [f"{k['ID']}|{k.get('Status', '')}" for k in kids
                                if k.get("ParentID") == self.job["ID"]]
        self.header(title)
        self.ui.output(format_list(rows))

    def job_info(self) -> None:
        allocs = self._get("/allocations", "job allocations",
                           {"all": True} if self.opts["all-allocs"] else None) or []
        evals = self._get("/evaluations", "job evaluations") or []
        latest = self._get("/deployment", "latest job deployment")
        self.summary()
        self.evaluations(evals)
        self.rescheduling(allocs)
        if latest:
            self.header("Latest Deployment")
            self.ui.output(self.ui.colorize(views.deployment_short(latest, self.length)))
        self.header("Allocations")
        self.ui.output(views.alloc_list_stubs(allocs, self.opts["verbose"], self.length))

    def evaluations(self, evals: list[dict[str, Any]]) -> None:
        rows = ["ID|Priority|Triggered By|Status|Placement Failures"]
        latest_failed = None
        blocked = False
        for ev in evals:
            failures, _ = views.eval_failure_status(ev)
            rows.append("|".join([limit(ev.get("ID"), self.length), str(ev.get("Priority", 0)),
                                  ev.get("TriggeredBy", ""), ev.get("Status", ""), failures]))
            blocked = blocked or ev.get("Status") == "blocked"
            if ev.get("FailedTGAllocs") and (
                    latest_failed is None
                    or latest_failed.get("CreateIndex", 0) < ev.get("CreateIndex", 0)):
                latest_failed = ev
        if self.opts["verbose"] or self.opts["evals"]:
            self.header("Evaluations")
            self.ui.output(format_list(rows))
        if blocked and latest_failed is not None:
            self.failed_placements(latest_failed)

    def failed_placements(self, ev: dict[str, Any]) -> None:
        self.header("Placement Failure")
        groups = ev.get("FailedTGAllocs") or {}
        names = sorted(groups)
        for i, name in enumerate(names[:5]):
            self.ui.output(f"Task Group {go_quote(name)}:")
            self.ui.output(views.alloc_metrics(groups[name], False, "  "))
            if i != len(names) - 1:
                self.ui.output("")
        if len(names) > 5:
            self.ui.output("\nPlacement failures truncated. To see remainder run:\n"
                           f"nomad eval-status {ev.get('ID')}")

    def rescheduling(self, allocs: list[dict[str, Any]]) -> None:
        from pynomad.cli.format import parse_time_ns, pretty_time_diff

        recent: dict[str, dict[str, Any]] = {}
        for a in allocs:
            cur = recent.get(a.get("TaskGroup", ""))
            if cur is None or (a.get("ModifyTime") or 0) > (cur.get("ModifyTime") or 0):
                recent[a.get("TaskGroup", "")] = a
        rows = []
        now = time.time_ns()
        for tg in sorted(recent):
            eval_id = recent[tg].get("FollowupEvalID")
            if not eval_id:
                continue
            try:
                ev, _ = self.client.get(f"/v1/evaluation/{eval_id}")
            except APIError:
                continue
            wait_until = parse_time_ns((ev or {}).get("WaitUntil"))
            if not wait_until or now > wait_until:
                continue
            rows.append(f"{tg}|{limit(eval_id, self.length)}|{pretty_time_diff(wait_until, now)}")
        if rows:
            self.header("Future Rescheduling Attempts")
            self.ui.output(format_list(["Task Group|Eval ID|Eval Time"] + rows))


# --------------------------------------------------------------------------- #
# job stop
# --------------------------------------------------------------------------- #


def stop(meta: Meta, args: list[str]) -> int:
    """``nomad job stop [-purge] [-detach] [-yes] <job>...``."""
    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool", "global": "bool",
                                   "no-shutdown-delay": "bool", "yes": "bool", "purge": "bool",
                                   "eval-priority": "int"})
    if not args:
        raise meta.usage_error("This command takes at least one argument: <job>")
    code = 0
    for prefix in (a.strip() for a in args):
        try:
            result = _stop_one(meta, prefix, opts, single=len(args) == 1)
        except CommandExit as exc:
            result = exc.code
        code = code or result
    return code


def _stop_one(meta: Meta, prefix: str, opts: dict[str, Any], single: bool) -> int:
    job_id, namespace = meta.job_id_by_prefix(prefix)
    client = meta.client()
    if single and job_id != prefix and not opts["yes"]:
        code, ok = _confirm(meta, f"Are you sure you want to stop job {go_quote(job_id)}? [y/N]")
        if not ok:
            return code
    params = {"purge": opts["purge"], "global": opts["global"],
              "eval_priority": opts["eval-priority"] or None,
              "no_shutdown_delay": opts["no-shutdown-delay"]}
    try:
        resp, _ = client.delete(f"/v1/job/{path_id(job_id)}", params, namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error deregistering job with id {prefix} err: {exc}") from None
    eval_id = (resp or {}).get("EvalID") or ""
    if not eval_id:
        return 0
    if opts["detach"]:
        meta.ui.output(eval_id)
        return 0
    return _monitor(meta, eval_id, meta.id_length(opts["verbose"]))


def _confirm(meta: Meta, question: str) -> tuple[int, bool]:
    answer = meta.ui.ask(question)
    if answer == "" or answer.lower().startswith("n"):
        meta.ui.output("Cancelling job stop")
        return 0, False
    if answer.lower().startswith("y") and len(answer) > 1:
        meta.ui.output("For confirmation, an exact ‘y’ is required.")
        return 0, False
    if answer != "y":
        meta.ui.output("No confirmation detected. For confirmation, an exact 'y' is required.")
        return 1, False
    return 0, True


# --------------------------------------------------------------------------- #
# job inspect / allocs / history
# --------------------------------------------------------------------------- #


def _versions(meta: Meta, job_id: str, namespace: str, diffs: bool = False) -> dict[str, Any]:
    try:
        data, _ = meta.client().get(f"/v1/job/{path_id(job_id)}/versions",
                                    {"diffs": diffs}, namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error retrieving job versions: {exc}") from None
    return data or {}


def _parse_version(meta: Meta, text: str) -> int:
    try:
        value = int(text)
        if value < 0:
            raise ValueError
        return value
    except ValueError:
        raise meta.fail(f"Error parsing version value {go_quote(text)}: strconv.ParseUint: "
                        f"parsing {go_quote(text)}: invalid syntax") from None


def inspect(meta: Meta, args: list[str]) -> int:
    """``nomad job inspect [-version N] [-json] <job>``: prints ``{"Job": ...}``."""
    opts, args = meta.parse(args, {"version": "str", "json": "bool", "t": "str"})
    if opts["t"]:
        raise meta.fail("Go templates (-t) are not supported by this CLI; use -json")
    if not args and opts["json"]:
        try:
            jobs, _ = meta.client().get("/v1/jobs")
        except APIError as exc:
            raise meta.fail(f"Error querying jobs: {exc}") from None
        meta.ui.output(to_json(jobs or []))
        return 0
    job_id, namespace = meta.job_id_by_prefix(_one_job(meta, args))
    if opts["version"]:
        version = _parse_version(meta, opts["version"])
        found = [j for j in _versions(meta, job_id, namespace).get("Versions") or []
                 if j.get("Version") == version]
        if not found:
            raise meta.fail(f"Error inspecting job: job {go_quote(job_id)} with version "
                            f"{version} couldn't be found")
        job = found[0]
    else:
        try:
            job, _ = meta.client().get(f"/v1/job/{path_id(job_id)}", namespace=namespace or None)
        except APIError as exc:
            raise meta.fail(f"Error inspecting job: {exc}") from None
    meta.ui.output(to_json(job if opts["json"] else {"Job": job}))
    return 0


def allocs(meta: Meta, args: list[str]) -> int:
    """``nomad job allocs [-all] [-verbose] [-json] <job>``."""
    opts, args = meta.parse(args, {"verbose": "bool", "all": "bool", "json": "bool", "t": "str"})
    job_id, namespace = meta.job_id_by_prefix(_one_job(meta, args))
    try:
        data, _ = meta.client().get(f"/v1/job/{path_id(job_id)}/allocations",
                                    {"all": opts["all"]}, namespace=namespace or None)
    except APIError as exc:
        raise meta.fail(f"Error retrieving allocations: {exc}") from None
    if opts["json"]:
        meta.ui.output(to_json(data or []))
        return 0
    meta.ui.output(views.alloc_list_stubs(data or [], opts["verbose"],
                                          meta.id_length(opts["verbose"])))
    return 0


def history(meta: Meta, args: list[str]) -> int:
    """``nomad job history [-p] [-full] [-version N] [-json] <job>``."""
    opts, args = meta.parse(args, {"p": "bool", "full": "bool", "json": "bool",
                                   "version": "str", "t": "str"})
    if not 1 <= len(args) <= 2:
        raise meta.usage_error("This command takes one argument: <job>")
    if opts["json"] and (opts["p"] or opts["full"]):
        raise meta.fail("-json and -t are exclusive with -p and -full")
    job_id, namespace = meta.job_id_by_prefix(args[0].strip())
    data = _versions(meta, job_id, namespace, diffs=opts["p"])
    versions = data.get("Versions") or []
    diffs = data.get("Diffs") or []
    if opts["version"]:
        wanted = _parse_version(meta, opts["version"])
        idx = next((i for i, j in enumerate(versions) if j.get("Version") == wanted), None)
        job = versions[idx] if idx is not None else None
        if opts["json"]:
            meta.ui.output(to_json(job))
            return 0
        diff = diffs[idx] if idx is not None and idx < len(diffs) else None
        meta.ui.output(_format_version(meta, job, diff, opts["full"]))
        return 0
    if opts["json"]:
        meta.ui.output(to_json(versions))
        return 0
    if diffs and len(versions) != len(diffs) + 1:
        raise meta.fail(f"Number of job versions {len(versions)} doesn't match number of "
                        f"diffs {len(diffs)}")
    for i, job in enumerate(versions):
        diff = diffs[i] if i < len(diffs) else None
        meta.ui.output(_format_version(meta, job, diff, opts["full"]))
        if i != len(versions) - 1:
            meta.ui.output("")
    return 0


def _format_version(meta: Meta, job: dict[str, Any] | None, diff: dict[str, Any] | None,
                    full: bool) -> str:
    if job is None:
        raise meta.fail("Error printing job history for non-existing job or job version")
    basic = [f"Version|{job.get('Version', 0)}", f"Stable|{go_bool(job.get('Stable'))}",
             f"Submit Date|{format_time(job.get('SubmitTime'))}"]
    if diff:
        from pynomad.cli.jobdiff import format_job_diff

        basic.append("Diff|\n" + format_job_diff(diff).strip())
    if full:
        basic.append("Full|JSON Job:\n" + to_json(job))
    return columnize(basic, glue=" = ", no_trim=True)
