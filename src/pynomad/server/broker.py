"""The eval broker (Nomad's eval_broker.go): at-least-once delivery of evaluations.

Priority heaps per scheduler type, one in-flight evaluation per job (others wait in a
per-job pending heap), ack/nack with a nack timeout and a delivery limit, and evaluations
delayed until their WaitUntil time. Leader-only and in memory.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from ..helper.clock import SYSTEM_CLOCK, Clock, TimerHandle
from ..helper.goformat import parse_rfc3339
from ..structs import Evaluation, generate_uuid

NACK_TIMEOUT_S = 60.0
DELIVERY_LIMIT = 3
INITIAL_NACK_DELAY_S = 1.0
SUBSEQUENT_NACK_DELAY_S = 20.0
FAILED_QUEUE = "_failed"


class BrokerError(Exception):
    pass


class EvalBroker:
    def __init__(self, nack_timeout: float = NACK_TIMEOUT_S,
                 delivery_limit: int = DELIVERY_LIMIT, clock: Clock = SYSTEM_CLOCK) -> None:
        self.nack_timeout = nack_timeout
        self.delivery_limit = delivery_limit
        self.clock = clock
        self.enabled = False
        self._seq = itertools.count()
        self._ready: dict[str, list] = {}
        self._pending: dict[tuple[str, str], list] = {}
        self._job_evals: dict[tuple[str, str], str] = {}
        self._dequeues: dict[str, int] = {}
        self._unack: dict[str, tuple[Evaluation, str, TimerHandle | None]] = {}
        self._timers: dict[str, TimerHandle] = {}
        self._cancelable: list[Evaluation] = []
        self._waiters: list[tuple[set[str], asyncio.Future]] = []

    # -- lifecycle ------------------------------------------------------------------------
    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if not enabled:
            for h in self._timers.values():
                h.cancel()
            for _, _, h in self._unack.values():
                if h:
                    h.cancel()
            self.__init__(self.nack_timeout, self.delivery_limit, self.clock)  # type: ignore[misc]

    def stats(self) -> dict:
        return {"TotalReady": sum(len(h) for h in self._ready.values()),
                "TotalUnacked": len(self._unack),
                "TotalPending": sum(len(h) for h in self._pending.values()),
                "TotalWaiting": len(self._timers)}

    # -- enqueue --------------------------------------------------------------------------
    def enqueue(self, ev: Evaluation) -> None:
        if not self.enabled or ev.ID in self._dequeues:
            return
        self._dequeues[ev.ID] = 0
        delay = _wait_seconds(ev, self.clock.now_ns() / 1e9)
        if delay > 0:
            self._schedule(ev, delay)
        else:
            self._enqueue_ready(ev)

    def _schedule(self, ev: Evaluation, delay: float) -> None:
        self._timers[ev.ID] = self.clock.call_later(delay, self._wait_done, ev)

    def _wait_done(self, ev: Evaluation) -> None:
        self._timers.pop(ev.ID, None)
        if self.enabled:
            self._enqueue_ready(ev)

    def _enqueue_ready(self, ev: Evaluation, queue: str | None = None) -> None:
        key = (ev.Namespace, ev.JobID)
        queue = queue or ev.Type
        if queue != FAILED_QUEUE and ev.JobID:
            owner = self._job_evals.get(key)
            if owner is None:
                self._job_evals[key] = ev.ID
            elif owner != ev.ID:
                heapq.heappush(self._pending.setdefault(key, []),
                               (-ev.Priority, -ev.ModifyIndex, next(self._seq), ev))
                return
        heapq.heappush(self._ready.setdefault(queue, []),
                       (-ev.Priority, ev.CreateIndex, next(self._seq), ev))
        self._wake(queue)

    def _wake(self, queue: str) -> None:
        for i, (types, fut) in enumerate(self._waiters):
            if queue in types and not fut.done():
                fut.set_result(None)
                del self._waiters[i]
                return

    # -- dequeue / ack / nack -----------------------------------------------------------
    async def dequeue(self, types: list[str], timeout: float) -> tuple[Evaluation, str] | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            got = self._take(types)
            if got is not None:
                return got
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            fut = loop.create_future()
            self._waiters.append((set(types), fut))
            try:
                await asyncio.wait({fut}, timeout=remaining)
            finally:
                self._waiters = [w for w in self._waiters if w[1] is not fut]

    def _take(self, types: list[str]) -> tuple[Evaluation, str] | None:
        best = None
        for t in types:
            heap = self._ready.get(t)
            if heap and (best is None or heap[0][:2] < self._ready[best][0][:2]):
                best = t
        if best is None:
            return None
        ev = heapq.heappop(self._ready[best])[3]
        token = generate_uuid()
        self._dequeues[ev.ID] = self._dequeues.get(ev.ID, 0) + 1
        handle = self.clock.call_later(self.nack_timeout, self._nack_expired, ev.ID, token)
        self._unack[ev.ID] = (ev, token, handle)
        return ev, token

    def _nack_expired(self, eval_id: str, token: str) -> None:
        try:
            self.nack(eval_id, token)
        except BrokerError:
            pass

    def _check(self, eval_id: str, token: str):
        entry = self._unack.get(eval_id)
        if entry is None:
            raise BrokerError("Evaluation ID not found")
        if entry[1] != token:
            raise BrokerError("Token does not match for Evaluation ID")
        return entry

    def ack(self, eval_id: str, token: str) -> list[Evaluation]:
        """Complete an evaluation. Returns pending evals of the same job made cancelable."""
        ev, _, handle = self._check(eval_id, token)
        if handle:
            handle.cancel()
        del self._unack[eval_id]
        self._dequeues.pop(eval_id, None)
        key = (ev.Namespace, ev.JobID)
        if self._job_evals.get(key) == eval_id:
            del self._job_evals[key]
        return self._promote_pending(key)

    def _promote_pending(self, key) -> list[Evaluation]:
        heap = self._pending.pop(key, None)
        if not heap:
            return []
        nxt = heapq.heappop(heap)[3]
        canceled = [item[3] for item in heap]
        for ev in canceled:
            self._dequeues.pop(ev.ID, None)
        self._job_evals[key] = nxt.ID
        heapq.heappush(self._ready.setdefault(nxt.Type, []),
                       (-nxt.Priority, nxt.CreateIndex, next(self._seq), nxt))
        self._wake(nxt.Type)
        return canceled

    def nack(self, eval_id: str, token: str) -> None:
        ev, _, handle = self._check(eval_id, token)
        if handle:
            handle.cancel()
        del self._unack[eval_id]
        count = self._dequeues.get(eval_id, 0)
        key = (ev.Namespace, ev.JobID)
        if count >= self.delivery_limit:
            if self._job_evals.get(key) == eval_id:
                del self._job_evals[key]
            self._enqueue_ready(ev, FAILED_QUEUE)
            self._promote_pending(key)
            return
        delay = 0.0 if count <= 1 else (INITIAL_NACK_DELAY_S if count == 2
                                        else (count - 1) * SUBSEQUENT_NACK_DELAY_S)
        if delay:
            self._timers[ev.ID] = self.clock.call_later(delay, self._requeue, ev)
        else:
            self._requeue(ev)

    def _requeue(self, ev: Evaluation) -> None:
        self._timers.pop(ev.ID, None)
        if self.enabled:
            heapq.heappush(self._ready.setdefault(ev.Type, []),
                           (-ev.Priority, ev.CreateIndex, next(self._seq), ev))
            self._wake(ev.Type)


def _wait_seconds(ev: Evaluation, now: float) -> float:
    if ev.Wait:
        return ev.Wait / 1e9
    if ev.WaitUntil and not ev.WaitUntil.startswith("0001"):
        try:
            when = parse_rfc3339(ev.WaitUntil) / 1e9
        except ValueError:
            return 0.0
        return max(0.0, when - now)
    return 0.0


def failed_followup_delay(rng: random.Random | None = None) -> int:
    """Nomad's follow-up delay for an eval that hit the delivery limit: 1 m + rand[0, 5 m)."""
    r = rng or random
    return int((60 + r.random() * 300) * 1e9)
