"""Task group validation: ``TaskGroup.Validate`` of Nomad v1.6.5 and the per-group
checks ``Job.Validate`` makes (names, counts, disconnect settings)."""

from __future__ import annotations

import re
from typing import Any

from .defaults import (JOB_TYPE_BATCH, JOB_TYPE_SERVICE, JOB_TYPE_SYSTEM,
                       default_migrate_strategy, default_update_strategy)
from .job import Job, MigrateStrategy, TaskGroup, UpdateStrategy
from .resources import NetworkResource
from ..helper.goformat import quote as go_quote
from .validate_rules import (affinity_errors, constraint_errors, migrate_errors,
                             reschedule_errors, restart_errors, spread_errors, update_errors)
from .validate_util import multierror

MAX_PORT = 65535
_SERVICE_NAME = re.compile(r"^(?i:[a-z0-9]|[a-z0-9][a-z0-9\-]{0,61}[a-z0-9])$")
_ENV_VAR = re.compile(r"\$\{[^}]*\}")
_DNS_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_\-]{0,61}[A-Za-z0-9_])?$")


def group_header_errors(job: Job) -> list[str]:
    """The group checks made directly by ``Job.Validate``."""
    errs: list[str] = []
    seen: dict[str, int] = {}
    for i, tg in enumerate(job.TaskGroups or ()):
        if not tg.Name:
            errs.append(f"Job task group {i + 1} missing name")
        elif tg.Name in seen:
            errs.append(f"Job task group {i + 1} redefines '{tg.Name}' from group {seen[tg.Name] + 1}")
        else:
            seen[tg.Name] = i
        if tg.ShutdownDelay is not None and tg.ShutdownDelay < 0:
            errs.append("ShutdownDelay must be a positive value")
        stop = tg.StopAfterClientDisconnect
        if stop:
            if stop > 0 and job.Type not in (JOB_TYPE_BATCH, JOB_TYPE_SERVICE):
                errs.append("stop_after_client_disconnect can only be set in batch and service jobs")
            elif stop < 0:
                errs.append("stop_after_client_disconnect must be a positive value")
        if job.Type == JOB_TYPE_SYSTEM and (tg.Count or 0) > 1:
            errs.append(f"Job task group {tg.Name} has count {tg.Count}. Count cannot exceed 1 "
                        "with system scheduler")
    return errs


def group_errors(job: Job, tg: TaskGroup) -> list[str]:
    """``TaskGroup.Validate``: every problem of one (canonicalized) group."""
    from .validate_task import task_errors

    errs = _basic_errors(tg)
    errs += constraint_errors(tg.Constraints)
    errs += _placement_errors(job, tg)
    errs += _policy_errors(job, tg)
    errs += _task_name_errors(tg)
    errs += _volume_errors(tg)
    for label, check in (("network", network_errors), ("service", service_errors)):
        sub = check(tg)
        if sub:
            errs.append(f"Task group {label} validation failed: {multierror(sub)}")
    sub = scaling_errors(job, tg)
    if sub:
        errs.append(f"Task group scaling policy validation failed: {multierror(sub)}")
    for task in tg.Tasks or ():
        sub = task_errors(job.Type or "", tg, task)
        if sub:
            errs.append(f"Task {task.Name} validation failed: {multierror(sub)}")
    return errs


def _basic_errors(tg: TaskGroup) -> list[str]:
    errs: list[str] = []
    if not tg.Name:
        errs.append("Missing task group name")
    elif "\x00" in tg.Name:
        errs.append("Task group name contains null character")
    if (tg.Count or 0) < 0:
        errs.append("Task group count can't be negative")
    if not tg.Tasks:
        errs.append("Missing tasks for task group")
    if tg.MaxClientDisconnect is not None and tg.StopAfterClientDisconnect is not None:
        errs.append("Task group cannot be configured with both max_client_disconnect and "
                    "stop_after_client_disconnect")
    if tg.MaxClientDisconnect is not None and tg.MaxClientDisconnect < 0:
        errs.append("max_client_disconnect cannot be negative")
    return errs


def _placement_errors(job: Job, tg: TaskGroup) -> list[str]:
    if job.Type != JOB_TYPE_SYSTEM:
        return affinity_errors(tg.Affinities) + spread_errors(tg.Spreads)
    errs: list[str] = []
    if tg.Affinities is not None:
        errs.append("System jobs may not have an affinity block")
    if tg.Spreads is not None:
        errs.append("System jobs may not have a spread block")
    return errs


