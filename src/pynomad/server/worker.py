"""Scheduling workers (Nomad's worker.go), a leader duty.

A worker dequeues an evaluation from the broker, runs the scheduler for its type, submits
each plan the scheduler yields to the plan applier (`Server.submit_plan`, the one writer of
placements) and commits the evaluation's outcome; then acks it (nacks it on error).
Evaluations past the broker's delivery limit are marked failed with a delayed follow-up.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from msgspec.structs import replace

from ..structs import (EVAL_STATUS_FAILED, EVAL_STATUS_PENDING, TRIGGER_FAILED_FOLLOW_UP,
                       Evaluation, generate_uuid)
from .broker import FAILED_QUEUE, BrokerError, failed_followup_delay

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("pynomad.server")

SCHEDULER_TYPES = ["service", "batch", "system", "sysbatch"]
PAUSED_POLL_S = 0.2
DEQUEUE_TIMEOUT_S = 0.5


class Worker:
    def __init__(self, server: "Server") -> None:
        self.server = server

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
        sched = srv.new_scheduler(ev.Type, srv.state)
        gen = sched.process(ev)
        try:
            plan = next(gen)
            while True:
                plan = gen.send(await srv.submit_plan(plan))
        except StopIteration as stop:
            outcome = stop.value
        await srv.commit_evals([outcome.eval] + outcome.create_evals, leader_only=True)

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


def _settle(fn, eval_id: str, token: str):
    """Ack or nack; the broker may have been rebuilt meanwhile (snapshot restore)."""
    try:
        return fn(eval_id, token)
    except BrokerError:
        return None
