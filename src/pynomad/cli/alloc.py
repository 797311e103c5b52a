"""``nomad alloc`` commands: status, stop, restart and signal (logs live in alloc_logs)."""

from __future__ import annotations

import time
from typing import Any

from pynomad.cli import views
from pynomad.cli.api import APIError
from pynomad.cli.format import (format_kv, format_list, format_list_with_spaces, format_task_time,
                                format_time, go_duration, go_quote, ibytes, limit,
                                parse_time_ns, pretty_time_diff, to_json)
from pynomad.cli.meta import Meta, sanitize_uuid_prefix

_MB = 1024 * 1024

HELP = {
    "alloc status": """Usage: nomad alloc status [options] <allocation>
Alias: nomad alloc-status

  Display information about existing allocations and its tasks. This command
  can be used to inspect the current status of an allocation, including its
  running status, metadata, and verbose failure messages reported by internal
  subsystems.

Alloc Status Options:

  -short    Display short output. Shows only the most recent task event.
  -stats    Display detailed resource usage statistics.
  -verbose  Show full information.
  -json     Output the allocation in its JSON format.
""",
    "alloc stop": """Usage: nomad alloc stop [options] <allocation>

  Stop an existing allocation. This command is used to signal a specific
  alloc to shut down, after which the scheduler will replace it.

Stop Specific Options:

  -detach             Return immediately instead of entering monitor mode.
  -no-shutdown-delay  Ignore the group and task shutdown_delay configuration.
  -verbose            Show full information.
""",
    "alloc restart": """Usage: nomad alloc restart [options] <allocation> <task>

  Restart an existing allocation's tasks in place.

Restart Specific Options:

  -all-tasks  Restart all tasks, including prestart and poststart tasks.
  -task       Specify the individual task to restart.
  -verbose    Show full information.
""",
    "alloc signal": """Usage: nomad alloc signal [options] <allocation> <task>

  Signal an existing allocation's tasks.

Signal Specific Options:

  -s        Specify the signal that the selected tasks should receive
            (defaults to SIGKILL).
  -task     Specify the individual task that will receive the signal.
  -verbose  Show full information.
""",
}


def lookup_alloc(meta: Meta, alloc_id: str, verbose: bool, short_msg: str,
                 multi_ok: bool = False) -> dict[str, Any] | None:
    """Resolve an allocation ID prefix and fetch the full allocation.

    Returns ``None`` when several allocations matched and ``multi_ok`` is set
    (the list has then been printed to stdout, as ``alloc status`` does).
    """
    if len(alloc_id) == 1:
        raise meta.fail(short_msg)
    alloc_id = sanitize_uuid_prefix(alloc_id)
    client = meta.client()
    try:
        stubs, _ = client.get("/v1/allocations", {"prefix": alloc_id})
    except APIError as exc:
        raise meta.fail(f"Error querying allocation: {exc}") from None
    stubs = stubs or []
    if not stubs:
        raise meta.fail(f"No allocation(s) with prefix or id {go_quote(alloc_id)} found")
    if len(stubs) > 1:
        out = views.alloc_list_stubs(stubs, verbose, meta.id_length(verbose))
        if multi_ok:
            meta.ui.output(f"Prefix matched multiple allocations\n\n{out}")
            return None
        raise meta.fail(f"Prefix matched multiple allocations\n\n{out}")
    try:
        alloc, _ = client.get(f"/v1/allocation/{stubs[0]['ID']}",
                              namespace=stubs[0].get("Namespace") or None)
    except APIError as exc:
        raise meta.fail(f"Error querying allocation: {exc}") from None
    return alloc


# --------------------------------------------------------------------------- #
# alloc status
# --------------------------------------------------------------------------- #


