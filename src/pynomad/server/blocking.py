"""Blocking queries: wait until a table's index passes the caller's `?index=`."""

from __future__ import annotations

import asyncio
import random

from ..state import StateStore

DEFAULT_WAIT_S = 300.0
MAX_WAIT_S = 600.0
INDEX_WAIT_S = 5.0


class Watcher:
    """Wakes waiters when any of their tables changes."""

    def __init__(self, state: StateStore) -> None:
        self.state = state
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._index_waiters: list[tuple[int, asyncio.Future]] = []
        state.add_listener(self._on_change)

    def _on_change(self, index: int, tables: set[str]) -> None:
        for t in tables:
            for ev in self._waiters.pop(t, ()):
                ev.set()
        if self._index_waiters:
            for fut in [f for i, f in self._index_waiters if i <= index]:
                if not fut.done():
                    fut.set_result(None)
            self._index_waiters = [(i, f) for i, f in self._index_waiters if i > index]

    async def wait_index(self, index: int, wait_s: float = INDEX_WAIT_S) -> bool:
        """Wait until the state has applied `index` (a scheduler's snapshot must include
        what its evaluation was written with); False if it did not within `wait_s`."""
        if self.state.latest_index >= index:
            return True
        fut = asyncio.get_running_loop().create_future()
        self._index_waiters.append((index, fut))
        try:
            await asyncio.wait_for(fut, wait_s)
            return True
        except asyncio.TimeoutError:
            return self.state.latest_index >= index

    async def wait(self, tables: tuple[str, ...], min_index: int, wait_s: float) -> int:
        """Return the tables' index once it exceeds `min_index`, or at the deadline."""
        if min_index <= 0:
            return self.state.table_index(*tables)
        wait_s = min(wait_s or DEFAULT_WAIT_S, MAX_WAIT_S)
        wait_s += random.random() * wait_s / 16  # Nomad's jitter
        return await self.wait_change(tables, min_index, wait_s)

    async def wait_key(self, key: str, wait_s: float) -> None:
        """Wait (up to `wait_s`) for the next change notified under `key`."""
        await self._wait_any((key,), wait_s)

    async def wait_change(self, tables: tuple[str, ...], after_index: int, wait_s: float) -> int:
        """Wait (up to `wait_s`) until the tables' index exceeds `after_index`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while self.state.table_index(*tables) <= after_index:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self._wait_any(tables, remaining)
        return self.state.table_index(*tables)

    async def _wait_any(self, keys: tuple[str, ...], timeout: float) -> None:
        """Wait (up to `timeout`) for the next change notified under any of `keys`."""
        ev = asyncio.Event()
        for k in keys:
            self._waiters.setdefault(k, set()).add(ev)
        waiter = asyncio.ensure_future(ev.wait())
        try:
            await asyncio.wait({waiter}, timeout=timeout)
        finally:
            waiter.cancel()
            for k in keys:
                waiters = self._waiters.get(k)
                if waiters is not None:
                    waiters.discard(ev)
                    if not waiters:
                        del self._waiters[k]
