"""Nomad's defaults, applied to a submitted job on register (`canonicalize`)."""

from __future__ import annotations

from .base import HOUR, MINUTE, SECOND
from .job import (EphemeralDisk, Job, LogConfig, MigrateStrategy, ReschedulePolicy,
                  RestartPolicy, Task, TaskGroup, UpdateStrategy, WorkloadIdentity)
from .resources import Resources

JOB_TYPE_SERVICE = "service"
JOB_TYPE_BATCH = "batch"
JOB_TYPE_SYSTEM = "system"
JOB_TYPE_SYSBATCH = "sysbatch"
JOB_TYPES = (JOB_TYPE_SERVICE, JOB_TYPE_BATCH, JOB_TYPE_SYSTEM, JOB_TYPE_SYSBATCH)

JOB_DEFAULT_PRIORITY = 50
DEFAULT_NAMESPACE = "default"
DEFAULT_REGION = "global"
DEFAULT_KILL_TIMEOUT = 5 * SECOND


def default_restart_policy(job_type: str) -> RestartPolicy:
    if job_type in (JOB_TYPE_BATCH, JOB_TYPE_SYSBATCH):
        return RestartPolicy(Attempts=3, Interval=24 * HOUR, Delay=15 * SECOND, Mode="fail",
                             RenderTemplates=False)
    return RestartPolicy(Attempts=2, Interval=30 * MINUTE, Delay=15 * SECOND, Mode="fail",
                         RenderTemplates=False)


def default_reschedule_policy(job_type: str) -> ReschedulePolicy | None:
    if job_type == JOB_TYPE_SERVICE:
        return ReschedulePolicy(Attempts=0, Interval=0, Delay=30 * SECOND,
                                DelayFunction="exponential", MaxDelay=HOUR, Unlimited=True)
    if job_type == JOB_TYPE_BATCH:
        return ReschedulePolicy(Attempts=1, Interval=24 * HOUR, Delay=5 * SECOND,
                                DelayFunction="constant", MaxDelay=0, Unlimited=False)
    return None


def default_update_strategy() -> UpdateStrategy:
    return UpdateStrategy(Stagger=30 * SECOND, MaxParallel=1, HealthCheck="checks",
                          MinHealthyTime=10 * SECOND, HealthyDeadline=5 * MINUTE,
                          ProgressDeadline=10 * MINUTE, Canary=0, AutoRevert=False,
                          AutoPromote=False)


def default_migrate_strategy() -> MigrateStrategy:
    return MigrateStrategy(MaxParallel=1, HealthCheck="checks", MinHealthyTime=10 * SECOND,
                           HealthyDeadline=5 * MINUTE)


def _merge(base, override):
    """Fields set (non-None) in `override` win over `base`; returns a new struct."""
    if override is None:
        return base
    if base is None:
        return override
    values = {f: getattr(override, f) for f in override.__struct_fields__
              if getattr(override, f) is not None}
    return type(base)(**{**{f: getattr(base, f) for f in base.__struct_fields__}, **values})


def canonicalize(job: Job, region: str = DEFAULT_REGION) -> Job:
    """Fill every omitted field with Nomad's default. Mutates and returns `job`."""
    job.Region = job.Region or region
    job.Namespace = job.Namespace or DEFAULT_NAMESPACE
    job.Name = job.Name or job.ID
    job.Type = job.Type or JOB_TYPE_SERVICE
    if job.Priority is None:
        job.Priority = JOB_DEFAULT_PRIORITY
    job.AllAtOnce = bool(job.AllAtOnce)
    if not job.Datacenters:
        job.Datacenters = ["*"]
    job.NodePool = job.NodePool or "default"
    job.ConsulToken = job.ConsulToken or ""
    job.VaultToken = job.VaultToken or ""
    job.ConsulNamespace = job.ConsulNamespace or ""
    job.VaultNamespace = job.VaultNamespace or ""
    job.NomadTokenID = job.NomadTokenID or ""
    job.DispatchIdempotencyToken = job.DispatchIdempotencyToken or ""
    job.ParentID = job.ParentID or ""
    job.Stop = bool(job.Stop)
    job.Stable = bool(job.Stable)
    job.StatusDescription = job.StatusDescription or ""
    job.Version = job.Version or 0
    for tg in job.TaskGroups or ():
        _canonicalize_group(job, tg)
    if job.Type == JOB_TYPE_SERVICE:
        job.Update = _merge(UpdateStrategy(Stagger=30 * SECOND, MaxParallel=1), job.Update)
    return job


def _canonicalize_group(job: Job, tg: TaskGroup) -> None:
    if tg.Count is None:
        # as api.TaskGroup.Canonicalize: a scaling block's min is the initial count
        scaling_min = (tg.Scaling or {}).get("Min") if isinstance(tg.Scaling, dict) else None
        tg.Count = int(scaling_min) if scaling_min is not None else 1
    tg.RestartPolicy = _merge(default_restart_policy(job.Type), tg.RestartPolicy)
    resched = default_reschedule_policy(job.Type)
    if resched is not None:
        tg.ReschedulePolicy = _merge(_merge(resched, job.Reschedule), tg.ReschedulePolicy)
    else:
        tg.ReschedulePolicy = None
    tg.EphemeralDisk = _merge(EphemeralDisk(Sticky=False, Migrate=False, SizeMB=300),
                              tg.EphemeralDisk)
    if job.Type == JOB_TYPE_SERVICE:
        tg.Update = _merge(_merge(default_update_strategy(), job.Update), tg.Update)
        tg.Migrate = _merge(_merge(default_migrate_strategy(), job.Migrate), tg.Migrate)
    tg.ShutdownDelay = tg.ShutdownDelay
    for task in tg.Tasks or ():
        _canonicalize_task(tg, task)


def _canonicalize_task(tg: TaskGroup, task: Task) -> None:
    res = task.Resources or Resources()
    if res.CPU is None:
        res.CPU = 0 if res.Cores else 100  # reserved cores replace the cpu default
    if res.MemoryMB is None:
        res.MemoryMB = 300
    res.Cores = res.Cores or 0
    for dev in res.Devices or ():
        if isinstance(dev, dict) and dev.get("Count") is None:
            dev["Count"] = 1
    res.MemoryMaxMB = res.MemoryMaxMB or 0
    res.DiskMB = res.DiskMB or 0
    res.IOPS = res.IOPS or 0
    task.Resources = res
    task.RestartPolicy = _merge(tg.RestartPolicy, task.RestartPolicy)
    task.LogConfig = _merge(LogConfig(MaxFiles=10, MaxFileSizeMB=10, Disabled=False),
                            task.LogConfig)
    if task.KillTimeout is None:
        task.KillTimeout = DEFAULT_KILL_TIMEOUT
    if task.Identity is None:
        task.Identity = WorkloadIdentity(Name="default", Env=False, File=False)
    if task.Config is None:
        task.Config = {}
