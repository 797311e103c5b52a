"""``nomad node`` commands: status (list and detail), eligibility and drain."""

from __future__ import annotations

import math
import time
from typing import Any

from pynomad.cli import views
from pynomad.cli.api import APIError
from pynomad.cli.format import (format_kv, format_list, format_time, go_bool, go_duration,
                                go_quote, ibytes, limit, now_str, parse_time_ns, to_json)
from pynomad.cli.meta import Meta, sanitize_uuid_prefix

_MB = 1024 * 1024

HELP = {
    "node status": """Usage: nomad node status [options] <node>
Alias: nomad node-status

  Display status information about a given node. The list of nodes returned
  includes only nodes which jobs may be scheduled to, and includes status and
  other high-level information. If a node ID is passed, information for that
  specific node will be displayed, including resource usage statistics.

Node Status Options:

  -self     Query the status of the local node.
  -stats    Display detailed resource usage statistics.
  -allocs   Display a count of running allocations for each node.
  -short    Display short output. Used only when a single node is being queried.
  -os       Display operating system name for each node.
  -quiet    Display only node IDs.
  -verbose  Display full information.
  -json     Output the node in its JSON format.
""",
    "node eligibility": """Usage: nomad node eligibility [options] <node>

  Toggles the nodes scheduling eligibility. When a node is marked as
  ineligible, no new allocations will be placed on it but existing
  allocations will remain.

Node Eligibility Options:

  -enable   Enable scheduling eligibility.
  -disable  Disable scheduling eligibility.
  -self     Set the eligibility of the local node.
""",
    "node drain": """Usage: nomad node drain [options] <node>

  Toggles node draining on a specified node. It is required that either
  -enable or -disable is specified, but not both.

Node Drain Options:

  -enable            Enable draining for the specified node.
  -disable           Disable draining for the specified node.
  -deadline <dur>    Set the deadline by which all allocations must be moved
                     off the node (default 1h).
  -no-deadline       No deadline is imposed on the drain.
  -force             Force remove allocations off the node immediately.
  -ignore-system     Ignore system allocations when draining.
  -keep-ineligible   Keep the node ineligible when the drain is disabled.
  -detach            Return immediately instead of monitoring the drain.
  -self              Drain the local node.
  -yes               Automatic yes to prompts.
  -m <message>       Message for the drain update operation.
""",
}


def _local_node_id(meta: Meta) -> str:
    try:
        info, _ = meta.client().get("/v1/agent/self")
    except APIError as exc:
        raise meta.fail(f"Error querying agent info: {exc}") from None
    client_stats = ((info or {}).get("stats") or {}).get("client")
    if client_stats is None:
        raise meta.fail("Nomad not running in client mode")
    if not client_stats.get("node_id"):
        raise meta.fail("Failed to determine node ID")
    return client_stats["node_id"]


def stub_list(nodes: list[dict[str, Any]], verbose: bool) -> str:
    """Nomad's formatNodeStubList (shown for ambiguous prefixes)."""
    length = meta_len(verbose)
    rows = ["ID|DC|Name|Class|Drain|Eligibility|Status"]
    for n in nodes:
        rows.append("|".join([limit(n.get("ID"), length), n.get("Datacenter", ""),
                              n.get("Name", ""), n.get("NodeClass", ""), go_bool(n.get("Drain")),
                              n.get("SchedulingEligibility", ""), n.get("Status", "")]))
    return format_list(rows)


def meta_len(verbose: bool) -> int:
    return 36 if verbose else 8


def lookup_node(meta: Meta, node_id: str, verbose: bool, what: str) -> dict[str, Any]:
    """Resolve a node ID prefix to the node's list stub."""
    if len(node_id) == 1:
        raise meta.fail("Identifier must contain at least two characters.")
    node_id = sanitize_uuid_prefix(node_id)
    try:
        nodes, _ = meta.client().get("/v1/nodes", {"prefix": node_id})
    except APIError as exc:
        raise meta.fail(f"{what}: {exc}") from None
    nodes = nodes or []
    if not nodes:
        raise meta.fail(f"No node(s) with prefix {'or id ' if 'info' not in what else ''}"
                        f"{go_quote(node_id)} found")
    if len(nodes) > 1:
        raise meta.fail(f"Prefix matched multiple nodes\n\n{stub_list(nodes, verbose)}")
    return nodes[0]


