"""The clock: wall time, monotonic time, sleeping and timers, injectable for tests.

Server and client code take a `Clock` instead of calling `time` and `asyncio` directly, so
that tests drive time with a `ManualClock` (no sleeps, no waiting for real timers).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any, Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock:
    """Real time."""

    def now_ns(self) -> int:
        """Wall-clock Unix time in nanoseconds (log entry times, timestamps)."""
        return time.time_ns()

    def monotonic(self) -> float:
        """Seconds on a monotonic clock (intervals, deadlines, TTLs)."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run `fn(*args)` on the running loop after `delay` seconds."""
        return asyncio.get_running_loop().call_later(max(0.0, delay), fn, *args)


SYSTEM_CLOCK = Clock()


class _ManualTimer:
    __slots__ = ("when", "fn", "args", "cancelled")

    def __init__(self, when: float, fn: Callable[..., Any], args: tuple) -> None:
        self.when, self.fn, self.args, self.cancelled = when, fn, args, False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock(Clock):
    """Virtual time that moves only when told to (`advance`), for tests.

    Timers (`call_later`) fire in time order during `advance`; `sleep` waits until the clock
    has been advanced past its deadline.
    """

    def __init__(self, start_ns: int = 1_700_000_000 * 10**9, mono: float = 1000.0) -> None:
        self.t_ns = start_ns
        self.mono = mono
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def now_ns(self) -> int:
        return self.t_ns

    def monotonic(self) -> float:
        return self.mono

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
        timer = _ManualTimer(self.mono + max(0.0, delay), fn, args)
        heapq.heappush(self._timers, (timer.when, next(self._seq), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        fut = asyncio.get_running_loop().create_future()
        self.call_later(seconds, lambda: fut.done() or fut.set_result(None))
        await fut

    def pending(self) -> int:
        """How many timers wait to fire."""
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    def advance(self, seconds: float) -> None:
        """Move time forward, firing every timer that falls due on the way."""
        target = self.mono + seconds
        while self._timers and self._timers[0][0] <= target:
            when, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._step(when - self.mono)
            timer.fn(*timer.args)
        self._step(target - self.mono)

    def _step(self, seconds: float) -> None:
        if seconds > 0:
            self.mono += seconds
            self.t_ns += int(seconds * 1e9)
