"""Node heartbeats (Nomad's heartbeat.go): one TTL timer per node on the leader."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from ..helper.clock import SYSTEM_CLOCK, Clock, TimerHandle

MIN_HEARTBEAT_TTL_S = 10.0
MAX_HEARTBEATS_PER_SECOND = 50.0
HEARTBEAT_GRACE_S = 10.0
FAILOVER_HEARTBEAT_TTL_S = 300.0


def heartbeat_ttl(num_nodes: int, min_ttl: float = MIN_HEARTBEAT_TTL_S,
                  max_per_second: float = MAX_HEARTBEATS_PER_SECOND,
                  rng: random.Random | None = None) -> float:
    """Nomad's rule: max(min_ttl, N / rate), plus a random stagger in [0, ttl)."""
    ttl = max(min_ttl, num_nodes / max_per_second)
    return ttl + (rng or random).random() * ttl


class HeartbeatTimers:
    def __init__(self, on_expire: Callable[[str], Awaitable[None]],
                 min_ttl: float = MIN_HEARTBEAT_TTL_S, grace: float = HEARTBEAT_GRACE_S,
                 max_per_second: float = MAX_HEARTBEATS_PER_SECOND,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.on_expire = on_expire
        self.min_ttl = min_ttl
        self.grace = grace
        self.max_per_second = max_per_second
        self.clock = clock
        self._timers: dict[str, TimerHandle] = {}
        self._expiring: set[asyncio.Task] = set()

    def reset(self, node_id: str, ttl: float | None = None) -> float:
        """(Re)arm the node's timer; returns the TTL the client must heartbeat within."""
        if ttl is None:
            ttl = heartbeat_ttl(len(self._timers), self.min_ttl, self.max_per_second)
        old = self._timers.pop(node_id, None)
        if old:
            old.cancel()
        self._timers[node_id] = self.clock.call_later(ttl + self.grace, self._expired, node_id)
        return ttl

    def _expired(self, node_id: str) -> None:
        self._timers.pop(node_id, None)
        task = asyncio.get_running_loop().create_task(self.on_expire(node_id))
        self._expiring.add(task)
        task.add_done_callback(self._expiring.discard)

    def __len__(self) -> int:
        return len(self._timers)

    def clear(self, node_id: str) -> None:
        old = self._timers.pop(node_id, None)
        if old:
            old.cancel()

    def clear_all(self) -> None:
        for h in self._timers.values():
            h.cancel()
        self._timers.clear()
