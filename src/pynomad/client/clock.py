"""The client's clock: wall time, monotonic time and sleeping, injectable for tests."""

from __future__ import annotations

import asyncio
import time


class Clock:
    """Real time. Tests substitute a subclass that advances on demand."""

    def now_ns(self) -> int:
        """Wall-clock Unix time in nanoseconds (event timestamps, StartedAt...)."""
        return time.time_ns()

    def monotonic(self) -> float:
        """Seconds on a monotonic clock (intervals, restart windows)."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


SYSTEM_CLOCK = Clock()
