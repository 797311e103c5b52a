"""An isolated task's resource usage from its cgroup, in Nomad's TaskResourceUsage shape.

CPU percentages are deltas between two samples of the cgroup's cumulative CPU time
(100% = one core busy), as Nomad's executor computes them; `CpuSampler` keeps the
previous sample so each call reports the usage since the last one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .cgroups import Cgroup

MEASURED_MEM = ["RSS", "Cache", "Swap", "Usage", "Max Usage", "Kernel Usage",
                "Kernel Max Usage"]
MEASURED_CPU = ["System Mode", "User Mode", "Throttled Periods", "Throttled Time", "Percent"]


@dataclass
class CpuSampler:
    """The last (cpu usage, monotonic ns) sample of one task."""

    last: tuple[dict[str, int], int] | None = None
    percents: dict[str, float] = field(default_factory=dict)

    def empty(self) -> bool:
        return self.last is None

    def sample(self, usage: dict[str, int], now_ns: int) -> dict[str, float]:
        """Percent of one core used in total, user and system mode since the last sample."""
        if self.last is not None:
            prev, then = self.last
            elapsed = now_ns - then
            if elapsed > 0:
                self.percents = {k: max(0.0, (usage[k] - prev.get(k, 0)) / elapsed * 100.0)
                                 for k in ("total_ns", "user_ns", "system_ns")}
        self.last = (usage, now_ns)
        return dict(self.percents) or {"total_ns": 0.0, "user_ns": 0.0, "system_ns": 0.0}


def usage_doc(mem: dict[str, int], cpu: dict[str, int], percents: dict[str, float],
              mhz_per_core: float, pids: list[int], now_ns: int) -> dict:
    """Pure: the TaskResourceUsage document."""
    total = percents.get("total_ns", 0.0)
    return {
        "ResourceUsage": {
            "MemoryStats": {**{k: int(mem.get(k, 0)) for k in (
                "RSS", "Cache", "Swap", "MappedFile", "Usage", "MaxUsage", "KernelUsage",
                "KernelMaxUsage")}, "Measured": MEASURED_MEM},
            "CpuStats": {"SystemMode": percents.get("system_ns", 0.0),
                         "UserMode": percents.get("user_ns", 0.0), "Percent": total,
                         "ThrottledPeriods": int(cpu.get("throttled_periods", 0)),
                         "ThrottledTime": int(cpu.get("throttled_ns", 0)),
                         "TotalTicks": total / 100.0 * mhz_per_core,
                         "Measured": MEASURED_CPU},
            "DeviceStats": None},
        "Timestamp": now_ns,
        "Pids": {str(p): None for p in pids} or None,
    }


def task_usage(cg: Cgroup, sampler: CpuSampler, mhz_per_core: float) -> dict:
    cpu = cg.cpu_usage()
    percents = sampler.sample(cpu, time.monotonic_ns())
    return usage_doc(cg.memory_stats(), cpu, percents, mhz_per_core, cg.pids(), time.time_ns())