# --------------------------------------------------------------------------- #
# node status
# --------------------------------------------------------------------------- #


def status(meta: Meta, args: list[str]) -> int:
    """``nomad node status [options] [node]``."""
    opts, args = meta.parse(args, {"short": "bool", "os": "bool", "quiet": "bool",
                                   "verbose": "bool", "allocs": "bool", "self": "bool",
                                   "stats": "bool", "json": "bool", "t": "str", "filter": "str",
                                   "per-page": "int", "page-token": "str"})
    if len(args) > 1:
        raise meta.usage_error("This command takes either one or no arguments")
    verbose = opts["verbose"]
    if not args and not opts["self"]:
        return _list(meta, opts)
    node_id = args[0] if args else _local_node_id(meta)
    stub = lookup_node(meta, node_id, verbose, "Error querying node info")
    try:
        node, _ = meta.client().get(f"/v1/node/{stub['ID']}")
    except APIError as exc:
        raise meta.fail(f"Error querying node info: {exc}") from None
    if opts["json"]:
        meta.ui.output(to_json(node))
        return 0
    return NodeView(meta, node, opts).render()


def _list(meta: Meta, opts: dict[str, Any]) -> int:
    if opts["quiet"] and (opts["verbose"] or opts["json"]):
        raise meta.fail("-quiet cannot be used with -verbose or -json")
    params = {"filter": opts["filter"], "per_page": opts["per-page"] or None,
              "next_token": opts["page-token"], "os": opts["os"]}
    client = meta.client()
    try:
        nodes, qm = client.get("/v1/nodes", params)
    except APIError as exc:
        raise meta.fail(f"Error querying node status: {exc}") from None
    nodes = nodes or []
    if opts["json"]:
        meta.ui.output(to_json(nodes))
        return 0
    if not nodes:
        meta.ui.output("No nodes registered")
        return 0
    if opts["quiet"]:
        meta.ui.output(format_list([n["ID"] for n in nodes]))
        return 0
    length = meta.id_length(opts["verbose"])
    header = "ID|Node Pool|DC|Name|Class|"
    header += "OS|" if opts["os"] else ""
    header += "Address|Version|" if opts["verbose"] else ""
    header += "Drain|Eligibility|Status" + ("|Running Allocs" if opts["allocs"] else "")
    rows = [header]
    for n in nodes:
        cells = [limit(n.get("ID"), length), n.get("NodePool", ""), n.get("Datacenter", ""),
                 n.get("Name", ""), n.get("NodeClass", "")]
        if opts["os"]:
            cells.append((n.get("Attributes") or {}).get("os.name", ""))
        if opts["verbose"]:
            cells += [n.get("Address", ""), n.get("Version", "")]
        cells += [go_bool(n.get("Drain")), n.get("SchedulingEligibility", ""), n.get("Status", "")]
        if opts["allocs"]:
            cells.append(str(len(_running_allocs(meta, n["ID"]))))
        rows.append("|".join(cells))
    meta.ui.output(format_list(rows))
    if qm.next_token:
        import sys

        meta.ui.output("\nResults have been paginated. To get the next page run:\n\n"
                       f"{_args_without_page_token(sys.argv)} -page-token {qm.next_token}")
    return 0


def _args_without_page_token(argv: list[str]) -> str:
    out, i = [], 0
    while i < len(argv):
        if argv[i].startswith("-page-token"):
            i += 1 if "=" in argv[i] else 2
            continue
        out.append(argv[i])
        i += 1
    return " ".join(out)