def status(meta: Meta, args: list[str]) -> int:
    """``nomad alloc status [-short] [-stats] [-verbose] [-json] <alloc>``."""
    opts, args = meta.parse(args, {"short": "bool", "verbose": "bool", "stats": "bool",
                                   "json": "bool", "t": "str"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one of the following argument conditions:",
                               " * A single <allocation>",
                               " * No arguments, with output format specified")
    verbose = opts["verbose"]
    alloc = lookup_alloc(meta, args[0], verbose, "Identifier must contain at least two characters.",
                         multi_ok=True)
    if alloc is None:
        return 0
    if opts["json"]:
        meta.ui.output(to_json(alloc))
        return 0
    view = AllocView(meta, alloc, verbose)
    if opts["short"]:
        meta.ui.output(view.short_info())
        view.short_tasks()
    else:
        meta.ui.output(view.basic_info())
        view.network()
        stats = view.fetch_stats()
        view.task_details(stats, opts["stats"])
    if verbose:
        meta.ui.output(meta.ui.colorize("\n[bold]Placement Metrics[reset]"))
        meta.ui.output(views.alloc_metrics(alloc.get("Metrics"), True, "  "))
    return 0


class AllocView:
    """Renders the sections of ``alloc status``."""

    def __init__(self, meta: Meta, alloc: dict[str, Any], verbose: bool) -> None:
        self.meta, self.alloc, self.verbose = meta, alloc, verbose
        self.ui = meta.ui
        self.length = meta.id_length(verbose)
        job = alloc.get("Job") or {}
        group = next((g for g in job.get("TaskGroups") or []
                      if g.get("Name") == alloc.get("TaskGroup")), {})
        self.tasks = {t.get("Name"): t for t in group.get("Tasks") or []}

    def _times(self) -> tuple[str, str]:
        a = self.alloc
        if self.verbose:
            return format_time(a.get("CreateTime")), format_time(a.get("ModifyTime"))
        now = time.time_ns()
        return (pretty_time_diff(parse_time_ns(a.get("CreateTime")), now),
                pretty_time_diff(parse_time_ns(a.get("ModifyTime")), now))

    def short_info(self) -> str:
        created, modified = (pretty_time_diff(parse_time_ns(self.alloc.get(k)))
                             for k in ("CreateTime", "ModifyTime"))
        return format_kv([f"ID|{self.alloc.get('ID', '')}", f"Name|{self.alloc.get('Name', '')}",
                          f"Created|{created}", f"Modified|{modified}"])

    def basic_info(self) -> str:
        a, n = self.alloc, self.length
        created, modified = self._times()
        basic = [
            f"ID|{a.get('ID', '')}", f"Eval ID|{limit(a.get('EvalID'), n)}",
            f"Name|{a.get('Name', '')}", f"Node ID|{limit(a.get('NodeID'), n)}",
            f"Node Name|{a.get('NodeName') or ''}", f"Job ID|{a.get('JobID', '')}",
            f"Job Version|{views.alloc_job_version(a)}",
            f"Client Status|{a.get('ClientStatus', '')}",
            f"Client Description|{a.get('ClientDescription') or ''}",
            f"Desired Status|{a.get('DesiredStatus', '')}",
            f"Desired Description|{a.get('DesiredDescription') or ''}",
            f"Created|{created}", f"Modified|{modified}",
        ]
        if a.get("DeploymentID"):
            ds = a.get("DeploymentStatus") or {}
            healthy = ds.get("Healthy")
            health = "unset" if healthy is None else ("healthy" if healthy else "unhealthy")
            basic += [f"Deployment ID|{limit(a['DeploymentID'], n)}",
                      f"Deployment Health|{health}"]
            if ds.get("Canary"):
                basic.append("Canary|true")
        if a.get("NextAllocation"):
            basic.append(f"Replacement Alloc ID|{limit(a['NextAllocation'], n)}")
        if a.get("FollowupEvalID"):
            eligible = self._followup_time(a["FollowupEvalID"])
            if eligible:
                basic.append(f"Reschedule Eligibility|{eligible}")
        if self.verbose:
            m = a.get("Metrics") or {}
            basic += [f"Evaluated Nodes|{m.get('NodesEvaluated') or 0}",
                      f"Filtered Nodes|{m.get('NodesFiltered') or 0}",
                      f"Exhausted Nodes|{m.get('NodesExhausted') or 0}",
                      f"Allocation Time|{go_duration(m.get('AllocationTime'))}",
                      f"Failures|{m.get('CoalescedFailures') or 0}"]
        return format_kv(basic)

    def _followup_time(self, eval_id: str) -> str:
        try:
            ev, _ = self.meta.client().get(f"/v1/evaluation/{eval_id}")
        except APIError:
            return ""
        wait = parse_time_ns((ev or {}).get("WaitUntil"))
        now = time.time_ns()
        return "" if not wait or now > wait else pretty_time_diff(wait, now)

    def network(self) -> None:
        shared = ((self.alloc.get("AllocatedResources") or {}).get("Shared") or {})
        networks = shared.get("Networks") or []
        if not networks:
            return
        nw = networks[0]
        rows = ["Label|Dynamic|Address"]
        ports = shared.get("Ports") or []
        if ports:
            for p in ports:
                rows.append(_port_row("*" + p.get("Label", ""), p, p.get("HostIP", "")))
        else:
            for p in (nw.get("DynamicPorts") or []) + (nw.get("ReservedPorts") or []):
                rows.append(_port_row(p.get("Label", ""), p, nw.get("IP", "")))
        if len(rows) == 1:
            return
        mode = f" (mode = {go_quote(nw['Mode'])})" if nw.get("Mode") else ""
        self.ui.output("")
        self.ui.output(f"Allocation Addresses{mode}:\n{format_list(rows)}")

    def fetch_stats(self) -> dict[str, Any] | None:
        try:
            stats, _ = self.meta.client().get(f"/v1/client/allocation/{self.alloc['ID']}/stats")
            return stats
        except APIError as exc:
            self.ui.output("")
            self.ui.error(f"Couldn't retrieve stats: {exc}")
            return None

    def task_names(self) -> list[str]:
        names = sorted((self.alloc.get("TaskStates") or {}).keys())

        def rank(name: str) -> int:
            lc = (self.tasks.get(name) or {}).get("Lifecycle")
            if not lc:
                return 2
            return 1 if lc.get("Sidecar") else 0
        return sorted(names, key=rank)

    def lifecycle(self, name: str) -> str:
        lc = (self.tasks.get(name) or {}).get("Lifecycle")
        if not lc or not lc.get("Hook"):
            return "main"
        return lc["Hook"] + (" sidecar" if lc.get("Sidecar") else "")

    def short_tasks(self) -> None:
        rows = ["Name|State|Last Event|Time|Lifecycle"]
        states = self.alloc.get("TaskStates") or {}
        for name in self.task_names():
            events = states[name].get("Events") or []
            last = events[-1] if events else {}
            rows.append("|".join([name, states[name].get("State", ""), last.get("Type", ""),
                                  format_time(last.get("Time")) if last else "",
                                  self.lifecycle(name)]))
        self.ui.output(self.ui.colorize("\n[bold]Tasks[reset]"))
        self.ui.output(format_list(rows))

    def task_details(self, stats: dict[str, Any] | None, display_stats: bool) -> None:
        states = self.alloc.get("TaskStates") or {}
        for name in self.task_names():
            state = states[name]
            lc = self.lifecycle(name)
            indicator = f" ({lc})" if lc != "main" else ""
            self.ui.output(self.ui.colorize(
                f"\n[bold]Task {go_quote(name)}{indicator} is {go_quote(state.get('State', ''))}[reset]"))
            self.task_resources(name, stats, display_stats)
            self.ui.output("")
            self.task_status(state)

    def task_resources(self, name: str, stats: dict[str, Any] | None, display: bool) -> None:
        res = _task_resources(self.alloc, name)
        if res is None:
            return
        self.ui.output("Task Resources:")
        addrs = [f"{p.get('Label')}: {nw.get('IP')}:{p.get('Value')}"
                 for nw in res.get("Networks") or []
                 for p in (nw.get("DynamicPorts") or []) + (nw.get("ReservedPorts") or [])]
        cores = res.get("Cores") or 0
        header = f"CPU ({cores} cores)|Memory|Disk|Addresses" if cores else "CPU|Memory|Disk|Addresses"
        cpu = str(res.get("CPU") or 0)
        mem = ibytes((res.get("MemoryMB") or 0) * _MB)
        mem_max = ""
        if res.get("MemoryMaxMB") and res["MemoryMaxMB"] != res.get("MemoryMB"):
            mem_max = "Max: " + ibytes(res["MemoryMaxMB"] * _MB)
        usage = ((stats or {}).get("Tasks") or {}).get(name) or {}
        ru = usage.get("ResourceUsage") or {}
        if ru.get("CpuStats"):
            cpu = f"{int(float(ru['CpuStats'].get('TotalTicks') or 0))}/{cpu}"
        if ru.get("MemoryStats"):
            ms = ru["MemoryStats"]
            used = ms.get("RSS") or 0
            if not used and "RSS" not in (ms.get("Measured") or []):
                used = ms.get("Usage") or 0
            mem = f"{ibytes(used)}/{mem}"
        disk = ibytes(_disk_mb(self.alloc) * _MB)
        rows = [header, f"{cpu} MHz|{mem}|{disk}|{addrs[0] if addrs else ''}"]
        if mem_max or len(addrs) > 1:
            rows.append(f"|{mem_max}||{addrs[1] if len(addrs) > 1 else ''}")
        rows += [f"|||{a}" for a in addrs[2:]]
        self.ui.output(format_list_with_spaces(rows))
        if display and ru:
            self.ui.output("")
            self.verbose_usage(ru)

    def verbose_usage(self, ru: dict[str, Any]) -> None:
        ms, cs = ru.get("MemoryStats") or {}, ru.get("CpuStats") or {}
        mem_keys = {"RSS": "RSS", "Cache": "Cache", "Swap": "Swap", "Usage": "Usage",
                    "Max Usage": "MaxUsage", "Kernel Usage": "KernelUsage",
                    "Kernel Max Usage": "KernelMaxUsage"}
        measured = sorted(ms.get("Measured") or [])
        if measured:
            self.ui.output("Memory Stats")
            vals = [ibytes(ms.get(mem_keys[m]) or 0) for m in measured if m in mem_keys]
            self.ui.output(format_list(["|".join(measured), "|".join(vals)]))
            self.ui.output("")
        measured = sorted(cs.get("Measured") or [])
        if measured:
            self.ui.output("CPU Stats")
            vals = []
            for m in measured:
                if m in ("Percent", "User Mode", "System Mode"):
                    key = {"Percent": "Percent", "User Mode": "UserMode",
                           "System Mode": "SystemMode"}[m]
                    vals.append(f"{float(cs.get(key) or 0):.2f}%")
                elif m == "Throttled Periods":
                    vals.append(str(cs.get("ThrottledPeriods") or 0))
                elif m == "Throttled Time":
                    vals.append(str(cs.get("ThrottledTime") or 0))
            self.ui.output(format_list(["|".join(measured), "|".join(vals)]))

    def task_status(self, state: dict[str, Any]) -> None:
        self.ui.output("Task Events:")
        self.ui.output(format_kv([
            f"Started At|{format_task_time(state.get('StartedAt'))}",
            f"Finished At|{format_task_time(state.get('FinishedAt'))}",
            f"Total Restarts|{state.get('Restarts') or 0}",
            f"Last Restart|{format_task_time(state.get('LastRestart'))}"]))
        self.ui.output("")
        self.ui.output("Recent Events:")
        rows = ["Time|Type|Description"]
        for event in reversed(state.get("Events") or []):
            msg = event.get("DisplayMessage") or display_message(event)
            rows.append(f"{format_time(event.get('Time'))}|{event.get('Type', '')}|{msg}")
        self.ui.output(format_list(rows))


def _port_row(label: str, port: dict[str, Any], host_ip: str) -> str:
    text = f"{label}|yes|{host_ip}:{port.get('Value', 0)}"
    if port.get("To"):
        text += f" -> {port['To']}"
    return text


def _task_resources(alloc: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The task's resources in the legacy ``TaskResources`` shape."""
    legacy = (alloc.get("TaskResources") or {}).get(name)
    if legacy:
        return legacy
    tr = ((alloc.get("AllocatedResources") or {}).get("Tasks") or {}).get(name)
    if not tr:
        return None
    cpu, mem = tr.get("Cpu") or {}, tr.get("Memory") or {}
    return {"CPU": cpu.get("CpuShares") or 0, "Cores": len(cpu.get("ReservedCores") or []),
            "MemoryMB": mem.get("MemoryMB") or 0, "MemoryMaxMB": mem.get("MemoryMaxMB") or 0,
            "Networks": tr.get("Networks") or []}


def _disk_mb(alloc: dict[str, Any]) -> int:
    res = alloc.get("Resources") or {}
    if res.get("DiskMB") is not None:
        return int(res["DiskMB"])
    shared = (alloc.get("AllocatedResources") or {}).get("Shared") or {}
    return int(shared.get("DiskMB") or 0)


def display_message(event: dict[str, Any]) -> str:
    """Nomad's buildDisplayMessage for task events without a DisplayMessage."""
    etype = event.get("Type", "")
    e = event.get
    if etype == "Task Setup":
        return e("Message") or ""
    fixed = {"Started": "Task started by client", "Received": "Task received by client",
             "Downloading Artifacts": "Client is downloading artifacts",
             "Leader Task Dead": "Leader Task in Group dead",
             "Reconnected": "Client reconnected"}
    if etype in fixed:
        return fixed[etype]
    fallback = {"Failed Validation": ("ValidationError", "Validation of task failed"),
                "Setup Failure": ("SetupError", "Task setup failed"),
                "Driver Failure": ("DriverError", "Failed to start task"),
                "Failed Artifact Download": ("DownloadError", "Failed to download artifacts"),
                "Killed": ("KillError", "Task successfully killed"),
                "Not Restarting": ("RestartReason", "Task exceeded restart policy"),
                "Restart Signaled": ("RestartReason", "Task signaled to restart"),
                "Driver": ("DriverMessage", "")}
    if etype in fallback:
        key, default = fallback[etype]
        return e(key) or default
    if etype == "Killing":
        if e("KillReason"):
            return f"Killing task: {e('KillReason')}"
        if e("KillTimeout"):
            return f"Sent interrupt. Waiting {go_duration(e('KillTimeout'))} before force killing"
        return "Sent interrupt"
    if etype == "Terminated":
        parts = [f"Exit Code: {e('ExitCode') or 0}"]
        if e("Signal"):
            parts.append(f"Signal: {e('Signal')}")
        if e("Message"):
            parts.append(f"Exit Message: {go_quote(e('Message'))}")
        return ", ".join(parts)
    if etype == "Restarting":
        text = f"Task restarting in {go_duration(e('StartDelay'))}"
        reason = e("RestartReason") or ""
        if reason and reason != "Restart within policy":
            return f"{reason} - {text}"
        return text
    if etype == "Sibling Task Failed":
        sib = e("FailedSibling")
        return f"Task's sibling {go_quote(sib)} failed" if sib else "Task's sibling failed"
    if etype == "Signaling":
        sig, reason = e("TaskSignal") or "", e("TaskSignalReason") or ""
        if not sig and not reason:
            return "Task being sent a signal"
        if not sig:
            return reason
        return f"Task being sent signal {sig}" + (f": {reason}" if reason else "")
    return e("Message") or ""


# --------------------------------------------------------------------------- #
# alloc stop / restart / signal
# --------------------------------------------------------------------------- #


def stop(meta: Meta, args: list[str]) -> int:
    """``nomad alloc stop [-detach] <alloc>``."""
    opts, args = meta.parse(args, {"detach": "bool", "verbose": "bool",
                                   "no-shutdown-delay": "bool"})
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <alloc-id>")
    alloc = lookup_alloc(meta, args[0], opts["verbose"],
                         "Alloc ID must contain at least two characters.")
    assert alloc is not None
    try:
        resp, _ = meta.client().post(f"/v1/allocation/{alloc['ID']}/stop", None,
                                     {"no_shutdown_delay": opts["no-shutdown-delay"]},
                                     namespace=alloc.get("Namespace") or None)
    except APIError as exc:
        raise meta.fail(f"Error stopping allocation: {exc}") from None
    eval_id = (resp or {}).get("EvalID", "")
    if opts["detach"]:
        meta.ui.output(eval_id)
        return 0
    from pynomad.cli.monitor import Monitor

    return Monitor(meta.ui, meta.client(), meta.id_length(opts["verbose"])).monitor(eval_id)


def _task_arg(meta: Meta, alloc: dict[str, Any], task: str) -> None:
    if task and task not in {t for t in AllocView(meta, alloc, False).tasks}:
        raise meta.fail(f"Could not find task named: {task}, found:\n"
                        + "\n".join(f"* {t}" for t in AllocView(meta, alloc, False).tasks))


def restart(meta: Meta, args: list[str]) -> int:
    """``nomad alloc restart [-all-tasks] [-task t] <alloc> [task]``."""
    opts, args = meta.parse(args, {"all-tasks": "bool", "verbose": "bool", "task": "str"})
    if not 1 <= len(args) <= 2:
        raise meta.usage_error("This command takes one or two arguments: <alloc-id> <task-name>")
    task = opts["task"] or (args[1] if len(args) == 2 else "")
    if task and opts["all-tasks"]:
        raise meta.fail("The -all-tasks option is not allowed when restarting a specific task.")
    alloc = lookup_alloc(meta, args[0], opts["verbose"],
                         "Alloc ID must contain at least two characters.")
    assert alloc is not None
    _task_arg(meta, alloc, task)
    body = {"TaskName": task, "AllTasks": opts["all-tasks"]}
    try:
        meta.client().post(f"/v1/client/allocation/{alloc['ID']}/restart", body,
                           namespace=alloc.get("Namespace") or None)
    except APIError as exc:
        raise meta.fail(f"Failed to restart allocation:\n\n{exc}") from None
    return 0


def signal(meta: Meta, args: list[str]) -> int:
    """``nomad alloc signal [-s SIG] [-task t] <alloc> [task]``."""
    opts, args = meta.parse(args, {"verbose": "bool", "s": "str", "task": "str"},
                            initial={"s": "SIGKILL"})
    if not 1 <= len(args) <= 2:
        raise meta.usage_error("This command takes up to two arguments: <alloc-id> <task>")
    task = opts["task"] or (args[1] if len(args) == 2 else "")
    alloc = lookup_alloc(meta, args[0], opts["verbose"],
                         "Alloc ID must contain at least two characters.")
    assert alloc is not None
    _task_arg(meta, alloc, task)
    body = {"Task": task, "Signal": opts["s"]}
    try:
        meta.client().post(f"/v1/client/allocation/{alloc['ID']}/signal", body,
                           namespace=alloc.get("Namespace") or None)
    except APIError as exc:
        raise meta.fail(f"Error signalling allocation: {exc}") from None
    return 0

