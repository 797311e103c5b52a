"""Deployment health of an allocation (Nomad's `client/allochealth.Tracker` and the
parameters its alloc-runner health hook takes from the group's update block, or from its
migrate block for a service alloc outside a deployment).

Pure logic, no timers: the caller reports every task-state change to `Tracker.observe`,
calls `Tracker.check` once `Tracker.next_check()` is due, and reads the decision from
`Tracker.healthy` (None until decided, then True or False for good). Time comes from an
injected monotonic clock in seconds.

Semantics (`health_check` "checks" and "task_states" alike: this project has no service
checks, so "checks" degrades to task states):
- healthy once every tracked task has been running continuously for `min_healthy_time`;
  a task leaving `running` (a restart) or starting again resets the wait;
- unhealthy when a tracked task fails or dies first, when the allocation fails, or when
  `healthy_deadline` passes first.
Tracked tasks are the main tasks and sidecars; lifecycle hooks that run to completion
(prestart, poststart, poststop without `sidecar`) do not count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable

from pynomad.structs import (ALLOC_CLIENT_FAILED, JOB_TYPE_SERVICE, TASK_STATE_DEAD,
                             TASK_STATE_RUNNING, Allocation, MigrateStrategy, Task, TaskState)

from ..helper.goformat import MINUTE, SECOND, format_duration

HEALTH_CHECK_CHECKS = "checks"
HEALTH_CHECK_TASK_STATES = "task_states"
HEALTH_CHECK_MANUAL = "manual"

DEFAULT_MIN_HEALTHY_TIME = 10 * SECOND
DEFAULT_HEALTHY_DEADLINE = 5 * MINUTE

# the task event type (Nomad's AllocHealthEventSource) explaining an unhealthy alloc
ALLOC_UNHEALTHY_EVENT = "Alloc Unhealthy"


@dataclass(frozen=True)
class HealthParams:
    """How long to wait, in nanoseconds (Nomad's getHealthParams: from the update block
    in a deployment, else from the migrate block). `deployment` is the hook's isDeploy."""
    min_healthy_time: int = DEFAULT_MIN_HEALTHY_TIME
    healthy_deadline: int = DEFAULT_HEALTHY_DEADLINE
    deployment: bool = True


def health_params(alloc: Allocation) -> HealthParams | None:
    """The alloc's health parameters, or None when its health is not tracked: health
    already set, manual health, or — in a deployment — no (or a disabled) update block;
    outside a deployment only service allocs are tracked, by the group's migrate block
    (Nomad's allocHealthWatcherHook watches them so the drainer sees replacements healthy)."""
    if alloc.DeploymentStatus is not None and alloc.DeploymentStatus.has_health():
        return None
    tg = alloc.Job.lookup_task_group(alloc.TaskGroup) if alloc.Job else None
    if not alloc.DeploymentID:
        if tg is None or (alloc.Job.Type or JOB_TYPE_SERVICE) != JOB_TYPE_SERVICE:
            return None
        update = tg.Migrate or MigrateStrategy()
    else:
        update = tg.Update if tg else None
        if update is None or update.MaxParallel == 0:
            return None
    if update.HealthCheck == HEALTH_CHECK_MANUAL:
        return None
    return HealthParams(
        min_healthy_time=_or(update.MinHealthyTime, DEFAULT_MIN_HEALTHY_TIME),
        healthy_deadline=_or(update.HealthyDeadline, DEFAULT_HEALTHY_DEADLINE),
        deployment=bool(alloc.DeploymentID))


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def tracked_tasks(tasks: Iterable[Task]) -> list[str]:
    """Names of the tasks whose states decide health: main tasks and sidecars."""
    return [t.Name for t in tasks
            if t.Lifecycle is None or not t.Lifecycle.Hook or t.Lifecycle.Sidecar]


class Tracker:
    """Decides one allocation's deployment health from its task states."""

    def __init__(self, params: HealthParams, tasks: Iterable[str],
                 clock: Callable[[], float] = time.monotonic):
        self.params = params
        self.tasks = list(tasks)
        self._clock = clock
        self.deadline = clock() + params.healthy_deadline / SECOND
        self.healthy: bool | None = None
        self.alloc_failed = False
        self._states: dict[str, TaskState] = {}
        self._runs: dict[str, tuple[str, int]] = {}   # task → (StartedAt, Restarts) seen
        self._since: dict[str, float] = {}            # task → running since (clock)

    # -- inputs -------------------------------------------------------------------
    def observe(self, states: dict[str, TaskState], client_status: str = "") -> bool | None:
        """Take the alloc's current task states; returns the decision so far."""
        if self.healthy is not None:
            return self.healthy
        now = self._clock()
        for name in self.tasks:
            st = states.get(name)
            if st is not None:
                self._states[name] = st
            self._note_run(name, st, now)
        if any(st.Failed or st.State == TASK_STATE_DEAD for st in self._states.values()):
            return self._decide(False)
        if client_status == ALLOC_CLIENT_FAILED:
            self.alloc_failed = True
            return self._decide(False)
        return self.check()

    def _note_run(self, name: str, st: TaskState | None, now: float) -> None:
        """Restart the task's running-since time when it (re)starts; forget it when not running."""
        if st is None or st.State != TASK_STATE_RUNNING:
            self._since.pop(name, None)
            self._runs.pop(name, None)
            return
        run = (st.StartedAt, st.Restarts)
        if self._runs.get(name) != run:
            self._runs[name] = run
            self._since[name] = now

    def check(self) -> bool | None:
        """Decide from the clock alone (the min_healthy_time wait or the deadline)."""
        if self.healthy is not None:
            return self.healthy
        healthy_at = self.healthy_at()
        now = self._clock()
        if healthy_at is not None and healthy_at <= min(now, self.deadline):
            return self._decide(True)
        if now >= self.deadline:
            return self._decide(False)
        return None

    def _decide(self, healthy: bool) -> bool:
        self.healthy = healthy
        return healthy

    # -- outputs ------------------------------------------------------------------
    def healthy_at(self) -> float | None:
        """When min_healthy_time will have passed with every tracked task running."""
        if not self.tasks or any(name not in self._since for name in self.tasks):
            return None
        return max(self._since.values()) + self.params.min_healthy_time / SECOND

    def next_check(self) -> float | None:
        """Clock time at which `check` may decide next; None once decided."""
        if self.healthy is not None:
            return None
        healthy_at = self.healthy_at()
        return self.deadline if healthy_at is None else min(healthy_at, self.deadline)

    def task_events(self) -> dict[str, str]:
        """Why each task made the alloc unhealthy (Nomad's Tracker.TaskEvents), as the
        message of an `Alloc Unhealthy` event; empty unless unhealthy because of tasks, and
        empty outside a deployment (Nomad's SetHealth explains only a deployment's allocs)."""
        if self.healthy is not False or self.alloc_failed or not self.params.deployment:
            return {}
        events = {}
        for name in self.tasks:
            message = self._task_event(name)
            if message:
                events[name] = message
        return events

    def _task_event(self, name: str) -> str:
        st = self._states.get(name)
        if st is None:
            return ""
        if st.Failed:
            return "Unhealthy because of failed task"
        if st.State != TASK_STATE_RUNNING:
            return "Task not running by deadline"
        since = self._since.get(name)
        if since is not None and since + self.params.min_healthy_time / SECOND > self.deadline:
            return (f"Task not running for min_healthy_time of "
                    f"{format_duration(self.params.min_healthy_time)} by deadline")
        return ""
