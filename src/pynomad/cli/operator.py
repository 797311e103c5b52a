"""``nomad operator scheduler get-config|set-config``, ``nomad operator snapshot
save|restore|inspect`` and ``nomad operator raft list-peers`` (Nomad's
command/operator_scheduler_*.go, operator_snapshot_*.go, operator_raft_list.go)."""

from __future__ import annotations

from typing import Any

from pynomad.cli.api import APIError
from pynomad.cli.format import columnize, format_kv, go_bool, to_json
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

HELP = {
    "operator scheduler get-config": """Usage: nomad operator scheduler get-config [options]

  Displays the current scheduler configuration.

  If ACLs are enabled, this command requires a token with the 'operator:read'
  capability.

""" + GENERAL_OPTIONS + """
Scheduler Get Config Options:

  -json
    Output the scheduler config in its JSON format.

  -t
    Format and display the scheduler config using a Go template.
""",
    "operator scheduler set-config": """Usage: nomad operator scheduler set-config [options]

  Modifies the current scheduler configuration.

  If ACLs are enabled, this command requires a token with the 'operator:write'
  capability.

""" + GENERAL_OPTIONS + """
Scheduler Set Config Options:

  -check-index
    If set, the scheduler config is only updated if the passed modify index
    matches the current server side version. If a non-zero value is passed, it
    ensures that the scheduler config is being updated from a known state.

  -scheduler-algorithm=["binpack"|"spread"]
    Specifies whether scheduler binpacks or spreads allocations on available
    nodes.

  -memory-oversubscription=[true|false]
    When true, tasks may exceed their reserved memory limit, if the client has
    excess memory capacity. Tasks must specify memory_max to take advantage of
    memory oversubscription.

  -reject-job-registration=[true|false]
    When true, the server will return permission denied errors for job registration,
    job dispatch, and job scale APIs, unless the ACL token for the request is a
    management token. If ACLs are disabled, no user will be able to register jobs.
    This allows operators to shed load from automated processes during incident
    response.

  -pause-eval-broker=[true|false]
    When set to true, the eval broker which usually runs on the leader will be
    disabled. This will prevent the scheduler workers from receiving new work.

  -preempt-batch-scheduler=[true|false]
    Specifies whether preemption for batch jobs is enabled. Note that if this
    is set to true, then batch jobs can preempt any other jobs.

  -preempt-service-scheduler=[true|false]
    Specifies whether preemption for service jobs is enabled. Note that if this
    is set to true, then service jobs can preempt any other jobs.

  -preempt-sysbatch-scheduler=[true|false]
    Specifies whether preemption for system batch jobs is enabled. Note that if
    this is set to true, then system batch jobs can preempt any other jobs.

  -preempt-system-scheduler=[true|false]
    Specifies whether preemption for system jobs is enabled. Note that if this
    is set to true, then system jobs can preempt any other jobs.
""",
    "operator snapshot save": """Usage: nomad operator snapshot save [options] <file>

  Retrieves an atomic, point-in-time snapshot of the state of the Nomad servers
  which includes jobs, nodes, allocations, periodic jobs, and ACLs.

  If ACLs are enabled, a management token must be supplied in order to perform
  snapshot operations.

  To create a snapshot from the leader server and save it to "backup.snap":

    $ nomad operator snapshot save backup.snap

""" + GENERAL_OPTIONS + """
Snapshot Save Options:

  -stale=[true|false]
    The -stale argument defaults to "false" which means the leader provides the
    result. If the cluster is in an outage state without a leader, you may need
    to set -stale to "true" to get the configuration from a non-leader server.
""",
    "operator snapshot restore": """Usage: nomad operator snapshot restore [options] <file>

  Restores an atomic, point-in-time snapshot of the state of the Nomad servers
  which includes jobs, nodes, allocations, periodic jobs, and ACLs.

  Restores involve a potentially dangerous low-level Raft operation that is not
  designed to handle server failures during a restore. This command is primarily
  intended to be used when recovering from a disaster, restoring into a fresh
  cluster of Nomad servers.

  If ACLs are enabled, a management token must be supplied in order to perform
  snapshot operations.

  To restore a snapshot from the file "backup.snap":

    $ nomad operator snapshot restore backup.snap

""" + GENERAL_OPTIONS,
    "operator snapshot inspect": """Usage: nomad operator snapshot inspect [options] <file>

  Displays information about a snapshot file on disk.

  To inspect the file "backup.snap":

    $ nomad operator snapshot inspect backup.snap
""",
    "operator raft list-peers": """Usage: nomad operator raft list-peers [options]

  Displays the current Raft peer configuration.

  If ACLs are enabled, this command requires a management token.

""" + GENERAL_OPTIONS + """
List Peers Options:

  -stale=[true|false]
    The -stale argument defaults to "false" which means the leader provides the
    result. If the cluster is in an outage state without a leader, you may need
    to set -stale to "true" to get the configuration from a non-leader server.
""",
}

