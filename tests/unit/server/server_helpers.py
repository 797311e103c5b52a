"""Helpers for the in-process server tests: wait for the broker, read live allocations."""

from __future__ import annotations

import asyncio

from pynomad.server import Server


async def settle(server: Server) -> None:
    """Wait until the broker has nothing ready or in flight."""
    for _ in range(500):
        stats = server.broker.stats()
        if not (stats["TotalReady"] or stats["TotalUnacked"] or stats["TotalPending"]):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"broker never settled: {server.broker.stats()}")


def live(server, job_id="web"):
    return [a for a in server.state.allocs_by_job_id("default", job_id) if not a.terminal()]
