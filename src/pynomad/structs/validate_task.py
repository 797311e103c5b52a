"""Task validation: ``Task.Validate`` of Nomad v1.6.5 and the blocks it checks
(resources, logs, services, artifacts, templates, vault, lifecycle, volume mounts)."""

from __future__ import annotations

import posixpath
from typing import Any

from .job import LogConfig, Task, TaskGroup
from .resources import Resources
from .validate_group import check_requires_port, service_problems
from ..helper.goformat import format_duration as go_duration
from ..helper.goformat import quote as go_quote
from .validate_rules import affinity_errors, constraint_problems
from .validate_util import multierror

MIN_CPU = 1
MIN_MEMORY_MB = 10
# Fields a driver's config must have (Nomad reports these from the client's
# hclspec decode; pynomad reports them when the job is submitted).
DRIVER_REQUIRED = {"raw_exec": ("command",), "exec": ("command",), "docker": ("image",),
                   "java": (), "podman": ("image",), "qemu": ("image_path",)}
_TEMPLATE_MODES = ("noop", "restart", "signal", "script")


def task_errors(job_type: str, tg: TaskGroup, task: Task) -> list[str]:
    """Every problem of one task, in ``Task.Validate``'s order."""
    errs = _basic_errors(job_type, tg, task)
    errs += _resource_and_log_errors(tg, task)
    for i, c in enumerate(task.Constraints or ()):
        sub = constraint_problems(c)
        if sub:
            errs.append(f"Constraint {i + 1} validation failed: {multierror(sub)}")
        if c.Operand in ("distinct_hosts", "distinct_property"):
            errs.append(f"Constraint {i + 1} has disallowed Operand at task level: {c.Operand}")
    if job_type == "system":
        if task.Affinities is not None:
            errs.append("System jobs may not have an affinity block")
    else:
        errs += affinity_errors(task.Affinities)
    svc = task_service_errors(task, tg)
    if svc:
        errs.append(multierror(svc))
    errs += _artifact_errors(task.Artifacts)
    errs += _vault_errors(task.Vault)
    errs += _template_errors(task.Templates)
    errs += _misc_errors(tg, task)
    errs += driver_config_errors(task)
    return errs


MAX_TASK_NAME_BYTES = 200
"""A task name is a directory and log file name (`<task>.stderr.<n>`) of its allocation."""


def _basic_errors(job_type: str, tg: TaskGroup, task: Task) -> list[str]:
    errs: list[str] = []
    if not task.Name:
        errs.append("Missing task name")
    if "/" in task.Name or "\\" in task.Name:
        errs.append("Task name cannot include slashes")
    elif "\x00" in task.Name:
        errs.append("Task name cannot include null characters")
    elif task.Name in (".", ".."):
        errs.append(f"Task name cannot be {task.Name!r}: it names a directory of the allocation")
    elif len(task.Name.encode()) > MAX_TASK_NAME_BYTES:
        errs.append(f"Task name is longer than {MAX_TASK_NAME_BYTES} bytes")
    if not task.Driver:
        errs.append("Missing task driver")
    kill = task.KillTimeout or 0
    if kill < 0:
        errs.append("KillTimeout must be a positive value")
    elif job_type == "service" and tg.Update is not None and (tg.Update.ProgressDeadline or 0) > 0 \
            and kill > (tg.Update.ProgressDeadline or 0):
        errs.append(f"KillTimout ({go_duration(kill)}) longer than the group's ProgressDeadline "
                    f"({go_duration(tg.Update.ProgressDeadline)})")
    if (task.ShutdownDelay or 0) < 0:
        errs.append("ShutdownDelay must be a positive value")
    return errs


def resources_errors(r: Resources) -> list[str]:
    """``Resources.Validate`` (with ``MeetsMinResources`` nested, as Go does)."""
    errs: list[str] = []
    cpu, cores, mem = r.CPU or 0, r.Cores or 0, r.MemoryMB or 0
    if cores > 0 and cpu > 0:
        errs.append("Task can only ask for 'cpu' or 'cores' resource, not both.")
    minimum: list[str] = []
    if cpu < MIN_CPU and cores == 0:
        minimum.append(f"minimum CPU value is {MIN_CPU}; got {cpu}")
    if mem < MIN_MEMORY_MB:
        minimum.append(f"minimum MemoryMB value is {MIN_MEMORY_MB}; got {mem}")
    if minimum:
        errs.append(multierror(minimum))
    if (r.DiskMB or 0) > 0:
        errs.append("Task can't ask for disk resources, they have to be specified at the task "
                    "group level.")
    for i, dev in enumerate(r.Devices or ()):
        if isinstance(dev, dict) and not dev.get("Name"):
            errs.append(f"device {i + 1} failed validation: {multierror(['device name must be given as one of the following: type, vendor/type, or vendor/type/name'])}")
    max_mb = r.MemoryMaxMB or 0
    if max_mb != 0 and max_mb < mem:
        errs.append(f"MemoryMaxMB value ({max_mb}) should be larger than MemoryMB value ({mem})")
    return errs


