"""Task runner: runs one task of an allocation through its driver and restart policy.

Follows Nomad's `client/allocrunner/taskrunner`: the Received event on creation,
"Building Task Directory" on first setup, Started/Terminated/Restarting/Not Restarting/
Killed events, TaskState pending → running → dead with Failed, Restarts, StartedAt and
FinishedAt. Every change is persisted (state DB) and reported to the alloc runner.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Callable

from pynomad.structs import (TASK_STATE_DEAD, TASK_STATE_PENDING, TASK_STATE_RUNNING,
                             ZERO_TIME, Allocation, Node, RestartPolicy, Task, TaskEvent,
                             TaskState, default_restart_policy)

from pynomad.structs import rpc as r
from pynomad.structs.rpc import RPC

from . import events as ev
from .allocdir import AllocDir
from ..helper.clock import Clock
from .config import ClientConfig
from .dispatch_hook import DispatchPayloadError, write_dispatch_payload
from .driver import (Driver, DriverError, ExecOptions, ExitResult, TaskConfig, TaskHandle,
                     TaskNotRunningError)
from ..helper.goformat import SECOND, format_rfc3339
from .restarts import KILLED, NOT_RESTARTING, RESTARTING, RestartTracker
from .state import StateDB, TaskLocalState
from .taskenv import TaskDirs, TaskEnv, build_env
from .template_hook import MissingVariable, RemoteVars, TemplateError, render_templates

log = logging.getLogger(__name__)

DEFAULT_KILL_TIMEOUT_S = 5.0
TEMPLATE_RETRY_S = 2.0      # how often a template waiting for a Nomad variable retries
TEMPLATE_EVENT = "Template"


class _KilledWaiting(Exception):
    """The task was killed while its templates waited for data."""


def restart_policy(alloc: Allocation, task: Task) -> RestartPolicy:
    """The task's effective restart policy (task over group over job-type default)."""
    job_type = (alloc.Job.Type if alloc.Job else None) or "service"
    policy = default_restart_policy(job_type)
    tg = alloc.Job.lookup_task_group(alloc.TaskGroup) if alloc.Job else None
    for override in ((tg.RestartPolicy if tg else None), task.RestartPolicy):
        if override is None:
            continue
        for name in override.__struct_fields__:
            value = getattr(override, name)
            if value is not None:
                setattr(policy, name, value)
    return policy


