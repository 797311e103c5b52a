"""The leader's duties (Nomad's leader.go), started and stopped together.

When the backend makes this server the leader, `LeaderDuties.start` enables the eval broker
and the blocked-evals tracker and fills them from the state, arms every live node's
heartbeat timer with Nomad's failover TTL (clients get time to find the new leader),
bootstraps the scheduler configuration and the root keyring, hands the FSM its hooks (an applied entry that
upserts evaluations enqueues them here), and starts the loops: scheduling workers, the
failed-eval reaper, the periodic dispatcher, the deployment watcher, the node drainer and
the core GC. `stop` undoes all of it at once when leadership is lost.

`watch_loop` is the one loop shape of the drainer and the deployment watcher.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from msgspec.structs import replace

from ..structs import (EVAL_STATUS_BLOCKED, EVAL_STATUS_CANCELED, EVAL_STATUS_COMPLETE,
                       EVAL_STATUS_PENDING, Evaluation)
from ..state import entries as e
from .heartbeat import FAILOVER_HEARTBEAT_TTL_S
from .keyring import keyring

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.server")


async def watch_loop(name: str, server: "Server", tables: tuple[str, ...], tick_s: float,
                     coalesce_s: float, active: Callable[[], bool],
                     step: Callable[[], Awaitable[object]]) -> None:
    """Run `step` whenever `tables` change (or every `tick_s`) while `active()` holds,
    after letting a burst of writes settle for `coalesce_s`. A failing step is logged and
    retried after `tick_s`; cancellation (leadership lost) stops the loop."""
    index = 0
    while True:
        try:
            index = await server.watcher.wait_change(tables, index, tick_s)
            if not active():
                continue
            await server.clock.sleep(coalesce_s)
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s step failed", name)
            await server.clock.sleep(tick_s)


class LeaderDuties:
    """Everything only the leader does; also the FSM's `LeaderHooks`."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.active = False
        self._tasks: list[asyncio.Task] = []

    # -- start / stop ---------------------------------------------------------------------
    async def start(self) -> None:
        srv = self.server
        srv.broker.set_enabled(True)
        srv.blocked.set_enabled(True)
        self.active = True
        self.restore_evals()
        for node in srv.state.nodes.values():
            if node.Status != "down":
                srv.heartbeats.reset(node.ID, FAILOVER_HEARTBEAT_TTL_S)
        srv.fsm.leader = self
        await srv.operator.bootstrap()
        await keyring(srv).initialize()
        keyring(srv).resume()
        loops: list[Awaitable[None]] = [srv.worker.reap_failed(), srv.periodic.run(),
                                        srv.deployment_watcher.run(), srv.drainer.run(),
                                        srv.core_gc.run()]
        loops += [srv.worker.run() for _ in range(max(1, srv.config.num_schedulers))]
        self._tasks = [asyncio.create_task(loop) for loop in loops]

    async def stop(self) -> None:
        srv = self.server
        self.active = False
        srv.fsm.leader = None
        keyring(srv).stop()
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        srv.worker.close()
        srv.heartbeats.clear_all()
        srv.blocked.set_enabled(False)
        srv.broker.set_enabled(False)
        srv.periodic.reset()

    def restore_evals(self) -> None:
        """Hand every pending and blocked evaluation in the state to the broker and the
        blocked tracker (a new leader, or a restored snapshot)."""
        for ev in sorted(self.server.state.evals.values(), key=lambda x: x.CreateIndex):
            self._track(ev)

    # -- LeaderHooks: what applied entries ask of the leader ----------------------------------
    def evals_upserted(self, evals: list[Evaluation]) -> None:
        for ev in evals:
            self._track(ev)

    def _track(self, ev: Evaluation) -> None:
        srv = self.server
        if ev.Status == EVAL_STATUS_PENDING:
            srv.broker.enqueue(ev)
        elif ev.Status == EVAL_STATUS_BLOCKED:
            old = srv.blocked.block(ev)
            if old is not None:
                self._spawn(self.cancel_evals([old], "existing blocked evaluation exists for job"))
        elif ev.Status == EVAL_STATUS_COMPLETE and not ev.FailedTGAllocs:
            srv.blocked.untrack(ev.Namespace, ev.JobID)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)  # type: ignore[arg-type]
        self._tasks.append(task)
        task.add_done_callback(lambda t: t in self._tasks and self._tasks.remove(t))

    async def cancel_evals(self, evals: list[Evaluation], desc: str) -> None:
        done = [replace(ev, Status=EVAL_STATUS_CANCELED, StatusDescription=desc) for ev in evals]
        if done:
            await self.server.commit(e.EvalUpdate(Evals=done), leader_only=True)