def _running_allocs(meta: Meta, node_id: str) -> list[dict[str, Any]]:
    try:
        allocs, _ = meta.client().get(f"/v1/node/{node_id}/allocations")
    except APIError as exc:
        raise meta.fail(f"Error querying node allocations: {exc}") from None
    return [a for a in allocs or [] if a.get("ClientStatus") == "running"]


def _total_resources(node: dict[str, Any]) -> tuple[int, int, int]:
    """Allocatable CPU (MHz), memory (MB) and disk (MB): resources minus reserved."""
    res, rsv = node.get("Resources"), node.get("Reserved") or {}
    if res:
        return (int(res.get("CPU") or 0) - int(rsv.get("CPU") or 0),
                int(res.get("MemoryMB") or 0) - int(rsv.get("MemoryMB") or 0),
                int(res.get("DiskMB") or 0) - int(rsv.get("DiskMB") or 0))
    nr, rr = node.get("NodeResources") or {}, node.get("ReservedResources") or {}

    def pick(d: dict[str, Any], outer: str, inner: str) -> int:
        return int(((d.get(outer) or {}).get(inner)) or 0)
    return (pick(nr, "Cpu", "CpuShares") - pick(rr, "Cpu", "CpuShares"),
            pick(nr, "Memory", "MemoryMB") - pick(rr, "Memory", "MemoryMB"),
            pick(nr, "Disk", "DiskMB") - pick(rr, "Disk", "DiskMB"))


def _alloc_resources(alloc: dict[str, Any]) -> tuple[int, int, int]:
    res = alloc.get("Resources")
    if res:
        return int(res.get("CPU") or 0), int(res.get("MemoryMB") or 0), int(res.get("DiskMB") or 0)
    ar = alloc.get("AllocatedResources") or {}
    cpu = sum(int(((t.get("Cpu") or {}).get("CpuShares")) or 0)
              for t in (ar.get("Tasks") or {}).values())
    mem = sum(int(((t.get("Memory") or {}).get("MemoryMB")) or 0)
              for t in (ar.get("Tasks") or {}).values())
    return cpu, mem, int(((ar.get("Shared") or {}).get("DiskMB")) or 0)