def log_errors(lc: LogConfig, disk_mb: int | None) -> list[str]:
    """``LogConfig.Validate`` against the group's ephemeral disk."""
    errs: list[str] = []
    files, size = lc.MaxFiles or 0, lc.MaxFileSizeMB or 0
    if files < 1:
        errs.append(f"minimum number of files is 1; got {files}")
    if size < 1:
        errs.append(f"minimum file size is 1MB; got {size}")
    if disk_mb is not None and disk_mb <= files * size:
        errs.append(f"log storage ({files * size} MB) must be less than requested disk capacity "
                    f"({disk_mb} MB)")
    return errs


def _resource_and_log_errors(tg: TaskGroup, task: Task) -> list[str]:
    errs: list[str] = []
    if task.Resources is None:
        errs.append("Missing task resources")
    else:
        sub = resources_errors(task.Resources)
        if sub:
            errs.append(multierror(sub))
    if task.LogConfig is None:
        errs.append("Missing Log Config")
    else:
        disk = tg.EphemeralDisk.SizeMB or 0 if tg.EphemeralDisk is not None else None
        sub = log_errors(task.LogConfig, disk)
        if sub:
            errs.append(multierror(sub))
    return errs


def task_service_errors(task: Task, tg: TaskGroup) -> list[str]:
    """``validateServices``: valid names, no duplicates, referenced ports exist."""
    errs: list[str] = []
    wanted: dict[str, set[str]] = {}
    known: set[str] = set()
    for i, svc in enumerate(task.Services or ()):
        name, port = str(svc.get("Name") or ""), str(svc.get("PortLabel") or "")
        problems = service_problems(svc)
        if problems:
            errs.append(f"service[{i}] {go_quote(name)} validation failed: {multierror(problems)}")
        mode = svc.get("AddressMode") or ""
        if mode == "alloc":
            errs.append(f'service {go_quote(name)} cannot use address_mode="alloc", only services '
                        'defined in a "group" block can use this mode')
        if name + port in known:
            errs.append(f"service {go_quote(name)} is duplicate")
        known.add(name + port)
        if port and not (mode == "driver" and _is_int(port)):
            wanted.setdefault(port, set()).add(name)
        if svc.get("Connect") is not None:
            errs.append(f'service {go_quote(name)} cannot have "connect" block, only services '
                        'defined in a "group" block can')
        errs += _check_errors(svc, wanted)
    labels = _port_labels(task, tg)
    for port in sorted(wanted):
        if port not in labels:
            errs.append(f"port label {go_quote(port)} referenced by services "
                        f"{', '.join(sorted(wanted[port]))} does not exist")
    return errs


def _check_errors(svc: dict[str, Any], wanted: dict[str, set[str]]) -> list[str]:
    errs: list[str] = []
    seen: set[str] = set()
    name = str(svc.get("Name") or "")
    for check in svc.get("Checks") or ():
        cname = str(check.get("Name") or "")
        if cname in seen:
            errs.append(f"check {go_quote(cname)} is duplicate")
        seen.add(cname)
        if check.get("AddressMode") == "alloc":
            errs.append(f'check {go_quote(name)} cannot use address_mode="alloc", only checks '
                        'defined in a "group" service block can use this mode')
        if not check_requires_port(check):
            continue
        port = str(check.get("PortLabel") or svc.get("PortLabel") or "")
        if not port:
            errs.append(f"check {go_quote(cname)} is missing a port")
        elif _is_int(port) and check.get("AddressMode") == "driver":
            if int(port) <= 0:
                errs.append(f"check {go_quote(cname)} has invalid numeric port {int(port)}")
        elif _is_int(port):
            errs.append(f'check {go_quote(cname)} cannot use a numeric port {int(port)} without '
                        'setting address_mode="driver"')
        else:
            wanted.setdefault(port, set()).add(name)
    return errs


def _is_int(text: str) -> bool:
    body = text[1:] if text[:1] in "+-" else text
    return body.isdigit() and body.isascii()


def _port_labels(task: Task, tg: TaskGroup) -> set[str]:
    nets = list((tg.Networks or [])[:1])
    nets += list((task.Resources.Networks if task.Resources else None) or ())
    return {p.Label for net in nets for p in (net.ReservedPorts or []) + (net.DynamicPorts or [])}


def path_escapes(prefix: str, dest: str) -> bool:
    """``escapingfs.PathEscapesAllocViaRelative``: does ``prefix/dest`` leave the alloc dir?"""
    joined = posixpath.normpath(posixpath.join("/alloc", prefix, dest.lstrip("/")))
    return not (joined == "/alloc" or joined.startswith("/alloc/"))