def _policy_errors(job: Job, tg: TaskGroup) -> list[str]:
    errs: list[str] = []
    if tg.RestartPolicy is None:
        errs.append(f"Task Group {tg.Name} should have a restart policy")
    else:
        _add_nested(errs, restart_errors(tg.RestartPolicy))
    if job.Type == JOB_TYPE_SYSTEM:
        if tg.ReschedulePolicy is not None:
            errs.append("System jobs should not have a reschedule policy")
    elif tg.ReschedulePolicy is not None:
        _add_nested(errs, reschedule_errors(tg.ReschedulePolicy))
    elif job.Type in (JOB_TYPE_SERVICE, JOB_TYPE_BATCH):
        errs.append(f"Task Group {tg.Name} should have a reschedule policy")
    disk = tg.EphemeralDisk
    if disk is None:
        errs.append(f"Task Group {tg.Name} should have an ephemeral disk object")
    elif (disk.SizeMB or 0) < 10:
        errs.append(f"minimum DiskMB value is 10; got {disk.SizeMB or 0}")
    if tg.Update is not None:
        if job.Type not in (JOB_TYPE_SERVICE, JOB_TYPE_SYSTEM):
            errs.append(f"Job type {go_quote(job.Type or '')} does not allow update block")
        _add_nested(errs, update_errors(_filled(default_update_strategy(), tg.Update)))
    if tg.Migrate is not None:
        if job.Type == JOB_TYPE_SERVICE:
            _add_nested(errs, migrate_errors(_filled(default_migrate_strategy(), tg.Migrate)))
        else:
            errs.append(f"Job type {go_quote(job.Type or '')} does not allow migrate block")
    return errs


def _filled(base: UpdateStrategy | MigrateStrategy, given: Any) -> Any:
    """``given`` with unset (None) fields taken from ``base``, as the API canonicalizes."""
    values = {f: getattr(given, f) for f in given.__struct_fields__ if getattr(given, f) is not None}
    return type(base)(**{**{f: getattr(base, f) for f in base.__struct_fields__}, **values})


def _add_nested(errs: list[str], sub: list[str]) -> None:
    if sub:
        errs.append(multierror(sub))


def _task_name_errors(tg: TaskGroup) -> list[str]:
    errs: list[str] = []
    seen: dict[str, int] = {}
    leaders = 0
    for i, task in enumerate(tg.Tasks or ()):
        if not task.Name:
            errs.append(f"Task {i + 1} missing name")
        elif task.Name in seen:
            errs.append(f"Task {i + 1} redefines '{task.Name}' from task {seen[task.Name] + 1}")
        else:
            seen[task.Name] = i
        leaders += bool(task.Leader)
    if leaders > 1:
        errs.append("Only one task may be marked as leader")
    return errs


def _volume_errors(tg: TaskGroup) -> list[str]:
    errs: list[str] = []
    for name, req in (tg.Volumes or {}).items():
        sub: list[str] = []
        if not isinstance(req, dict):
            continue
        vtype = req.get("Type") or ""
        if vtype not in ("host", "csi"):
            sub.append(f"volume has unrecognized type {vtype}")
        if not req.get("Source"):
            sub.append("volume has an empty source")
        if sub:
            errs.append(f"Task group volume validation for {name} failed: {multierror(sub)}")
    return errs


# --------------------------------------------------------------- networks


def _ports(net: NetworkResource) -> list:  # type: ignore[type-arg]
    return list(net.ReservedPorts or ()) + list(net.DynamicPorts or ())


def network_errors(tg: TaskGroup) -> list[str]:
    """``TaskGroup.validateNetworks``: unique labels, no static port reserved twice."""
    errs: list[str] = []
    labels: dict[str, str] = {}
    static: dict[str, dict[int, str]] = {}
    for net in tg.Networks or ():
        for port in _ports(net):
            if port.Label in labels:
                errs.append(f"Port label {port.Label} already in use by {labels[port.Label]}")
            else:
                labels[port.Label] = "taskgroup network"
            _static_port(errs, static, port, f"taskgroup network:{port.Label}")
            if port.To < -1:
                errs.append(f"Port {go_quote(port.Label)} cannot be mapped to negative value {port.To}")
            elif port.To > MAX_PORT:
                errs.append(f"Port {go_quote(port.Label)} cannot be mapped to a port ({port.To}) "
                            f"greater than {MAX_PORT}")
        if net.Hostname and "${" not in net.Hostname and not _is_domain_name(net.Hostname):
            errs.append("Hostname is not a valid DNS name")
    for task in tg.Tasks or ():
        for net in (task.Resources.Networks if task.Resources else None) or ():
            for port in _ports(net):
                if port.Label in labels:
                    errs.append(f"Port label {port.Label} already in use by {labels[port.Label]}")
                _static_port(errs, static, port, f"{task.Name}:{port.Label}")
    return errs


def _static_port(errs: list[str], static: dict[str, dict[int, str]], port: Any, owner: str) -> None:
    if port.Value == 0:
        return
    used = static.setdefault(port.HostNetwork or "default", {})
    if port.Value in used:
        errs.append(f"Static port {port.Value} already reserved by {used[port.Value]}")
    elif port.Value > MAX_PORT:
        errs.append(f"Port {port.Label} ({port.Value}) cannot be greater than {MAX_PORT}")
    else:
        used[port.Value] = owner


def _is_domain_name(name: str) -> bool:
    """miekg/dns ``IsDomainName`` (length and label limits)."""
    text = name[:-1] if name.endswith(".") else name
    if not text or len(text) > 253:
        return False
    return all(label and len(label) <= 63 for label in text.split("."))


# --------------------------------------------------------------- services


