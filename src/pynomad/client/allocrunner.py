"""Alloc runner: runs the task runners of one allocation (Nomad's `allocRunner`).

Starts tasks in lifecycle order (prestart → main → poststart; poststop once the main
tasks are dead), kills the group when the leader dies or a task fails, kills sidecars
once only they remain, honours the server's desired status `stop`, and derives the
allocation's ClientStatus from its task states. For an allocation in a deployment it
also tracks deployment health (Nomad's health hook, decisions in `health.Tracker`) and
reports it as DeploymentStatus.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

import msgspec

from pynomad.structs import (ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_FAILED, ALLOC_CLIENT_PENDING,
                             ALLOC_CLIENT_RUNNING, TASK_STATE_DEAD, TASK_STATE_PENDING,
                             TASK_STATE_RUNNING, ZERO_TIME, AllocDeploymentStatus, Allocation,
                             Node, Task, TaskEvent, TaskState)

from . import events as ev
from .allocdir import AllocDir
from ..helper.clock import Clock
from .config import ClientConfig
from .driver import Driver
from ..helper.goformat import format_rfc3339
from .health import ALLOC_UNHEALTHY_EVENT, Tracker, health_params, tracked_tasks
from .service_hook import ServiceHook
from .state import StateDB, TaskLocalState
from .taskrunner import TaskRunner

log = logging.getLogger(__name__)


def client_status(states: dict[str, TaskState]) -> tuple[str, str]:
    """Nomad's getClientStatus: failed > running > pending > complete."""
    pending = running = dead = failed = False
    for st in states.values():
        if st.State == TASK_STATE_RUNNING:
            running = True
        elif st.State == TASK_STATE_PENDING:
            pending = True
        elif st.State == TASK_STATE_DEAD:
            if st.Failed:
                failed = True
            else:
                dead = True
    if failed:
        return ALLOC_CLIENT_FAILED, "Failed tasks"
    if running:
        return ALLOC_CLIENT_RUNNING, "Tasks are running"
    if pending:
        return ALLOC_CLIENT_PENDING, "No tasks have started"
    if dead:
        return ALLOC_CLIENT_COMPLETE, "All tasks have completed"
    return "", ""


def group_tasks(alloc: Allocation) -> list[Task]:
    tg = alloc.Job.lookup_task_group(alloc.TaskGroup) if alloc.Job else None
    return list(tg.Tasks or []) if tg else []