class NodeView:
    """Renders ``node status <node>``."""

    def __init__(self, meta: Meta, node: dict[str, Any], opts: dict[str, Any]) -> None:
        self.meta, self.node, self.opts = meta, node, opts
        self.ui = meta.ui
        self.verbose = opts["verbose"]
        self.length = meta.id_length(self.verbose)

    def header(self, title: str) -> None:
        self.ui.output(self.ui.colorize(f"\n[bold]{title}[reset]"))

    def render(self) -> int:
        node = self.node
        try:
            allocs, _ = self.meta.client().get(f"/v1/node/{node['ID']}/allocations")
        except APIError as exc:
            raise self.meta.fail(f"Error querying node allocations: {exc}") from None
        allocs = allocs or []
        running = [a for a in allocs if a.get("ClientStatus") == "running"]
        basic = [f"ID|{node.get('ID', '')}", f"Name|{node.get('Name', '')}",
                 f"Node Pool|{node.get('NodePool', '')}", f"Class|{node.get('NodeClass', '')}",
                 f"DC|{node.get('Datacenter', '')}", f"Drain|{format_drain(node)}",
                 f"Eligibility|{node.get('SchedulingEligibility', '')}",
                 f"Status|{node.get('Status', '')}",
                 f"CSI Controllers|{','.join(sorted(node.get('CSIControllerPlugins') or {}))}",
                 f"CSI Drivers|{','.join(sorted(node.get('CSINodePlugins') or {}))}"]
        if self.opts["short"]:
            basic += self._volume_lines() + [f"Drivers|{','.join(node_drivers(node))}"]
            self.ui.output(format_kv(basic))
            self.allocations(allocs)
            return 0
        host = self._host_stats()
        if host is not None:
            basic.append(f"Uptime|{go_duration(int(host.get('Uptime') or 0) * 1_000_000_000)}")
        if not self.verbose:
            basic += self._volume_lines() + [f"Driver Status| {self._driver_summary()}"]
        self.ui.output(format_kv(basic))
        if self.verbose:
            self.host_volumes()
            self.drivers()
        self.events()
        self.resources(running, host)
        self.allocations(allocs)
        return 0

    def _volume_lines(self) -> list[str]:
        node = self.node
        return [f"Host Volumes|{','.join(sorted(node.get('HostVolumes') or {}))}",
                f"Host Networks|{','.join(sorted(node.get('HostNetworks') or {}))}",
                "CSI Volumes|"]

    def _host_stats(self) -> dict[str, Any] | None:
        try:
            stats, _ = self.meta.client().get("/v1/client/stats", {"node_id": self.node["ID"]})
            return stats
        except APIError as exc:
            self.ui.output("")
            self.ui.error(f"error fetching node stats: {exc}")
            return None

    def _driver_summary(self) -> str:
        names = []
        for name, info in (self.node.get("Drivers") or {}).items():
            if not info.get("Detected"):
                continue
            names.append(name if info.get("Healthy") else f"{name} (unhealthy)")
        return ",".join(sorted(names)).strip(", ")

    def host_volumes(self) -> None:
        self.header("Host Volumes")
        volumes = self.node.get("HostVolumes") or {}
        rows = ["Name|ReadOnly|Source"] + [
            f"{name}|{go_bool(volumes[name].get('ReadOnly'))}|{volumes[name].get('Path', '')}"
            for name in sorted(volumes)]
        self.ui.output(format_list(rows))

    def drivers(self) -> None:
        self.header("Drivers")
        rows = ["Driver|Detected|Healthy|Message|Time"]
        for name in sorted(self.node.get("Drivers") or {}):
            info = self.node["Drivers"][name]
            rows.append("|".join([name, go_bool(info.get("Detected")), go_bool(info.get("Healthy")),
                                  info.get("HealthDescription", ""),
                                  format_time(info.get("UpdateTime"))]))
        self.ui.output(format_list(rows))

    def events(self) -> None:
        self.header("Node Events")
        rows = ["Time|Subsystem|Message|Details" if self.verbose else "Time|Subsystem|Message"]
        for ev in reversed(self.node.get("Events") or []):
            details = ev.get("Details") or {}
            subsystem = f"Driver: {details['driver']}" if details.get("driver") else ev.get(
                "Subsystem", "")
            cells = [format_time(ev.get("Timestamp")), subsystem, ev.get("Message", "")]
            if self.verbose:
                cells.append(", ".join(f"{k}: {v}" for k, v in details.items()))
            rows.append("|".join(cells))
        self.ui.output(format_list(rows))

    def resources(self, running: list[dict[str, Any]], host: dict[str, Any] | None) -> None:
        cpu_t, mem_t, disk_t = _total_resources(self.node)
        used = [_alloc_resources(a) for a in running]
        cpu, mem, disk = (sum(u[i] for u in used) for i in range(3))
        self.header("Allocated Resources")
        self.ui.output(format_list([
            "CPU|Memory|Disk",
            f"{cpu}/{cpu_t} MHz|{ibytes(mem * _MB)}/{ibytes(mem_t * _MB)}|"
            f"{ibytes(disk * _MB)}/{ibytes(disk_t * _MB)}"]))
        actual = self._actual(running, cpu_t, mem_t)
        if actual:
            self.header("Allocation Resource Utilization")
            self.ui.output(format_list(actual))
        if host is None:
            self.ui.output("")
            self.ui.error("error fetching node stats: actual resource usage not present")
            return
        self.header("Host Resource Utilization")
        self.ui.output(format_list(self._host_rows(host)))

    def _actual(self, running: list[dict[str, Any]], cpu_t: int, mem_t: int) -> list[str]:
        cpu, mem = 0.0, 0
        for a in running:
            try:
                stats, _ = self.meta.client().get(f"/v1/client/allocation/{a['ID']}/stats")
            except APIError:
                return []
            ru = (stats or {}).get("ResourceUsage") or {}
            cpu += float((ru.get("CpuStats") or {}).get("TotalTicks") or 0)
            ms = ru.get("MemoryStats") or {}
            mem += int(ms.get("Usage") or 0) or int(ms.get("RSS") or 0)
        return ["CPU|Memory", f"{math.floor(cpu)}/{cpu_t} MHz|{ibytes(mem)}/{ibytes(mem_t * _MB)}"]

    def _host_rows(self, host: dict[str, Any]) -> list[str]:
        device = (self.node.get("Attributes") or {}).get("unique.storage.volume", "")
        disk = next((d for d in host.get("DiskStats") or [] if d.get("Device") == device), None)
        cpu_total = _total_resources(self.node)[0] + int(
            ((self.node.get("Reserved") or {}).get("CPU")) or 0)
        memory = host.get("Memory") or {}
        row = (f"{math.floor(float(host.get('CPUTicksConsumed') or 0))}/{cpu_total} MHz|"
               f"{ibytes(memory.get('Used'))}/{ibytes(memory.get('Total'))}|")
        row += f"{ibytes(disk.get('Used'))}/{ibytes(disk.get('Size'))}" if disk else f"({device})"
        return ["CPU|Memory|Disk", row]

    def allocations(self, allocs: list[dict[str, Any]]) -> None:
        self.header("Allocations")
        self.ui.output(views.alloc_list(allocs, self.verbose, self.length))
        if self.verbose:
            attrs = self.node.get("Attributes") or {}
            self.header("Attributes")
            self.ui.output(format_kv([f"{k}|{attrs[k]}" for k in sorted(attrs) if k]))
            meta = self.node.get("Meta") or {}
            self.header("Meta")
            self.ui.output(format_kv([f"{k}|{meta[k]}" for k in sorted(meta) if k]))


