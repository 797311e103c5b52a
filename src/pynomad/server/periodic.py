"""Periodic jobs (Nomad's nomad/periodic.go PeriodicDispatch): runs on the leader and
launches a child job of every active periodic job at each of its cron times.

The decisions are pure functions of a job and a time (`next_launch`, `derive_job`,
`running_children`); `PeriodicDispatch` keeps the per-job schedule and the last launch
time per parent (Nomad's `PeriodicLaunch` table, kept in memory here), and its loop sleeps
until the next launch is due or the jobs table changes.

Rules, as Nomad:
- a job is tracked while it is registered, not stopped, `Periodic.Enabled` is not false
  (None counts as enabled) and it is not itself a parameterized (undispatched) job;
- a child is a copy of the parent named `<parent>/periodic-<unix seconds of the launch>`,
  with `ParentID` set and `Periodic` cleared, registered like any job (which evaluates it);
- with `ProhibitOverlap` a launch is skipped while a previous child has a non-terminal
  evaluation or allocation; a forced launch ignores it;
- when leadership is established, a job whose next launch after its last recorded launch
  has already passed is launched once now (Nomad's restorePeriodicDispatcher).

One difference, on purpose: if the leader falls behind by several launch times (a stalled
process, a suspended host), missed launches are collapsed into one, and the schedule goes
on from the current time instead of replaying every missed slot.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import msgspec

from ..structs import Job, PeriodicConfig
from .errors import BadRequest, NotFound

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.periodic")

PERIODIC_LAUNCH_SUFFIX = "/periodic-"
SPEC_CRON = "cron"
SPEC_TEST = "_internal_test"
MAX_SLEEP_S = 60.0
COALESCE_S = 0.1
NS = 1_000_000_000

_CRON_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

JobKey = tuple[str, str]


# -- pure logic ----------------------------------------------------------------------------
def is_periodic_active(job: Job) -> bool:
    """Nomad's Job.IsPeriodicActive: periodic, enabled, not stopped, not a parameterized
    template (only its dispatched children are tracked)."""
    p = job.Periodic
    if p is None or p.Enabled is False or job.Stop:
        return False
    return job.ParameterizedJob is None or job.Dispatched


def time_zone(p: PeriodicConfig) -> datetime.tzinfo:
    name = p.TimeZone or "UTC"
    if name == "UTC":
        return datetime.timezone.utc
    if name == "Local":
        return datetime.datetime.now().astimezone().tzinfo or datetime.timezone.utc
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def croniter_spec(spec: str) -> str:
    """A cronexpr spec (Nomad's cron library) in croniter's field order.

    cronexpr takes 5 fields (minute..day-of-week), 6 (… year) or 7 (second first, year
    last); croniter takes seconds as the 6th field and the year as the 7th.
    """
    text = spec.strip()
    if text.startswith("@"):
        macro = _CRON_MACROS.get(text.lower())
        if macro is None:
            raise ValueError(f"unknown cron macro {text!r}")
        return macro
    fields = [f.replace("?", "*") for f in text.split()[:7]]
    if len(fields) < 5:
        raise ValueError(f"missing field(s) in cron spec {spec!r}")
    if len(fields) == 6:
        fields = fields[:5] + ["0", fields[5]]
    elif len(fields) == 7:
        fields = fields[1:6] + [fields[0], fields[6]]
    return " ".join(fields)


def _cron_next(spec: str, after: datetime.datetime) -> int | None:
    try:
        from croniter import CroniterBadDateError, croniter
    except ImportError as err:  # a missing dependency: say so where it is used
        raise RuntimeError("periodic jobs need the 'croniter' package") from err
    try:
        nxt = croniter(croniter_spec(spec), after).get_next(datetime.datetime)
    except CroniterBadDateError:
        return None  # no further time matches (a past year)
    return int(nxt.timestamp()) * NS


def next_launch(p: PeriodicConfig, after_ns: int) -> int | None:
    """The first launch time (ns) strictly after `after_ns`, or None when there is none
    (Nomad's PeriodicConfig.Next). Raises ValueError for a spec that doesn't parse."""
    spec_type = p.SpecType or SPEC_CRON
    if spec_type == SPEC_TEST:
        times = sorted(int(t) * NS for t in (p.Spec or "").split(",") if t.strip())
        return next((t for t in times if t > after_ns), None)
    if spec_type != SPEC_CRON:
        raise ValueError(f"unknown periodic specification type {spec_type!r}")
    specs = [p.Spec] if p.Spec else list(p.Specs or ())
    if not specs:
        raise ValueError("periodic job has no spec")
    secs, frac = divmod(after_ns, NS)
    after = datetime.datetime.fromtimestamp(secs, tz=time_zone(p)).replace(
        microsecond=frac // 1000)
    times = [t for t in (_cron_next(s, after) for s in specs) if t is not None]
    return min(times) if times else None


def derived_job_id(parent_id: str, launch_ns: int) -> str:
    return f"{parent_id}{PERIODIC_LAUNCH_SUFFIX}{launch_ns // NS}"


def launch_time_of(child_id: str) -> int | None:
    """The launch time (ns) encoded in a periodic child's ID (Nomad's LaunchTime)."""
    _, sep, tail = child_id.rpartition(PERIODIC_LAUNCH_SUFFIX)
    if not sep or not tail.isdigit():
        return None
    return int(tail) * NS


def copy_job(job: Job) -> Job:
    """A deep copy (the stored parent must never share nested objects with a child)."""
    return msgspec.msgpack.decode(msgspec.msgpack.encode(job), type=Job)


def derive_job(parent: Job, launch_ns: int, now_ns: int) -> Job:
    """The child job launched for `parent` at `launch_ns` (Nomad's deriveJob)."""
    child = copy_job(parent)
    child.ID = derived_job_id(parent.ID, launch_ns)
    child.Name = child.ID
    child.ParentID = parent.ID
    child.Periodic = None
    child.Status = None
    child.StatusDescription = None
    child.Stable = False
    child.Version = None
    child.SubmitTime = now_ns
    child.CreateIndex = child.ModifyIndex = child.JobModifyIndex = None
    return child


def children_of(state, job: Job, suffix: str) -> list[Job]:
    """Jobs whose ID starts with `<job>/<suffix>` and whose ParentID is the job."""
    prefix = job.ID + suffix
    return [j for (ns, jid), j in state.jobs.items()
            if ns == job.Namespace and jid.startswith(prefix) and j.ParentID == job.ID]


def running_children(state, job: Job) -> bool:
    """Whether a periodic child still has a non-terminal eval or alloc (Nomad's
    RunningChildren, used for ProhibitOverlap)."""
    for child in children_of(state, job, PERIODIC_LAUNCH_SUFFIX):
        if any(not ev.terminal() for ev in state.evals_by_job_id(child.Namespace, child.ID)):
            return True
        if any(not a.terminal() for a in state.allocs_by_job_id(child.Namespace, child.ID)):
            return True
    return False


def last_launch_in_state(state, job: Job) -> int | None:
    """The newest launch time among the job's periodic children still in the state."""
    times = [t for t in (launch_time_of(c.ID)
                         for c in children_of(state, job, PERIODIC_LAUNCH_SUFFIX)) if t]
    return max(times) if times else None


# -- the leader's dispatcher ---------------------------------------------------------------
@dataclass
class Tracked:
    modify_index: int
    next: int | None  # ns; None: no further launch


class PeriodicDispatch:
    """Tracks active periodic jobs and launches their children when due."""

    def __init__(self, server: "Server", clock: Callable[[], int] | None = None) -> None:
        self.server = server
        self._clock = clock
        self.tracked: dict[JobKey, Tracked] = {}
        self.launches: dict[JobKey, int] = {}  # Nomad's PeriodicLaunch, in memory
        self._lock = asyncio.Lock()
        self._restored = False

    def now(self) -> int:
        return self._clock() if self._clock is not None else self.server.clock.now_ns()

    # -- schedule bookkeeping (no I/O) ------------------------------------------------------
    def _active_jobs(self) -> dict[JobKey, Job]:
        return {k: j for k, j in self.server.state.jobs.items()
                if j.Periodic is not None and is_periodic_active(j)}

    def _schedule(self, job: Job, after_ns: int) -> int | None:
        try:
            return next_launch(job.Periodic, after_ns)
        except (ValueError, RuntimeError) as err:
            log.error("failed to compute next periodic launch of job %s/%s: %s",
                      job.Namespace, job.ID, err)
            return None

    def sync(self, now: int) -> None:
        """Track new and updated active periodic jobs (next launch after now) and forget
        those that are gone, stopped or disabled (Nomad's Add/Remove on job upserts)."""
        active = self._active_jobs()
        for key in [k for k in self.tracked if k not in active]:
            del self.tracked[key]
        jobs = self.server.state.jobs
        for key in [k for k in self.launches if k not in jobs]:  # purged: forget it
            del self.launches[key]
        for key, job in active.items():
            current = self.tracked.get(key)
            modify = job.JobModifyIndex or 0
            if current is None or current.modify_index != modify:
                self.tracked[key] = Tracked(modify, self._schedule(job, now))
                if key not in self.launches:
                    self.launches[key] = now  # Nomad records the insertion as a launch

    def restore(self, now: int) -> list[JobKey]:
        """Track every active job after a leader election; return those whose launch was
        missed while no leader ran them (launched once, now)."""
        missed = []
        for key, job in self._active_jobs().items():
            last = (self.launches.get(key) or last_launch_in_state(self.server.state, job)
                    or job.SubmitTime or now)
            self.launches[key] = last
            self.tracked[key] = Tracked(job.JobModifyIndex or 0, self._schedule(job, now))
            due = self._schedule(job, last)
            if due is not None and due < now:
                missed.append(key)
        self._restored = True
        return missed

    def due(self, now: int) -> list[JobKey]:
        """Tracked jobs whose next launch is at or before now, earliest first."""
        keys = [k for k, t in self.tracked.items() if t.next is not None and t.next <= now]
        return sorted(keys, key=lambda k: (self.tracked[k].next, k))

    def next_wakeup(self) -> int | None:
        times = [t.next for t in self.tracked.values() if t.next is not None]
        return min(times) if times else None

    # -- launching --------------------------------------------------------------------------
    async def step(self) -> list[str]:
        """Launch every due child (skipping overlaps when prohibited); return their IDs."""
        async with self._lock:
            now = self.now()
            missed: list[JobKey] = []
            if not self._restored:
                missed = self.restore(now)
            self.sync(now)
            launched = []
            state = self.server.state
            for key in missed:
                job = state.job_by_id(*key)
                if job is not None and is_periodic_active(job) and not (job.Periodic.ProhibitOverlap
                                            and running_children(state, job)):
                    log.info("periodic job %s/%s force run during leadership establishment",
                             *key)
                    launched.append(await self._launch(job, now))
            for key in self.due(now):
                job = state.job_by_id(*key)
                tracked = self.tracked.get(key)
                if job is None or tracked is None or not is_periodic_active(job):
                    continue  # deregistered or stopped while an earlier launch committed
                launch = tracked.next
                tracked.next = self._schedule(job, max(launch, now))
                if job.Periodic.ProhibitOverlap and running_children(state, job):
                    log.debug("skipping launch of periodic job %s/%s because job prohibits "
                              "overlap", *key)
                    continue
                launched.append(await self._launch(job, launch))
            return [c for c in launched if c]

    async def _launch(self, job: Job, launch_ns: int) -> str:
        child = derive_job(job, launch_ns, self.now())
        try:
            await self.server.jobs.register(child)
        except Exception as err:  # noqa: BLE001 - one failed launch must not stop the loop
            log.error("failed to launch periodic job %s/%s: %s", job.Namespace, job.ID, err)
            return ""
        self.launches[(job.Namespace, job.ID)] = launch_ns
        return child.ID

    async def force(self, namespace: str, job_id: str) -> dict:
        """`POST /v1/job/:id/periodic/force`: launch a child now, ignoring ProhibitOverlap."""
        job = self.server.state.job_by_id(namespace, job_id)
        if job is None:
            raise NotFound("job not found")
        if job.Periodic is None:
            raise BadRequest("can't force launch non-periodic job")
        if not is_periodic_active(job):
            raise BadRequest(f'force launch for job "{job_id}" failed: can\'t force run '
                             f'non-tracked job "{job_id}" ({namespace})')
        now = self.now()
        child = derive_job(job, now, now)
        out = await self.server.jobs.register(child)
        self.launches[(namespace, job_id)] = now
        return {"EvalID": out["EvalID"], "EvalCreateIndex": out["EvalCreateIndex"],
                "Index": out["EvalCreateIndex"] or out["Index"]}

    # -- the loop ---------------------------------------------------------------------------
    def sleep_for(self, now: int) -> float:
        nxt = self.next_wakeup()
        if nxt is None:
            return MAX_SLEEP_S
        return min(MAX_SLEEP_S, max(0.01, (nxt - now) / NS))

    def reset(self) -> None:
        """Leadership lost: launch nothing; a new term restores from the state."""
        self.tracked.clear()
        self._restored = False

    async def run(self) -> None:
        srv = self.server
        while True:
            try:
                index = srv.state.table_index("jobs")
                await self.step()
                changed = await srv.watcher.wait_change(("jobs",), index,
                                                        self.sleep_for(self.now()))
                if changed > index:
                    await srv.clock.sleep(COALESCE_S)  # let a burst of job writes settle
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic dispatch step failed")
                await srv.clock.sleep(1.0)
