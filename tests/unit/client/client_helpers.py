"""Helpers for the client tests: allocations and a virtual clock."""

from __future__ import annotations

import asyncio

from pynomad.helper.clock import Clock
from pynomad.structs import (Allocation, Job, RestartPolicy, Task, TaskGroup, canonicalize,
                             generate_uuid)


class FakeClock(Clock):
    """Virtual time: sleeping advances the clock instantly (after yielding once)."""

    def __init__(self, start_ns: int = 1_700_000_000 * 10**9):
        self.t_ns = start_ns
        self.mono = 1000.0

    def now_ns(self) -> int:
        return self.t_ns

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.t_ns += int(seconds * 1e9)

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


def make_alloc(tasks: list[Task], job_type: str = "service", restart: RestartPolicy | None = None,
               job_id: str = "example", group: str = "web", node_id: str = "node-1",
               meta: dict | None = None) -> Allocation:
    tg = TaskGroup(Name=group, Count=1, Tasks=tasks, RestartPolicy=restart)
    job = Job(ID=job_id, Name=job_id, Type=job_type, TaskGroups=[tg], Datacenters=["dc1"],
              Meta=meta)
    canonicalize(job)
    return Allocation(ID=generate_uuid(), Name=f"{job_id}.{group}[0]", NodeID=node_id,
                      JobID=job_id, Job=job, TaskGroup=group, EvalID=generate_uuid())