def node_drivers(node: dict[str, Any]) -> list[str]:
    out = []
    for key, value in (node.get("Attributes") or {}).items():
        parts = key.split(".")
        if len(parts) == 2 and parts[0] == "driver" and value == "1":
            out.append(parts[1])
    return sorted(out)


def format_drain(node: dict[str, Any]) -> str:
    strategy = node.get("DrainStrategy")
    if not strategy:
        return go_bool(node.get("Drain"))
    text = "true"
    deadline = int(((strategy.get("DrainSpec") or {}).get("Deadline")) or strategy.get("Deadline") or 0)
    force = parse_time_ns(strategy.get("ForceDeadline"))
    if deadline < 0:
        text += "; force drain"
    elif not force:
        text += "; no deadline"
    else:
        text += f"; {format_time(strategy.get('ForceDeadline'))} deadline"
    if strategy.get("IgnoreSystemJobs") or (strategy.get("DrainSpec") or {}).get("IgnoreSystemJobs"):
        text += "; ignoring system jobs"
    return text


# --------------------------------------------------------------------------- #
# node eligibility / drain
# --------------------------------------------------------------------------- #


def eligibility(meta: Meta, args: list[str]) -> int:
    """``nomad node eligibility -enable|-disable <node>``."""
    opts, args = meta.parse(args, {"enable": "bool", "disable": "bool", "self": "bool"})
    if opts["enable"] == opts["disable"]:
        raise meta.usage_error("Either the '-enable' or '-disable' flag must be set")
    if len(args) != 1 and not opts["self"]:
        raise meta.usage_error("Node ID must be specified if -self isn't being used")
    node_id = args[0] if args else _local_node_id(meta)
    stub = lookup_node(meta, node_id, False, "Error updating scheduling eligibility")
    body = {"NodeID": stub["ID"], "Eligibility": "eligible" if opts["enable"] else "ineligible"}
    try:
        meta.client().post(f"/v1/node/{stub['ID']}/eligibility", body)
    except APIError as exc:
        raise meta.fail(f"Error updating scheduling eligibility: {exc}") from None
    state = "eligible for scheduling" if opts["enable"] else "ineligible for scheduling"
    meta.ui.output(f"Node {go_quote(stub['ID'])} scheduling eligibility set: {state}")
    return 0


