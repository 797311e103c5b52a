"""Process memory housekeeping for long-running agents.

Large transient buffers (RPC batches, API responses) go through the C allocator, which keeps
freed pages in its heap; trimming it now and then hands them back to the OS. The cyclic GC
is tuned for a heap of millions of long-lived, acyclic objects.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc

TRIM_INTERVAL_S = 10.0


def tune_gc() -> None:
    """Keep start-up objects out of full collections; collect the young generation less."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _malloc_trim():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


async def trim_loop(interval: float = TRIM_INTERVAL_S) -> None:
    """Return freed C-heap memory to the OS every `interval` seconds (glibc only)."""
    trim = _malloc_trim()
    if trim is None:
        return
    while True:
        await asyncio.sleep(interval)
        trim(0)