def service_name_error(name: str) -> str | None:
    """``Service.ValidateName`` after ``${...}`` interpolations are stripped."""
    if _SERVICE_NAME.match(_ENV_VAR.sub("ENV-VAR", name)):
        return None
    return ("Service name must be valid per RFC 1123 and can contain only alphanumeric "
            f"characters or dashes and must be no longer than 63 characters: {go_quote(name)}")


def service_problems(svc: dict[str, Any]) -> list[str]:
    """``Service.Validate`` for a service dict (API field names)."""
    errs: list[str] = []
    err = service_name_error(str(svc.get("Name") or ""))
    if err:
        errs.append(err)
    mode = svc.get("AddressMode") or ""
    if mode in ("host", "driver", "alloc"):
        if svc.get("Address"):
            errs.append('Service address_mode must be "auto" if address is set')
    elif mode not in ("", "auto"):
        errs.append(f'Service address_mode must be "auto", "host", or "driver"; not {go_quote(mode)}')
    on_update = svc.get("OnUpdate") or ""
    if on_update not in ("", "ignore", "require_healthy", "ignore_warnings"):
        errs.append('Service on_update must be "require_healthy", "ignore_warnings", or "ignore"; '
                    f"not {go_quote(on_update)}")
    provider = svc.get("Provider") or "consul"
    if provider not in ("consul", "nomad"):
        errs.append(f'Service provider must be "consul", or "nomad"; not {go_quote(provider)}')
    for check in svc.get("Checks") or ():
        if not svc.get("PortLabel") and not check.get("PortLabel") and check_requires_port(check):
            errs.append(f"Check {check.get('Name') or ''} invalid: check requires a port but "
                        f"neither check nor service {go_quote(svc.get('Name') or '')} have a port")
    if provider == "nomad" and svc.get("Connect") is not None:
        errs.append("Service with provider nomad cannot include Connect blocks")
    return errs


def check_requires_port(check: dict[str, Any]) -> bool:
    return (check.get("Type") or "") in ("http", "tcp", "grpc")


def service_errors(tg: TaskGroup) -> list[str]:
    """``TaskGroup.validateServices``: group services, uniqueness, one provider."""
    errs: list[str] = []
    ids: set[tuple[str, str, str]] = set()
    dups: list[tuple[str, str, str]] = []
    providers: set[str] = set()
    tasks = {t.Name for t in tg.Tasks or ()}
    for task in tg.Tasks or ():
        for svc in task.Services or ():
            owner = svc.get("TaskName") or ""
            if owner and owner != task.Name:
                errs.append(f"Service {svc.get('Name') or ''} is invalid: may only specify task the "
                            f"service belongs to, got {go_quote(owner)}")
            _track(ids, dups, (str(svc.get("Name") or ""), task.Name, str(svc.get("PortLabel") or "")))
            providers.add(svc.get("Provider") or "consul")
    for i, svc in enumerate(tg.Services or ()):
        _track(ids, dups, (str(svc.get("Name") or ""), "group", str(svc.get("PortLabel") or "")))
        providers.add(svc.get("Provider") or "consul")
        problems = service_problems(svc)
        if problems:
            errs.append(f"Service[{i}] {svc.get('Name') or ''} validation failed: {multierror(problems)}")
            continue
        for check in svc.get("Checks") or ():
            owner = check.get("TaskName") or ""
            if owner and owner not in tasks:
                errs.append(f"Check {check.get('Name') or ''} invalid: refers to non-existent task {owner}")
    if dups:
        text = ", ".join(f"{t}->{n}" + (f":{p}" if p else "") for n, t, p in dups)
        errs.append(f"Services are not unique: {text}")
    if len(providers) > 1:
        errs.append("Multiple service providers used: task group services must use the same provider")
    return errs


def _track(ids: set, dups: list, key: tuple[str, str, str]) -> None:  # type: ignore[type-arg]
    if key in ids:
        if key not in dups:
            dups.append(key)
    else:
        ids.add(key)


# ---------------------------------------------------------------- scaling


def scaling_errors(job: Job, tg: TaskGroup) -> list[str]:
    """``TaskGroup.validateScalingPolicy`` (Min defaults to the count, Max is required)."""
    policy = tg.Scaling
    if not isinstance(policy, dict):
        return []
    count = tg.Count or 0
    low = count if policy.get("Min") is None else int(policy["Min"])
    high = -1 if policy.get("Max") is None else int(policy["Max"])
    errs: list[str] = []
    if not (policy.get("Type") or "horizontal"):
        errs.append("Scaling policy invalid: missing scaling policy type")
    if high < 0:
        errs.append("Scaling policy invalid: maximum count must be specified and non-negative")
    elif high < low:
        errs.append("Scaling policy invalid: maximum count must not be less than minimum count")
    if low < 0:
        errs.append("Scaling policy invalid: minimum count must be specified and non-negative")
    if high < count:
        errs.append("Scaling policy invalid: task group count must not be greater than maximum "
                    "count in scaling policy")
    multiregion_zero = job.Multiregion is not None and count == 0 and job.Region == "global"
    if count < low and not multiregion_zero:
        errs.append("Scaling policy invalid: task group count must not be less than minimum "
                    "count in scaling policy")
    return errs