class TaskRunner:
    """Runs one task; `run()` returns when the task is dead (or the agent shuts down)."""

    def __init__(self, *, alloc: Allocation, task: Task, alloc_dir: AllocDir,
                 driver: Driver | None, node: Node | None, config: ClientConfig,
                 clock: Clock, db: StateDB | None = None,
                 on_change: Callable[["TaskRunner"], None] = lambda tr: None,
                 local: TaskLocalState | None = None, host_env: dict[str, str] | None = None,
                 rpc: RPC | None = None):
        self.alloc = alloc
        self.rpc = rpc          # the server RPC, for templates' Nomad variables
        self.task = task
        self.alloc_dir = alloc_dir
        self.driver = driver
        self.node = node
        self.config = config
        self.clock = clock
        self.db = db
        self.on_change = on_change
        self.host_env = dict(os.environ) if host_env is None else host_env
        self.local = local or TaskLocalState()
        self.restored = local is not None
        job_type = (alloc.Job.Type if alloc.Job else None) or "service"
        lc = task.Lifecycle
        self.tracker = RestartTracker(restart_policy(alloc, task), job_type,
                                      lc.Hook if lc else "", lc.Sidecar if lc else False,
                                      clock=clock.monotonic)
        self.start_gate = asyncio.Event()
        self._kill = asyncio.Event()
        self._restart = asyncio.Event()
        self._done = asyncio.Event()
        self.kill_err = ""
        if not self.restored:
            self.emit_event(ev.new_event(ev.RECEIVED, clock.now_ns()), notify=False)

    # -- properties -----------------------------------------------------------
    @property
    def name(self) -> str:
        return self.task.Name

    @property
    def state(self) -> TaskState:
        return self.local.State

    @property
    def handle(self) -> TaskHandle | None:
        return self.local.Handle

    @property
    def hook(self) -> str:
        return self.task.Lifecycle.Hook if self.task.Lifecycle else ""

    @property
    def is_sidecar(self) -> bool:
        return bool(self.task.Lifecycle and self.task.Lifecycle.Sidecar)

    @property
    def is_poststop(self) -> bool:
        return self.hook == "poststop"

    @property
    def is_leader(self) -> bool:
        return bool(self.task.Leader)

    @property
    def dead(self) -> bool:
        return self.state.State == TASK_STATE_DEAD

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def kill_timeout_s(self) -> float:
        t = self.task.KillTimeout
        t_s = DEFAULT_KILL_TIMEOUT_S if t is None else t / SECOND
        return min(t_s, self.config.max_kill_timeout_s)

    # -- state ----------------------------------------------------------------
    def _persist(self) -> None:
        if self.db is not None:
            try:
                self.db.put_task(self.alloc.ID, self.name, self.local)
            except OSError as e:
                log.warning("task %s: persisting state failed: %s", self.name, e)

    def emit_event(self, event: TaskEvent, notify: bool = True) -> None:
        """Append an event (Nomad's appendEvent), persist and notify."""
        st = self.state
        if event.FailsTask:
            st.Failed = True
        if event.Type == ev.RESTARTING:
            st.Restarts += 1
            st.LastRestart = format_rfc3339(event.Time)
        st.Events = (list(st.Events) + [event])[-self.config.max_task_events:]
        log.info("task %s/%s: %s: %s", self.alloc.ID[:8], self.name, event.Type,
                 event.DisplayMessage)
        self._persist()
        if notify:
            self.on_change(self)

    def update_state(self, state: str, event: TaskEvent | None = None) -> None:
        """Nomad's UpdateState: optional event, transition timestamps, persist, notify."""
        st = self.state
        old = st.State
        if event is not None:
            self.emit_event(event, notify=False)
        st.State = state
        now = format_rfc3339(self.clock.now_ns())
        if state == TASK_STATE_RUNNING and old != TASK_STATE_RUNNING:
            st.StartedAt = now
        elif state == TASK_STATE_DEAD and st.FinishedAt in ("", ZERO_TIME):
            st.FinishedAt = now
        self._persist()
        self.on_change(self)

    def _event(self, type_: str, **fields) -> TaskEvent:
        return ev.new_event(type_, self.clock.now_ns(), **fields)

    # -- control from the alloc runner ------------------------------------------
    async def kill(self, event: TaskEvent | None = None, wait: bool = True) -> None:
        """Stop the task for good (no restart); emits `event` first when given."""
        self._kill.set()
        if event is not None and not self.dead:
            self.emit_event(event)
        if wait:
            await self._done.wait()

    async def restart(self, reason: str = "", failure: bool = False) -> None:
        """Restart the running task (`nomad alloc restart`); raises if it is not running."""
        if self.local.Handle is None or self.dead:
            raise DriverError("Task not running")
        self.emit_event(self._event(ev.RESTART_SIGNAL, RestartReason=reason))
        self.tracker.set_restart_triggered(failure)
        self._restart.set()

    async def signal(self, sig: str, reason: str = "") -> None:
        """Send a signal to the running task (`nomad alloc signal`)."""
        handle = self.local.Handle
        if handle is None or self.driver is None or self.dead:
            raise DriverError("Task not running")
        self.emit_event(self._event(ev.SIGNALING, TaskSignal=sig, TaskSignalReason=reason))
        await self.driver.signal(handle, sig)

    async def exec(self, opts: ExecOptions) -> ExitResult:
        """Run a command beside the task (`nomad alloc exec`); raises if it is not running."""
        handle = self.local.Handle
        if handle is None or self.driver is None or self.dead:
            raise TaskNotRunningError(f"task {self.name!r} is not running")
        return await self.driver.exec_streaming(handle, opts)

    # -- the run loop -----------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._run()
        finally:
            self._done.set()

    async def _run(self) -> None:
        if self.dead:
            if self.local.Handle is not None:
                self.local.Handle = None
                self._persist()
            self.on_change(self)
            return
        recovered = self._recover()
        self.on_change(self)
        if not recovered and not await self._wait_gate():
            return await self._finish()
        while not self._kill.is_set():
            if not recovered:
                if not await self._start_once():
                    if await self._restart_or_stop():
                        continue
                    break
            recovered = False
            result = await self._wait_or_kill()
            self._exited(result)
            if self._kill.is_set():
                self.tracker.set_killed()
            else:
                self.tracker.set_exit_result(result)
            if not await self._restart_or_stop():
                break
        await self._finish()

    def _recover(self) -> bool:
        handle = self.local.Handle
        if handle is None or self.driver is None:
            return False
        try:
            ok = self.driver.recover(handle)
        except Exception as e:  # noqa: BLE001 - a driver bug must not kill the client
            log.warning("task %s: recover failed: %s", self.name, e)
            ok = False
        if not ok:
            log.info("task %s: could not re-attach to the task; starting it again", self.name)
            self.local.Handle = None
            self._persist()
            return False
        self.start_gate.set()
        if self.state.State != TASK_STATE_RUNNING:
            self.update_state(TASK_STATE_RUNNING)
        return True

    async def _wait_gate(self) -> bool:
        """Wait for the lifecycle start condition; False if killed first."""
        if self.start_gate.is_set():
            return True
        return await self._race(self.start_gate.wait())

    async def _race(self, aw) -> bool:
        """Await `aw` unless the task is killed first; True if `aw` finished."""
        if self._kill.is_set():
            if asyncio.iscoroutine(aw):
                aw.close()
            return False
        job = asyncio.ensure_future(aw)
        killer = asyncio.ensure_future(self._kill.wait())
        try:
            await asyncio.wait({job, killer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (job, killer):
                if not fut.done():
                    fut.cancel()
        return job.done() and not job.cancelled()

    async def _finish(self) -> None:
        """Kill a still-running workload, mark dead and complete (Nomad's Run tail)."""
        if self.local.Handle is not None and self.driver is not None:
            result = await self._stop_and_wait(self.local.Handle)
            self._exited(result)
        self.update_state(TASK_STATE_DEAD)
        self.local.RunComplete = True
        self._persist()

    # -- start ----------------------------------------------------------------------
    def _task_config(self, env: TaskEnv) -> TaskConfig:
        td = self.alloc_dir.task_dir(self.name)
        res = self.task.Resources
        logs = self.task.LogConfig
        cfg = env.interpolate(dict(self.task.Config or {}))
        return TaskConfig(
            id=f"{self.alloc.ID}/{self.name}/{self.local.Attempt}", alloc_id=self.alloc.ID,
            task_name=self.name, job_name=(self.alloc.Job.Name or "") if self.alloc.Job else "",
            group_name=self.alloc.TaskGroup, env=env.env, config=cfg,
            alloc_dir=self.alloc_dir.shared_dir, task_dir=td.dir, local_dir=td.local_dir,
            secrets_dir=td.secrets_dir, log_dir=self.alloc_dir.log_dir,
            stdout_path=self.alloc_dir.log_base(self.name, "stdout"),
            stderr_path=self.alloc_dir.log_base(self.name, "stderr"),
            log_max_files=(logs.MaxFiles if logs and logs.MaxFiles else 10),
            log_max_file_size_mb=(logs.MaxFileSizeMB if logs and logs.MaxFileSizeMB else 10),
            logs_disabled=bool(logs and logs.Disabled), user=self.task.User,
            cpu=(res.CPU or 0) if res else 0, memory_mb=(res.MemoryMB or 0) if res else 0,
            memory_max_mb=(res.MemoryMaxMB or 0) if res else 0)

    async def _prestart(self) -> TaskConfig:
        """Build the task directory (event on first run) and the driver's TaskConfig."""
        if self.local.Attempt == 0:
            self.emit_event(self._event(ev.TASK_SETUP, Message=ev.BUILDING_TASK_DIR))
        self.alloc_dir.build()
        td = self.alloc_dir.task_dir(self.name)
        td.build()
        if getattr(self.driver, "fs_isolation", "none") == "none":
            dirs = TaskDirs(self.alloc_dir.shared_dir, td.local_dir, td.secrets_dir)
        else:   # the task sees its directories where its chroot puts them
            dirs = TaskDirs("/alloc", "/local", "/secrets")
        env = build_env(self.alloc, self.task, self.node, dirs, host_env=self.host_env)
        write_dispatch_payload(self.task, self.alloc.Job, td.local_dir)
        env.env.update(await self._render_templates(td.dir, env))
        return self._task_config(env)

    async def _render_templates(self, task_dir: str, env: TaskEnv) -> dict[str, str]:
        """Render in a worker thread (see template_hook); while a Nomad variable a
        template reads is missing, wait and retry like Nomad (the task stays pending)."""
        if not self.task.Templates:
            return {}
        announced = ""
        while True:
            try:
                return await asyncio.to_thread(render_templates, self.task.Templates,
                                               task_dir, env, self._variables())
            except MissingVariable as e:
                missing = f"nomad.var.block({e.path}@{self.alloc.Namespace or 'default'}.global)"
                if missing != announced:
                    announced = missing
                    self.emit_event(self._event(TEMPLATE_EVENT,
                                                DisplayMessage=f"Missing: {missing}"))
            if not await self._race(self.clock.sleep(TEMPLATE_RETRY_S)):
                raise _KilledWaiting()

    def _variables(self) -> RemoteVars | None:
        """Nomad variables and services through the server RPC (Variables.Read /
        Variables.List, ServiceRegistration.List in the allocation's namespace)."""
        rpc = self.rpc
        if rpc is None:
            return None
        alloc_id, secret = self.alloc.ID, self.node.SecretID if self.node else ""

        async def read(path: str) -> dict | None:
            reply = await rpc.call(r.VARIABLES_READ, r.VariablesReadArgs(
                AllocID=alloc_id, Task=self.name, Path=path, NodeSecretID=secret),
                r.VariableReply)
            return reply.get("Data")

        async def list_(prefix: str) -> list[dict]:
            reply = await rpc.call(r.VARIABLES_LIST, r.VariablesListArgs(
                AllocID=alloc_id, Task=self.name, Prefix=prefix, NodeSecretID=secret),
                r.VariableReply)
            return reply.get("Data") or []

        async def services(name: str) -> list[dict]:
            reply = await rpc.call(r.SERVICE_LIST, r.ServiceListArgs(
                AllocID=alloc_id, ServiceName=name, NodeSecretID=secret), r.ServicesReply)
            return reply.get("Services") or []

        return RemoteVars(asyncio.get_running_loop(), read, list_, services=services)

    async def _start_once(self) -> bool:
        """One start attempt; False (with the tracker told why) if it failed."""
        try:
            cfg = await self._prestart()
        except _KilledWaiting:
            self.tracker.set_killed()
            return False
        except (OSError, TemplateError, DispatchPayloadError) as e:
            self.emit_event(self._event(ev.SETUP_FAILURE, SetupError=str(e), FailsTask=True))
            self.tracker.set_start_error(DriverError(str(e)))
            return False
        if self.driver is None:
            err = DriverError(f'failed to find driver "{self.task.Driver}"')
            self.emit_event(self._event(ev.DRIVER_FAILURE, DriverError=str(err)))
            self.tracker.set_start_error(err)
            return False
        self.local.Attempt += 1
        try:
            handle = await self.driver.start(cfg)
        except DriverError as e:
            self.emit_event(self._event(ev.DRIVER_FAILURE, DriverError=str(e)))
            self.tracker.set_start_error(e)
            return False
        except Exception as e:  # noqa: BLE001 - report any driver bug as a failure
            self.emit_event(self._event(ev.DRIVER_FAILURE, DriverError=str(e)))
            self.tracker.set_start_error(DriverError(str(e)))
            return False
        self.local.Handle = handle
        self._persist()
        self.update_state(TASK_STATE_RUNNING, self._event(ev.STARTED))
        return True

    # -- wait / kill ------------------------------------------------------------------
    async def _driver_wait(self, handle: TaskHandle) -> ExitResult:
        assert self.driver is not None
        try:
            return await self.driver.wait(handle)
        except DriverError as e:
            return ExitResult(exit_code=-1, err=str(e))

    async def _wait_or_kill(self) -> ExitResult:
        handle = self.local.Handle
        assert handle is not None
        waiter = asyncio.ensure_future(self._driver_wait(handle))
        killer = asyncio.ensure_future(self._kill.wait())
        restarter = asyncio.ensure_future(self._restart.wait())
        try:
            await asyncio.wait({waiter, killer, restarter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            killer.cancel()
            restarter.cancel()
            if not waiter.done():
                waiter.cancel()
        self._restart.clear()
        if waiter.done() and not waiter.cancelled():
            return waiter.result()
        return await self._stop_and_wait(handle)

    async def _stop_and_wait(self, handle: TaskHandle) -> ExitResult:
        assert self.driver is not None
        try:
            await self.driver.stop(handle, self.kill_timeout_s, self.task.KillSignal or "SIGINT")
        except DriverError as e:
            self.kill_err = str(e)
            log.warning("task %s: stop failed: %s", self.name, e)
        return await self._driver_wait(handle)

    def _exited(self, result: ExitResult) -> None:
        """Emit Terminated and forget the handle."""
        self.emit_event(self._event(ev.TERMINATED, ExitCode=result.exit_code,
                                    Signal=result.signal, Message=result.err,
                                    OOMKilled=result.oom_killed))
        handle = self.local.Handle
        self.local.Handle = None
        self._persist()
        if handle is not None and self.driver is not None:
            asyncio.ensure_future(self._destroy(handle))

    async def _destroy(self, handle: TaskHandle) -> None:
        try:
            assert self.driver is not None
            await self.driver.destroy(handle)
        except Exception as e:  # noqa: BLE001
            log.debug("task %s: destroy failed: %s", self.name, e)

    # -- restart decision ----------------------------------------------------------------
    async def _restart_or_stop(self) -> bool:
        """Nomad's shouldRestart + the restart delay; True to start again."""
        state, delay = self.tracker.get_state()
        reason = self.tracker.reason
        if state == KILLED:
            self.emit_event(self._event(ev.KILLED, KillError=self.kill_err))
            return False
        if state == NOT_RESTARTING:
            self.update_state(TASK_STATE_DEAD, self._event(
                ev.NOT_RESTARTING, RestartReason=reason, FailsTask=True))
            return False
        if state != RESTARTING:
            return False
        self.update_state(TASK_STATE_PENDING, self._event(
            ev.RESTARTING, StartDelay=int(delay * SECOND), RestartReason=reason))
        return await self._race(self.clock.sleep(delay))

