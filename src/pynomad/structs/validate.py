"""Job validation with Nomad's rules and its multi-error message style.

Mirrors ``Job.Validate`` of Nomad v1.6.5 (nomad/structs/structs.go): every rule
appends one message; nested objects (task groups, tasks) contribute one entry
whose text is their own go-multierror list, exactly as Go's ``fmt.Errorf("...: %v",
multierr)`` prints it. Group rules live in :mod:`validate_group`, task rules in
:mod:`validate_task`, the shared checkers in :mod:`validate_util`.
"""

from __future__ import annotations

from ..helper.goformat import quote
from .defaults import JOB_TYPE_BATCH, JOB_TYPE_SYSBATCH, JOB_TYPE_SYSTEM, JOB_TYPES
from .job import Job, ParameterizedJobConfig, PeriodicConfig
from .validate_rules import affinity_errors, constraint_errors, spread_errors
from .validate_util import cron_error, multierror

CONSTRAINT_OPERATORS = {
    "=", "==", "is", "!=", "not", "<", "<=", ">", ">=", "regexp", "version", "semver",
    "set_contains", "set_contains_all", "set_contains_any", "is_set", "is_not_set",
    "distinct_hosts", "distinct_property",
}


class ValidationError(Exception):
    """A job failed validation; `errors` holds each top-level problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(format_errors(errors))


def format_errors(errors: list[str]) -> str:
    """go-multierror's layout: `N errors occurred:` then one tab-star line each."""
    return multierror(errors)


def validate_job(job: Job) -> None:
    """Raise ValidationError listing every problem of a canonicalized job."""
    errs = job_errors(job)
    if errs:
        raise ValidationError(errs)


def job_errors(job: Job) -> list[str]:
    """Every top-level problem of ``job`` (empty when valid)."""
    from .validate_group import group_errors, group_header_errors

    errs = _identity_errors(job)
    if not job.TaskGroups:
        errs.append("Missing job task groups")
    errs += _placement_errors(job)
    errs += group_header_errors(job)
    for tg in job.TaskGroups or ():
        group_errs = group_errors(job, tg)
        if group_errs:
            errs.append(f"Task group {tg.Name} validation failed: {multierror(group_errs)}")
    errs += _periodic_errors(job)
    errs += _parameterized_errors(job)
    return errs


def _identity_errors(job: Job) -> list[str]:
    errs: list[str] = []
    if not job.Region and job.Multiregion is None:
        errs.append("Missing job region")
    if not job.ID:
        errs.append("Missing job ID")
    elif " " in job.ID:
        errs.append("Job ID contains a space")
    elif "\x00" in job.ID:
        errs.append("Job ID contains a null character")
    if not job.Name:
        errs.append("Missing job name")
    elif "\x00" in job.Name:
        errs.append("Job Name contains a null character")
    if not job.Namespace:
        errs.append("Job must be in a namespace")
    if not job.Type:
        errs.append("Missing job type")
    elif job.Type not in JOB_TYPES + ("_core",):
        errs.append(f"Invalid job type: {_q(job.Type)}")
    if job.Priority is not None and not 1 <= job.Priority <= 100:
        errs.append("Job priority must be between [1, 100]")
    if not job.Datacenters and job.Multiregion is None:
        errs.append("Missing job datacenters")
    else:
        errs += ["Job datacenter must be non-empty string" for dc in job.Datacenters or () if not dc]
    return errs


def _placement_errors(job: Job) -> list[str]:
    errs = constraint_errors(job.Constraints)
    if job.Type == JOB_TYPE_SYSTEM:
        if job.Affinities is not None:
            errs.append("System jobs may not have an affinity block")
        if job.Spreads is not None:
            errs.append("System jobs may not have a spread block")
    else:
        errs += affinity_errors(job.Affinities)
        errs += spread_errors(job.Spreads)
    return errs


def _periodic_errors(job: Job) -> list[str]:
    p = job.Periodic
    if p is None or p.Enabled is False:
        return []
    errs: list[str] = []
    if job.Type not in (JOB_TYPE_BATCH, JOB_TYPE_SYSBATCH):
        errs.append(f'Periodic can only be used with "{JOB_TYPE_BATCH}" or "{JOB_TYPE_SYSBATCH}" scheduler')
    perr = periodic_errors(p)
    if perr:
        errs.append(multierror(perr))
    return errs


def periodic_errors(p: PeriodicConfig) -> list[str]:
    """``PeriodicConfig.Validate`` (SpecType and TimeZone default as the API does)."""
    errs: list[str] = []
    specs = list(p.Specs or [])
    if p.Spec and specs:
        errs.append("Only cron or crons may be used")
    if not p.Spec and not specs:
        errs.append("Must specify a spec")
    if p.TimeZone and not _zone_ok(p.TimeZone):
        errs.append(f'Invalid time zone {_q(p.TimeZone)}: unknown time zone {p.TimeZone}')
    spec_type = p.SpecType or "cron"
    if spec_type == "cron":
        for spec in ([p.Spec] if p.Spec else []) + specs:
            err = cron_error(spec)
            if err:
                errs.append(f"Invalid cron spec {_q(spec)}: {err}")
    elif spec_type != "_internal_test":
        errs.append(f"Unknown periodic specification type {_q(spec_type)}")
    return errs


def _zone_ok(name: str) -> bool:
    if name in ("UTC", "Local", ""):
        return True
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(name)
        return True
    except (ValueError, OSError, KeyError, Exception):  # noqa: BLE001 - any lookup failure
        return False


def _parameterized_errors(job: Job) -> list[str]:
    d = job.ParameterizedJob
    if d is None or job.Dispatched:
        return []
    errs: list[str] = []
    if job.Type not in (JOB_TYPE_BATCH, JOB_TYPE_SYSBATCH):
        errs.append(f'Parameterized job can only be used with "{JOB_TYPE_BATCH}" or '
                    f'"{JOB_TYPE_SYSBATCH}" scheduler')
    perr = parameterized_errors(d)
    if perr:
        errs.append(multierror(perr))
    return errs


def parameterized_errors(d: ParameterizedJobConfig) -> list[str]:
    """``ParameterizedJobConfig.Validate`` (an empty payload means "optional")."""
    errs: list[str] = []
    if (d.Payload or "optional") not in ("optional", "required", "forbidden"):
        errs.append(f"Unknown payload requirement: {_q(d.Payload)}")
    optional = set(d.MetaOptional or ())
    both = [k for k in dict.fromkeys(d.MetaRequired or ()) if k in optional]
    if both:
        errs.append("Required and optional meta keys should be disjoint. Following keys exist "
                    f"in both: [{' '.join(both)}]")
    return errs


def _q(text: str | None) -> str:
    """Go's ``%q`` for ordinary strings."""
    return quote(text or "")