def _artifact_errors(artifacts: list[dict[str, Any]] | None) -> list[str]:
    errs: list[str] = []
    for i, art in enumerate(artifacts or ()):
        sub: list[str] = []
        if not art.get("GetterSource"):
            sub.append("source must be specified")
        mode = art.get("GetterMode") or ""
        if mode not in ("", "any", "file", "dir"):
            sub.append(f"invalid artifact mode {go_quote(mode)}; must be one of: any, file, dir")
        if path_escapes("task", str(art.get("RelativeDest") or "")):
            sub.append("destination escapes allocation directory")
        if sub:
            errs.append(f"Artifact {i + 1} validation failed: {multierror(sub)}")
    return errs


def _vault_errors(vault: dict[str, Any] | None) -> list[str]:
    if vault is None:
        return []
    sub: list[str] = []
    policies = vault.get("Policies") or []
    if not policies:
        sub.append("Policy list cannot be empty")
    sub += ['Can not specify "root" policy' for p in policies if p == "root"]
    mode = vault.get("ChangeMode") or "restart"
    if mode == "signal" and not vault.get("ChangeSignal"):
        sub.append('Signal must be specified when using change mode "signal"')
    elif mode not in ("signal", "noop", "restart"):
        sub.append(f"Unknown change mode {go_quote(mode)}")
    return [f"Vault validation failed: {multierror(sub)}"] if sub else []


def template_problems(t: dict[str, Any]) -> list[str]:
    """``Template.Validate`` for a template dict."""
    errs: list[str] = []
    if not t.get("SourcePath") and not t.get("EmbeddedTmpl"):
        errs.append("Must specify a source path or have an embedded template")
    dest = str(t.get("DestPath") or "")
    if not dest:
        errs.append("Must specify a destination for the template")
    if path_escapes("task", dest):
        errs.append("destination escapes allocation directory")
    mode = t.get("ChangeMode") or "restart"
    if mode == "signal":
        if not t.get("ChangeSignal"):
            errs.append("Must specify signal value when change mode is signal")
        if t.get("Envvars"):
            errs.append("cannot use signals with env var templates")
    elif mode == "script" and not t.get("ChangeScript"):
        errs.append("must specify change script configuration value when change mode is script")
    elif mode not in _TEMPLATE_MODES:
        errs.append("Invalid change mode. Must be one of the following: noop, signal, script, restart")
    if (t.get("Splay") or 0) < 0:
        errs.append("Must specify positive splay value")
    perms = str(t.get("Perms") or "")
    if perms and not _octal12(perms):
        errs.append(f"Failed to parse {go_quote(perms)} as octal: strconv.ParseUint: parsing "
                    f"{go_quote(perms)}: invalid syntax")
    return errs


def _octal12(text: str) -> bool:
    try:
        return 0 <= int(text, 8) < 4096 and text.isascii()
    except ValueError:
        return False


def _template_errors(templates: list[dict[str, Any]] | None) -> list[str]:
    errs: list[str] = []
    dests: dict[str, int] = {}
    for i, t in enumerate(templates or ()):
        sub = template_problems(t)
        if sub:
            errs.append(f"Template {i + 1} validation failed: {multierror(sub)}")
        dest = str(t.get("DestPath") or "")
        if dest in dests:
            errs.append(f"Template {i + 1} has same destination as {dests[dest]}")
        else:
            dests[dest] = i + 1
    return errs


def _misc_errors(tg: TaskGroup, task: Task) -> list[str]:
    errs: list[str] = []
    if task.DispatchPayload is not None and path_escapes("task/local/", task.DispatchPayload.File):
        errs.append("Dispatch Payload validation failed: destination escapes allocation directory")
    if task.Lifecycle is not None:
        hook = task.Lifecycle.Hook
        if hook == "":
            errs.append("Lifecycle validation failed: no lifecycle hook provided")
        elif hook not in ("prestart", "poststart", "poststop"):
            errs.append(f"Lifecycle validation failed: invalid hook: {hook}")
    for i, vm in enumerate(task.VolumeMounts or ()):
        mode = vm.get("PropagationMode") or "private"
        if mode not in ("private", "host-to-task", "bidirectional"):
            errs.append(f'Volume Mount ({i}) has an invalid propagation mode: "{mode}"')
        vol = vm.get("Volume") or ""
        if not vol:
            errs.append(f"Volume Mount ({i}) references an empty volume")
        elif vol not in (tg.Volumes or {}):
            errs.append(f"Volume Mount ({i}) references undefined volume {vol}")
    return errs


def driver_config_errors(task: Task) -> list[str]:
    """Required driver ``config`` fields (``command`` for raw_exec, ``image`` for docker)."""
    config = task.Config or {}
    missing = [f for f in DRIVER_REQUIRED.get(task.Driver, ()) if config.get(f) in (None, "")]
    return [f'Task driver config validation failed: missing required field "{f}"' for f in missing]
