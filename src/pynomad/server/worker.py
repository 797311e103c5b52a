"""Scheduling workers (Nomad's worker.go), a leader duty.

A worker dequeues an evaluation from the broker, waits until the state has reached the
evaluation's index, and runs the scheduler for its type against a snapshot of the state
(`StateStore.snapshot()`), never the live store, in a thread off the event loop: the loop
keeps answering health checks, RPCs and other requests while a large job is placed. Each
plan the scheduler yields is submitted, on the loop, to the plan applier
(`Server.submit_plan`, the one writer of placements); the snapshot is then refreshed and
the scheduler resumes in its thread. The evaluation's outcome is committed and the
evaluation acked (nacked on error). Evaluations past the broker's delivery limit are
marked failed with a delayed follow-up.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from msgspec.structs import replace

from ..structs import (EVAL_STATUS_FAILED, EVAL_STATUS_PENDING, TRIGGER_FAILED_FOLLOW_UP,
                       Evaluation, Plan, PlanResult, generate_uuid, pack_alloc)
from .broker import FAILED_QUEUE, BrokerError, failed_followup_delay

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.server")

SCHEDULER_TYPES = ["service", "batch", "system", "sysbatch"]
PAUSED_POLL_S = 0.2
GIL_SWITCH_INTERVAL_S = 0.001
DEQUEUE_TIMEOUT_S = 0.5


class Worker:
    def __init__(self, server: "Server") -> None:
        self.server = server
        self._pool: ThreadPoolExecutor | None = None

    def _threads(self) -> ThreadPoolExecutor:
        if self._pool is None:
            # hand the GIL back to the event loop thread sooner than Python's 5 ms default
            # while a scheduler thread computes (health and RPCs answer in milliseconds)
            sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
            self._pool = ThreadPoolExecutor(max(1, self.server.config.num_schedulers),
                                            thread_name_prefix="scheduler")
        return self._pool

    def close(self) -> None:
        """Let the scheduler threads end (a running slice finishes on its own)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def run(self) -> None:
        srv = self.server
        while True:
            if srv.operator.scheduler_config().PauseEvalBroker:
                await srv.clock.sleep(PAUSED_POLL_S)
                continue
            got = await srv.broker.dequeue(SCHEDULER_TYPES, timeout=DEQUEUE_TIMEOUT_S)
            if got is None:
                continue
            ev, token = got
            try:
                await self.process(ev)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("error processing evaluation %s", ev.ID)
                _settle(srv.broker.nack, ev.ID, token)
                continue
            canceled = _settle(srv.broker.ack, ev.ID, token)
            if canceled:
                await srv.leader.cancel_evals(canceled,
                                              "canceled after more recent eval was processed")

    async def process(self, ev: Evaluation) -> None:
        srv = self.server
        await srv.watcher.wait_index(ev.ModifyIndex)
        loop = asyncio.get_running_loop()
        with srv.state.snapshot() as snap:
            gen = srv.new_scheduler(ev.Type, snap).process(ev)
            reply: PlanResult | None = None
            while True:
                done, out = await loop.run_in_executor(self._threads(), _resume, gen, reply)
                if done:
                    break
                reply = await srv.submit_plan(out)
                snap.refresh()  # the scheduler goes on from the state its plan made
        await srv.commit_evals([out.eval] + out.create_evals, leader_only=True)

    async def reap_failed(self) -> None:
        """Evals past the delivery limit are marked failed, with a delayed follow-up."""
        srv = self.server
        while True:
            got = await srv.broker.dequeue([FAILED_QUEUE], timeout=1.0)
            if got is None:
                continue
            ev, token = got
            failed = replace(ev, Status=EVAL_STATUS_FAILED, StatusDescription=(
                f"evaluation reached delivery limit ({srv.broker.delivery_limit})"))
            follow = Evaluation(ID=generate_uuid(), Namespace=ev.Namespace, Priority=ev.Priority,
                                Type=ev.Type, TriggeredBy=TRIGGER_FAILED_FOLLOW_UP,
                                JobID=ev.JobID, JobModifyIndex=ev.JobModifyIndex,
                                Status=EVAL_STATUS_PENDING, PreviousEval=ev.ID,
                                Wait=failed_followup_delay())
            failed.NextEval = follow.ID
            await srv.commit_evals([failed, follow], leader_only=True)
            _settle(srv.broker.ack, ev.ID, token)


def _resume(gen: Generator[Plan, PlanResult, Any], reply: PlanResult | None
            ) -> tuple[bool, Any]:
    """Run the scheduler (in a worker thread) up to its next plan: (False, plan), or to
    its end: (True, outcome). The plan's new allocations are packed as the state store
    keeps them (`structs.packed`), here rather than on the event loop."""
    try:
        plan = next(gen) if reply is None else gen.send(reply)
    except StopIteration as stop:
        return True, stop.value
    for allocs in plan.NodeAllocation.values():  # the state store keeps them packed:
        for alloc in allocs:                     # pack here, not on the event loop
            pack_alloc(alloc)
    return False, plan


def _settle(fn, eval_id: str, token: str):
    """Ack or nack; the broker may have been rebuilt meanwhile (snapshot restore)."""
    try:
        return fn(eval_id, token)
    except BrokerError:
        return None