class AllocRunner:
    """Runs one allocation. `on_update(runner)` is called whenever its status changes."""

    def __init__(self, *, alloc: Allocation, node: Node | None, drivers: dict[str, Driver],
                 config: ClientConfig, clock: Clock, db: StateDB | None = None,
                 on_update: Callable[["AllocRunner"], None] = lambda ar: None,
                 restored: dict[str, TaskLocalState] | None = None,
                 host_env: dict[str, str] | None = None, rpc=None):
        self.alloc = alloc
        self.id = alloc.ID
        self.node = node
        self.config = config
        self.clock = clock
        self.db = db
        self.on_update = on_update
        self.alloc_dir = AllocDir(config.alloc_root, alloc.ID)
        self.tasks: dict[str, TaskRunner] = {}
        self._wake = asyncio.Event()
        self._main: asyncio.Task | None = None
        self._runs: list[asyncio.Task] = []
        self._killing = False
        self._destroyed = False
        self.client_status, self.client_description = ALLOC_CLIENT_PENDING, ""
        self.deployment_status: AllocDeploymentStatus | None = None
        self.health: Tracker | None = None
        self._health_timer: asyncio.Task | None = None
        self._health_due: float | None = None
        self.services = ServiceHook(alloc, node, rpc)
        for task in group_tasks(alloc):
            self.tasks[task.Name] = TaskRunner(
                alloc=alloc, task=task, alloc_dir=self.alloc_dir, driver=drivers.get(task.Driver),
                node=node, config=config, clock=clock, db=db, on_change=self._task_changed,
                local=(restored or {}).get(task.Name), host_env=host_env, rpc=rpc)
        self._recompute_status()

    # -- status ---------------------------------------------------------------
    def task_states(self) -> dict[str, TaskState]:
        return {name: tr.state for name, tr in self.tasks.items()}

    def _recompute_status(self) -> None:
        status, desc = client_status(self.task_states())
        if status:
            self.client_status, self.client_description = status, desc

    def _task_changed(self, tr: TaskRunner) -> None:
        self._recompute_status()
        if self.client_status == ALLOC_CLIENT_RUNNING and not self._killing:
            self.services.running()
        self._observe_health()
        self._wake.set()
        self.on_update(self)

    def is_done(self) -> bool:
        """True when every task runner has finished."""
        return all(tr.done for tr in self.tasks.values())

    def terminal(self) -> bool:
        return self.client_status in (ALLOC_CLIENT_COMPLETE, ALLOC_CLIENT_FAILED)

    def client_alloc(self) -> Allocation:
        """The client's view sent to the server in Node.UpdateAlloc."""
        return Allocation(ID=self.id, NodeID=self.alloc.NodeID, ClientStatus=self.client_status,
                          ClientDescription=self.client_description,
                          TaskStates=self.task_states(),
                          DeploymentStatus=self.deployment_status,
                          NetworkStatus=None)

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        """Start the runner's background work (returns at once)."""
        if self.db is not None:
            self.db.put_alloc(self.alloc)
        if not self.alloc.server_terminal() or any(
                tr.handle is not None for tr in self.tasks.values()):
            self.alloc_dir.build(list(self.tasks))
        self._main = asyncio.ensure_future(self._run())
        self._track_health()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        self._runs = [loop.create_task(tr.run(), name=f"task {self.id[:8]}/{name}")
                      for name, tr in self.tasks.items()]
        if self.alloc.server_terminal() or self.terminal():
            await self._kill_all(event_type=ev.KILLING)
        while not self.is_done():
            self._wake.clear()
            self._update_gates()
            await self._handle_task_states()
            if self.is_done():
                break
            await self._wake.wait()
        self._recompute_status()
        self._stop_health()
        self.services.stop()
        self.on_update(self)

    def _update_gates(self) -> None:
        """Open lifecycle start gates (Nomad's task coordinator)."""
        by_hook: dict[str, list[TaskRunner]] = {"prestart": [], "": [], "poststart": [],
                                                "poststop": []}
        for tr in self.tasks.values():
            by_hook.setdefault(tr.hook, []).append(tr)
        for tr in by_hook["prestart"]:
            tr.start_gate.set()
        if self._killing:
            if all(tr.done or tr.dead for h, trs in by_hook.items() if h != "poststop"
                   for tr in trs):
                for tr in by_hook["poststop"]:
                    tr.start_gate.set()
            return
        prestart_ok = all((tr.dead and not tr.state.Failed) if not tr.is_sidecar
                          else tr.state.State == TASK_STATE_RUNNING
                          for tr in by_hook["prestart"])
        if prestart_ok:
            for tr in by_hook[""]:
                tr.start_gate.set()
        main = by_hook[""]
        if main and all(tr.state.State == TASK_STATE_RUNNING or tr.dead for tr in main) \
                and any(tr.state.StartedAt != ZERO_TIME for tr in main):
            for tr in by_hook["poststart"]:
                tr.start_gate.set()
        others = [tr for h, trs in by_hook.items() if h != "poststop" for tr in trs]
        if all(tr.dead for tr in others):
            for tr in by_hook["poststop"]:
                tr.start_gate.set()

    async def _handle_task_states(self) -> None:
        """Kill the group on leader death / task failure / only sidecars left."""
        if self._killing:
            return
        kill_event: TaskEvent | None = None
        live: list[TaskRunner] = []
        has_sidecars = any(tr.is_sidecar for tr in self.tasks.values())
        now = self.clock.now_ns()
        for name, tr in self.tasks.items():
            if tr.is_poststop:
                continue
            if not tr.dead:
                live.append(tr)
                continue
            if tr.state.Failed:
                if kill_event is None:
                    kill_event = ev.new_event(ev.SIBLING_FAILED, now, FailedSibling=name)
            elif tr.is_leader:
                kill_event = ev.new_event(ev.LEADER_DEAD, now)
        if not live:
            return
        if kill_event is None and has_sidecars and all(tr.is_sidecar for tr in live):
            kill_event = ev.new_event(ev.MAIN_DEAD, now)
        if kill_event is None:
            return
        for tr in live:
            tr.emit_event(msgspec.structs.replace(kill_event))
        await self._kill_all(event_type=ev.KILLING)

    async def _kill_all(self, event_type: str | None) -> None:
        """Nomad's killTasks: leader first, then the others, then sidecars."""
        self._killing = True
        self.services.stop()

        def kill_event(tr: TaskRunner) -> TaskEvent | None:
            if event_type is None or tr.state.FinishedAt != ZERO_TIME:
                return None
            return ev.new_event(ev.KILLING, self.clock.now_ns(),
                                KillTimeout=int(tr.kill_timeout_s * 1e9))

        runners = [tr for tr in self.tasks.values() if not tr.is_poststop]
        leaders = [tr for tr in runners if tr.is_leader]
        normal = [tr for tr in runners if not tr.is_leader and not tr.is_sidecar]
        sidecars = [tr for tr in runners if tr.is_sidecar and not tr.is_leader]
        for group in (leaders, normal, sidecars):
            await asyncio.gather(*(tr.kill(kill_event(tr)) for tr in group))
        self._wake.set()

    # -- deployment health (Nomad's allocHealthWatcherHook) ----------------------------
    def _track_health(self) -> None:
        """Start a health tracker when the alloc needs one (the hook's init)."""
        self._stop_health()
        if self.alloc.server_terminal() or self.deployment_status is not None:
            return
        params = health_params(self.alloc)
        if params is None:
            return
        self.health = Tracker(params, tracked_tasks(group_tasks(self.alloc)),
                              clock=self.clock.monotonic)
        self._observe_health()

    def _update_health(self, new_deployment: bool) -> None:
        """The hook's Update: a new deployment clears health and tracks it again; a
        stopped alloc or health already set on the server ends tracking."""
        status = self.alloc.DeploymentStatus
        server_health = status is not None and status.has_health()
        if new_deployment or server_health:
            self.deployment_status = None
        if new_deployment or server_health or self.alloc.server_terminal():
            self._track_health()

    def _observe_health(self) -> None:
        if self.health is not None:
            self.health.observe(self.task_states(), self.client_status)
            self._health_progress()

    def _health_progress(self) -> None:
        """Record the tracker's decision, or arm the timer for its next check."""
        tracker = self.health
        if tracker is None:
            return
        due = tracker.next_check()
        if due is not None:
            self._arm_health_timer(due)
            return
        self._stop_health()
        self._set_health(tracker)

    def _arm_health_timer(self, due: float) -> None:
        if self._health_timer is not None and self._health_due == due:
            return
        if self._health_timer is not None:
            self._health_timer.cancel()
        self._health_due = due
        self._health_timer = asyncio.ensure_future(self._health_wait(due))

    async def _health_wait(self, due: float) -> None:
        await self.clock.sleep(max(0.0, due - self.clock.monotonic()))
        self._health_timer = self._health_due = None
        if self.health is not None:
            self.health.check()
            self._health_progress()

    def _set_health(self, tracker: Tracker) -> None:
        """Nomad's SetHealth: keep the decision, explain an unhealthy one in task events,
        and send the alloc to the server."""
        now = self.clock.now_ns()
        healthy = bool(tracker.healthy)
        self.deployment_status = AllocDeploymentStatus(Healthy=healthy,
                                                       Timestamp=format_rfc3339(now))
        for name, message in tracker.task_events().items():
            self.tasks[name].emit_event(ev.new_event(ALLOC_UNHEALTHY_EVENT, now,
                                                     Message=message), notify=False)
        log.info("alloc %s: deployment health set: healthy=%s", self.id[:8], healthy)
        self.on_update(self)

    def _stop_health(self) -> None:
        self.health = None
        if self._health_timer is not None:
            self._health_timer.cancel()
        self._health_timer = self._health_due = None

    # -- requests from the client ---------------------------------------------------
    def update(self, alloc: Allocation) -> None:
        """A newer version of the allocation from the server."""
        was_terminal = self.alloc.server_terminal()
        new_deployment = alloc.DeploymentID != self.alloc.DeploymentID
        self.alloc = self.services.alloc = alloc
        for tr in self.tasks.values():
            tr.alloc = alloc
        if self.db is not None:
            self.db.put_alloc(alloc)
        self._update_health(new_deployment)
        if alloc.server_terminal() and not was_terminal and not self._killing:
            asyncio.ensure_future(self._kill_all(event_type=ev.KILLING))

    def _targets(self, task: str | None) -> list[TaskRunner]:
        if task is None:
            return [tr for tr in self.tasks.values() if tr.handle is not None and not tr.dead]
        if task not in self.tasks:
            raise KeyError(f"Failed to find task {task!r}")
        return [self.tasks[task]]

    async def signal(self, sig: str, task: str | None = None) -> None:
        """Signal one task, or every running task."""
        for tr in self._targets(task):
            await tr.signal(sig)

    async def restart(self, task: str | None = None) -> None:
        """Restart one task, or every running task, without counting a failure."""
        for tr in self._targets(task):
            await tr.restart("User requested task to restart" if task
                             else "User requested running tasks to restart")

    async def stop(self) -> None:
        """Kill every task (as for desired status stop) and wait for the runner."""
        self._stop_health()
        if not self._killing:
            await self._kill_all(event_type=ev.KILLING)
        await self.wait()

    async def wait(self) -> None:
        if self._main is not None:
            await asyncio.shield(self._main)

    async def destroy(self) -> None:
        """Stop, then delete the alloc dir and the stored state (client GC)."""
        if self._destroyed:
            return
        self._destroyed = True
        await self.stop()
        self.alloc_dir.destroy()
        if self.db is not None:
            self.db.delete_alloc(self.id)

    async def shutdown(self) -> None:
        """Agent shutdown: stop supervising but leave the tasks running."""
        self._stop_health()
        for t in self._runs + ([self._main] if self._main else []):
            t.cancel()
        await asyncio.gather(*self._runs, *([self._main] if self._main else []),
                             return_exceptions=True)
