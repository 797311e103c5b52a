"""Job validation with Nomad's rules and its multi-error message style."""

from __future__ import annotations

import re

from .defaults import JOB_TYPE_BATCH, JOB_TYPE_SYSBATCH, JOB_TYPE_SYSTEM, JOB_TYPES
from .job import Job, Task, TaskGroup

_ID_BAD = re.compile(r"\s")
_RESTART_MODES = ("delay", "fail")
CONSTRAINT_OPERATORS = {
    "=", "==", "is", "!=", "not", "<", "<=", ">", ">=", "regexp", "version", "semver",
    "set_contains", "set_contains_all", "set_contains_any", "is_set", "is_not_set",
    "distinct_hosts", "distinct_property",
}


class ValidationError(Exception):
    """A job failed validation; `errors` holds each problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(format_errors(errors))


def format_errors(errors: list[str]) -> str:
    """go-multierror's layout: `N errors occurred:` then one tab-star line each."""
    head = "1 error occurred:" if len(errors) == 1 else f"{len(errors)} errors occurred:"
    return head + "\n" + "".join(f"\t* {e}\n" for e in errors) + "\n"


def validate_job(job: Job) -> None:
    """Raise ValidationError listing every problem of a canonicalized job."""
    errs: list[str] = []
    if not job.ID:
        errs.append("Missing job ID")
    elif _ID_BAD.search(job.ID):
        errs.append("Job ID contains a space")
    elif "\x00" in job.ID:
        errs.append("Job ID contains a null character")
    if not job.Name:
        errs.append("Missing job name")
    if job.Type not in JOB_TYPES:
        errs.append(f"Invalid job type: {job.Type!r}")
    if job.Priority is not None and not 1 <= job.Priority <= 100:
        errs.append("Job priority must be between [1, 100]")
    if not job.Datacenters:
        errs.append("Missing job datacenters")
    for dc in job.Datacenters or ():
        if not dc:
            errs.append("Job datacenter must be non-empty string")
    errs += _constraint_errors(job.Constraints, "")
    if not job.TaskGroups:
        errs.append("Missing job task groups")
    seen: dict[str, int] = {}
    for i, tg in enumerate(job.TaskGroups or ()):
        if not tg.Name:
            errs.append(f"Job task group {i + 1} missing name")
        elif tg.Name in seen:
            errs.append(f"Job task group {i + 1} redefines '{tg.Name}' from group {seen[tg.Name] + 1}")
        else:
            seen[tg.Name] = i
        group_errs = _group_errors(job, tg)
        if group_errs:
            errs.append(f'Task group {tg.Name} validation failed: {_nested(group_errs)}')
    if errs:
        raise ValidationError(errs)


def _nested(errors: list[str]) -> str:
    return format_errors(errors).rstrip("\n").replace("\n", "\n\t")


def _group_errors(job: Job, tg: TaskGroup) -> list[str]:
    errs: list[str] = []
    if tg.Count is not None and tg.Count < 0:
        errs.append("Task group count can't be negative")
    if job.Type in (JOB_TYPE_SYSTEM, JOB_TYPE_SYSBATCH) and tg.Count not in (None, 0, 1):
        errs.append(f"Job task group {tg.Name} count must be 0 or 1 for system jobs")
    if not tg.Tasks:
        errs.append("Missing tasks for task group")
    rp = tg.RestartPolicy
    if rp is not None:
        if rp.Mode not in _RESTART_MODES:
            errs.append(f"Unsupported restart mode: {rp.Mode!r}")
        if rp.Attempts is not None and rp.Attempts < 0:
            errs.append("Restart attempts can't be negative")
        if rp.Attempts and rp.Interval is not None and rp.Delay is not None \
                and rp.Attempts * rp.Delay > rp.Interval:
            errs.append(f"Nomad can't restart the TaskGroup {rp.Attempts} times in an interval"
                        f" of {rp.Interval // 10**9}s with a delay of {rp.Delay // 10**9}s")
    errs += _constraint_errors(tg.Constraints, "")
    names: set[str] = set()
    for i, task in enumerate(tg.Tasks or ()):
        if not task.Name:
            errs.append(f"Task {i + 1} missing name")
        elif task.Name in names:
            errs.append(f"Task {i + 1} redefines '{task.Name}'")
        names.add(task.Name)
        task_errs = _task_errors(job, task)
        if task_errs:
            errs.append(f"Task {task.Name} validation failed: {_nested(task_errs)}")
    return errs


def _task_errors(job: Job, task: Task) -> list[str]:
    errs: list[str] = []
    if not task.Driver:
        errs.append("Missing task driver")
    if task.KillTimeout is not None and task.KillTimeout < 0:
        errs.append("KillTimeout must be a positive value")
    res = task.Resources
    if res is not None:
        if res.CPU is not None and res.CPU < 1 and not res.Cores:
            errs.append(f"Minimum CPU value is 1; got {res.CPU}")
        if res.MemoryMB is not None and res.MemoryMB < 10:
            errs.append(f"Minimum MemoryMB value is 10; got {res.MemoryMB}")
    lc = task.LogConfig
    if lc is not None:
        if lc.MaxFiles is not None and lc.MaxFiles < 1:
            errs.append(f"minimum number of files is 1; got {lc.MaxFiles}")
        if lc.MaxFileSizeMB is not None and lc.MaxFileSizeMB < 1:
            errs.append(f"minimum file size is 1MB; got {lc.MaxFileSizeMB}")
    if task.Driver == "raw_exec" and not (task.Config or {}).get("command"):
        errs.append("Task driver config validation failed: missing required field \"command\"")
    errs += _constraint_errors(task.Constraints, "")
    if job.Type == JOB_TYPE_BATCH and task.Lifecycle and task.Lifecycle.Sidecar:
        pass
    return errs


def _constraint_errors(constraints, _ctx: str) -> list[str]:
    errs: list[str] = []
    for i, c in enumerate(constraints or ()):
        if c.Operand not in CONSTRAINT_OPERATORS:
            errs.append(f"Constraint {i + 1} validation failed: Unknown constraint type {c.Operand!r}")
        elif c.Operand == "regexp":
            try:
                re.compile(c.RTarget)
            except re.error as e:
                errs.append(f"Constraint {i + 1} validation failed: Regular expression failed to compile: {e}")
    return errs
