"""``nomad operator scheduler get-config|set-config`` (Nomad's
command/operator_scheduler_{get,set}_config.go)."""

from __future__ import annotations

from typing import Any

from pynomad.cli.api import APIError
from pynomad.cli.format import format_kv, go_bool, to_json
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
