"""Nomad's API-to-struct conversion (`ApiJobToStructJob` in command/agent/job_endpoint.go).

Nomad never validates the job a client sends: it canonicalizes the `api.Job`, copies into a
`structs.Job` only the fields that struct keeps, and validates that copy. What the copy
leaves out, Nomad never sees — so a job file written for Nomad with, say, a task-level
`resources { disk = 500 }` is accepted there. `from_api` applies the same copy to a job
decoded from the API, after `canonicalize` and before `validate_job`:

- a task's `DiskMB` is dropped (disk belongs to the group's `ephemeral_disk`);
- `LogConfig.Enabled` (deprecated) is dropped;
- group volumes of a type other than `host` or `csi` are ignored, as are volume mounts
  naming no volume;
- a check inherits its service's `on_update` when it sets none; a task service's checks
  lose `task` (only group services' checks name the task they run in);
- the job-level `update` keeps only `stagger` and `max_parallel` (the rest went into the
  groups), and the job-level `reschedule` and `migrate` go into the groups only;
- server-owned fields a client may echo back from `GET /v1/job/:id` (status, version,
  indexes, parent, dispatch state, submit time) are reset: the server sets them.
"""

from __future__ import annotations

from .job import Job, Task, TaskGroup, UpdateStrategy

VOLUME_TYPES = ("host", "csi")


def from_api(job: Job) -> Job:
    """Keep what Nomad's `structs.Job` keeps of a submitted job. Mutates and returns it."""
    _server_owned(job)
    job.Update = _job_update(job.Update)
    job.Reschedule = None
    job.Migrate = None
    for tg in job.TaskGroups or ():
        _group(tg)
    return job


def _server_owned(job: Job) -> None:
    job.Status = None
    job.StatusDescription = ""
    job.Version = 0
    job.Stable = False
    job.ParentID = ""
    job.Dispatched = False
    job.DispatchIdempotencyToken = ""
    job.NomadTokenID = ""
    job.SubmitTime = None
    job.CreateIndex = None
    job.ModifyIndex = None
    job.JobModifyIndex = None


def _job_update(update: UpdateStrategy | None) -> UpdateStrategy | None:
    if update is None:
        return None
    if not update.MaxParallel or update.MaxParallel <= 0:
        return UpdateStrategy(Stagger=0, MaxParallel=0, HealthCheck="", MinHealthyTime=0,
                              HealthyDeadline=0, ProgressDeadline=0, Canary=0,
                              AutoRevert=False, AutoPromote=False)
    return UpdateStrategy(Stagger=update.Stagger or 0, MaxParallel=update.MaxParallel,
                          HealthCheck="", MinHealthyTime=0, HealthyDeadline=0,
                          ProgressDeadline=0, Canary=0, AutoRevert=False, AutoPromote=False)


def _group(tg: TaskGroup) -> None:
    if tg.Volumes:
        tg.Volumes = {name: vol for name, vol in tg.Volumes.items()
                      if isinstance(vol, dict) and vol.get("Type") in VOLUME_TYPES} or None
    tg.Services = _services(tg.Services, group=True)
    for task in tg.Tasks or ():
        _task(task)


def _task(task: Task) -> None:
    if task.Resources is not None:
        task.Resources.DiskMB = 0
    if task.LogConfig is not None:
        task.LogConfig.Enabled = None
    if task.VolumeMounts:
        task.VolumeMounts = [m for m in task.VolumeMounts
                             if isinstance(m, dict) and m.get("Volume") is not None] or None
    task.Services = _services(task.Services, group=False)


def _services(services: list[dict] | None, group: bool) -> list[dict] | None:
    for svc in services or ():
        if not isinstance(svc, dict):
            continue
        for check in svc.get("Checks") or ():
            if not isinstance(check, dict):
                continue
            if not check.get("OnUpdate"):
                check["OnUpdate"] = svc.get("OnUpdate") or ""
            if not group:
                check["TaskName"] = ""
    return services