def drain(meta: Meta, args: list[str]) -> int:
    """``nomad node drain -enable|-disable [options] <node>``."""
    from pynomad.helper.goformat import parse_duration

    opts, args = meta.parse(args, {"enable": "bool", "disable": "bool", "deadline": "str",
                                   "detach": "bool", "force": "bool", "no-deadline": "bool",
                                   "ignore-system": "bool", "keep-ineligible": "bool",
                                   "self": "bool", "yes": "bool", "monitor": "bool", "m": "str",
                                   "meta": "list"})
    if opts["enable"] == opts["disable"]:
        raise meta.usage_error("Either the '-enable' or '-disable' flag must be set, "
                               "unless using '-monitor'")
    if len(args) != 1 and not opts["self"]:
        raise meta.usage_error("Node ID must be specified if -self isn't being used")
    if opts["deadline"] and (opts["force"] or opts["no-deadline"]):
        raise meta.usage_error("-deadline can't be combined with -force or -no-deadline")
    if opts["force"] and opts["no-deadline"]:
        raise meta.usage_error("-force and -no-deadline are mutually exclusive")
    deadline = 3600 * 1_000_000_000
    if opts["deadline"]:
        try:
            deadline = parse_duration(opts["deadline"])
        except ValueError as exc:
            raise meta.fail(f"Failed to parse deadline {go_quote(opts['deadline'])}: {exc}") from None
        if deadline <= 0:
            raise meta.fail("A positive drain duration must be given")
    elif opts["force"]:
        deadline = -1
    elif opts["no-deadline"]:
        deadline = 0
    node_id = args[0] if args else _local_node_id(meta)
    stub = lookup_node(meta, node_id, False, "Error toggling drain mode")
    spec = {"Deadline": deadline, "IgnoreSystemJobs": opts["ignore-system"]} if opts["enable"] else None
    drain_meta = dict(item.partition("=")[::2] for item in opts["meta"])
    if opts["m"]:
        drain_meta["message"] = opts["m"]
    body = {"NodeID": stub["ID"], "DrainSpec": spec,
            "MarkEligible": opts["disable"] and not opts["keep-ineligible"], "Meta": drain_meta}
    try:
        meta.client().post(f"/v1/node/{stub['ID']}/drain", body)
    except APIError as exc:
        raise meta.fail(f"Error updating drain specification: {exc}") from None
    if opts["disable"] or opts["detach"]:
        verb = "set" if opts["enable"] else "unset"
        meta.ui.output(f"Node {go_quote(stub['ID'])} drain strategy {verb}")
        return 0
    meta.ui.info(f"{now_str()}: Ctrl-C to stop monitoring: will not cancel the node drain")
    meta.ui.output(f"{now_str()}: Node {go_quote(stub['ID'])} drain strategy set")
    return _monitor_drain(meta, stub["ID"])


def _monitor_drain(meta: Meta, node_id: str) -> int:
    index = 0
    try:
        while True:
            params = {"index": index, "wait": "5s"} if index else None
            try:
                node, qm = meta.client().get(f"/v1/node/{node_id}", params)
            except APIError as exc:
                raise meta.fail(f"{now_str()}: Error monitoring node: {exc}") from None
            if not (node or {}).get("DrainStrategy"):
                meta.ui.output(f"{now_str()}: Drain complete for node {node_id}")
                break
            if qm.last_index <= index:
                time.sleep(0.5)
            index = max(index, qm.last_index)
    except KeyboardInterrupt:
        return 0
    remaining = [a for a in _node_allocs(meta, node_id) if a.get("ClientStatus") == "running"
                 and a.get("DesiredStatus") == "run"]
    if not remaining:
        meta.ui.output(f"{now_str()}: All allocations on node {go_quote(node_id)} have stopped")
    return 0


def _node_allocs(meta: Meta, node_id: str) -> list[dict[str, Any]]:
    try:
        allocs, _ = meta.client().get(f"/v1/node/{node_id}/allocations")
    except APIError:
        return []
    return allocs or []