_BOOL_FLAGS = {
    "memory-oversubscription": (None, "MemoryOversubscriptionEnabled"),
    "reject-job-registration": (None, "RejectJobRegistration"),
    "pause-eval-broker": (None, "PauseEvalBroker"),
    "preempt-batch-scheduler": ("PreemptionConfig", "BatchSchedulerEnabled"),
    "preempt-service-scheduler": ("PreemptionConfig", "ServiceSchedulerEnabled"),
    "preempt-sysbatch-scheduler": ("PreemptionConfig", "SysBatchSchedulerEnabled"),
    "preempt-system-scheduler": ("PreemptionConfig", "SystemSchedulerEnabled"),
}


def get_config(meta: Meta, args: list[str]) -> int:
    """``nomad operator scheduler get-config [-json] [-t <tmpl>]``."""
    opts, args = meta.parse(args, {"json": "bool", "t": "str"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        resp, _ = meta.client().get("/v1/operator/scheduler/configuration")
    except APIError as exc:
        raise meta.fail(f"Error querying scheduler configuration: {exc}") from None
    cfg: dict[str, Any] = (resp or {}).get("SchedulerConfig") or {}
    if opts["json"] or opts["t"]:
        if opts["t"]:
            raise meta.fail("Error formatting the data: Go templates (-t) are not supported")
        meta.ui.output(to_json(cfg))
        return 0
    meta.ui.output(format_config(cfg))
    return 0


def format_config(cfg: dict[str, Any]) -> str:
    pre = cfg.get("PreemptionConfig") or {}
    return format_kv([
        f"Scheduler Algorithm|{cfg.get('SchedulerAlgorithm', '')}",
        f"Memory Oversubscription|{go_bool(cfg.get('MemoryOversubscriptionEnabled'))}",
        f"Reject Job Registration|{go_bool(cfg.get('RejectJobRegistration'))}",
        f"Pause Eval Broker|{go_bool(cfg.get('PauseEvalBroker'))}",
        f"Preemption System Scheduler|{go_bool(pre.get('SystemSchedulerEnabled'))}",
        f"Preemption Service Scheduler|{go_bool(pre.get('ServiceSchedulerEnabled'))}",
        f"Preemption Batch Scheduler|{go_bool(pre.get('BatchSchedulerEnabled'))}",
        f"Preemption SysBatch Scheduler|{go_bool(pre.get('SysBatchSchedulerEnabled'))}",
        f"Modify Index|{cfg.get('ModifyIndex', 0)}",
    ])


def set_config(meta: Meta, args: list[str]) -> int:
    """``nomad operator scheduler set-config [options]``: read, merge flags, check-and-set."""
    spec = {"check-index": "str", "scheduler-algorithm": "str"}
    spec.update({name: "bool" for name in _BOOL_FLAGS})
    opts, args = meta.parse(args, spec, initial={name: None for name in _BOOL_FLAGS})
    if args:
        raise meta.usage_error("This command takes no arguments")
    algorithm = opts["scheduler-algorithm"]
    if algorithm and algorithm not in ("binpack", "spread"):
        raise meta.fail(f"Error: scheduler algorithm must be one of \"binpack\" or \"spread\", "
                        f"got {algorithm!r}")
    client = meta.client()
    try:
        resp, _ = client.get("/v1/operator/scheduler/configuration")
    except APIError as exc:
        raise meta.fail(f"Error querying for scheduler configuration: {exc}") from None
    cfg: dict[str, Any] = dict((resp or {}).get("SchedulerConfig") or {})
    if opts["check-index"]:
        try:
            cfg["ModifyIndex"] = int(opts["check-index"])
            if cfg["ModifyIndex"] < 0:
                raise ValueError
        except ValueError:
            raise meta.fail(f"Error parsing check-index value {opts['check-index']!r}: "
                            "invalid syntax") from None
    if algorithm:
        cfg["SchedulerAlgorithm"] = algorithm
    for name, (section, key) in _BOOL_FLAGS.items():
        if opts[name] is None:
            continue
        target = cfg.setdefault(section, {}) if section else cfg
        target[key] = opts[name]
    try:
        result, _ = client.put("/v1/operator/scheduler/configuration", cfg,
                               params={"cas": cfg.get("ModifyIndex", 0)})
    except APIError as exc:
        raise meta.fail(f"Error setting scheduler configuration: {exc}") from None
    if (result or {}).get("Updated"):
        meta.ui.output("Scheduler configuration updated!")
        return 0
    meta.ui.output("Scheduler configuration could not be atomically updated, please try again")
    return 1


# -- snapshots ------------------------------------------------------------------------------

def _one_file(meta: Meta, args: list[str]) -> str:
    if len(args) != 1:
        raise meta.usage_error("This command takes one argument: <file>")
    return args[0]


def snapshot_save(meta: Meta, args: list[str]) -> int:
    """``nomad operator snapshot save [-stale] <file>``: download, verify, then write."""
    import os
    import time

    opts, args = meta.parse(args, {"stale": "bool"})
    if len(args) > 1:
        raise meta.usage_error("This command takes one argument: <file>")
    path = args[0] if args else time.strftime("backup-%Y%m%d%H%M.snap")
    client = meta.client()
    try:
        resp = client.open("GET", "/v1/operator/snapshot",
                           params={"stale": True} if opts["stale"] else None, stream=True)
        data = resp.read()
    except APIError as exc:
        raise meta.fail(f"Error getting snapshot: {exc}") from None
    except OSError as exc:
        raise meta.fail(f"Error getting snapshot: {exc}") from None
    try:
        _inspect_bytes(data)
    except ValueError as exc:
        raise meta.fail(f"Error verifying snapshot file: {exc}") from None
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise meta.fail(f"Error writing snapshot file {path!r}: {exc.strerror or exc}") from None
    meta.ui.output(f"State file written to {path}")
    return 0


def snapshot_restore(meta: Meta, args: list[str]) -> int:
    """``nomad operator snapshot restore <file>``: upload the archive as the raw body."""
    _, rest = meta.parse(args, {})
    path = _one_file(meta, rest)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise meta.fail(f"Error opening snapshot file: {exc.strerror or exc}: {path}") from None
    try:
        _put_raw(meta.client(), "/v1/operator/snapshot", data)
    except APIError as exc:
        raise meta.fail(f"Error restoring snapshot: {exc}") from None
    meta.ui.output("Snapshot Restored")
    return 0


def snapshot_inspect(meta: Meta, args: list[str]) -> int:
    """``nomad operator snapshot inspect <file>``: read and verify locally, print the meta."""
    _, rest = meta.parse(args, {}, client=False)
    path = _one_file(meta, rest)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise meta.fail(f"Error opening snapshot file: {exc.strerror or exc}: {path}") from None
    try:
        info, counts = _inspect_bytes(data)
    except ValueError as exc:
        raise meta.fail(f"Error verifying snapshot: {exc}") from None
    out = columnize([f"ID|{info.get('ID', '')}", f"Size|{info.get('Size', 0)}",
                     f"Index|{info.get('Index', 0)}", f"Term|{info.get('Term', 0)}",
                     f"Version|{info.get('Version', 0)}"])
    if counts:
        out += "\n\n" + columnize(["Type|Count"] + [f"{k}|{v}" for k, v in counts.items()])
    meta.ui.output(out)
    return 0


def _inspect_bytes(data: bytes) -> tuple[dict, dict[str, int]]:
    """Verify an archive; (meta, per-table counts). ValueError with a reason if unusable."""
    import msgspec

    from pynomad.state.snapshot import table_counts, unpack_archive

    info, state_bin = unpack_archive(data)
    try:
        counts = table_counts(state_bin)
    except (msgspec.DecodeError, ValueError, TypeError):
        counts = {}
    return info, counts


def _put_raw(client, path: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    """PUT ``data`` as the raw body (the API client only sends JSON bodies)."""
    import http.client

    headers = {"User-Agent": "pynomad-cli", "Accept-Encoding": "identity",
               "Content-Type": "application/octet-stream"}
    headers.update(client.config.headers)
    if client.config.token:
        headers["X-Nomad-Token"] = client.config.token
    resp = client._send("PUT", client._target(path, None, None), data, headers, True)
    try:
        body = resp.read()
    except (OSError, http.client.HTTPException) as exc:
        raise APIError(f"Put {path}: {exc}") from None
    if resp.status // 100 != 2:
        text = body.decode("utf-8", "replace").rstrip("\n")
        raise APIError(f"Unexpected response code: {resp.status} ({text})", resp.status, text)


# -- raft -----------------------------------------------------------------------------------

def raft_list_peers(meta: Meta, args: list[str]) -> int:
    """``nomad operator raft list-peers [-stale]``."""
    opts, args = meta.parse(args, {"stale": "bool"})
    if args:
        raise meta.usage_error("This command takes no arguments")
    try:
        resp, _ = meta.client().get("/v1/operator/raft/configuration",
                                    params={"stale": True} if opts["stale"] else None)
    except APIError as exc:
        raise meta.fail(f"Failed to retrieve raft configuration: {exc}") from None
    rows = ["Node|ID|Address|State|Voter|RaftProtocol"]
    for srv in (resp or {}).get("Servers") or []:
        state = "leader" if srv.get("Leader") else "follower"
        rows.append(f"{srv.get('Node', '')}|{srv.get('ID', '')}|{srv.get('Address', '')}|"
                    f"{state}|{go_bool(srv.get('Voter'))}|{srv.get('RaftProtocol', '')}")
    meta.ui.output(columnize(rows))
    return 0
