"""cgroups v1 for isolated tasks: limits from a task's resources, the cgroup's life
cycle, OOM detection and resource usage (stdlib only: the executor imports it).

Each task gets `<mount>/<subsystem>/<parent>/<alloc_id>.<task>` in every subsystem
below (`parent` is the client's `cgroup_parent`, "nomad" by default, as Nomad's v1
layout). The pure part (`find_mounts`, `limits_for`, `task_path`) is separate from
the file I/O of `Cgroup`.
"""

from __future__ import annotations

import os
import signal as _signal
import time
from dataclasses import dataclass

SUBSYSTEMS = ("memory", "cpu", "cpuacct", "pids", "freezer", "devices")
REQUIRED = ("memory", "cpu", "cpuacct", "pids")
DEFAULT_PARENT = "nomad"
MIN_CPU_SHARES = 2
MAX_CPU_SHARES = 262_144
DEFAULT_CFS_PERIOD_US = 100_000
MB = 1024 * 1024

# Device rules of Docker/runc's default allow list (specconv.AllowedDevices).
DEVICE_RULES = (
    "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm",
    "c 1:9 rwm", "c 5:1 rwm", "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm",
)


def find_mounts(mountinfo: str) -> dict[str, str]:
    """subsystem → mount point of the cgroup v1 hierarchies in /proc/self/mountinfo."""
    out: dict[str, str] = {}
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] != "cgroup":
            continue
        for opt in tail[2].split(","):
            if opt in SUBSYSTEMS and opt not in out:
                out[opt] = fields[4].replace("\\040", " ")
    return out


def system_mounts() -> dict[str, str]:
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            return find_mounts(f.read())
    except OSError:
        return {}


def available() -> tuple[bool, str]:
    """(usable, reason): the cgroup v1 controllers isolated tasks need are mounted."""
    mounts = system_mounts()
    missing = [s for s in REQUIRED if s not in mounts]
    if missing:
        return False, "Failed to discover cgroup mount point: " + ", ".join(missing)
    return True, ""


def task_path(parent: str, alloc_id: str, task: str) -> str:
    """The cgroup's path relative to each hierarchy's root."""
    parent = (parent or DEFAULT_PARENT).strip("/") or DEFAULT_PARENT
    return f"{parent}/{alloc_id}.{task}"


@dataclass
class Limits:
    """What a task's cgroup is set to (0 = no limit)."""

    memory_bytes: int = 0           # memory.limit_in_bytes (hard)
    memory_soft_bytes: int = 0      # memory.soft_limit_in_bytes (reservation)
    cpu_shares: int = 1024
    cfs_period_us: int = DEFAULT_CFS_PERIOD_US
    cfs_quota_us: int = -1          # -1 = unlimited


def limits_for(cpu_mhz: int, memory_mb: int, memory_max_mb: int = 0,
               cpu_hard_limit: bool = False, total_compute_mhz: int = 0, num_cores: int = 1,
               cfs_period_us: int = DEFAULT_CFS_PERIOD_US) -> Limits:
    """Nomad's mapping of a task's resources onto cgroups v1.

    With `memory_max` the hard limit is `memory_max` and `memory` the soft limit,
    otherwise `memory` is the hard limit. CPU shares are the task's MHz. With
    `cpu_hard_limit` the CFS quota is the task's share of the node's compute applied to
    all cores, as Nomad's docker driver computes it.
    """
    hard, soft = (memory_max_mb, memory_mb) if memory_max_mb > 0 else (memory_mb, 0)
    shares = min(MAX_CPU_SHARES, max(MIN_CPU_SHARES, int(cpu_mhz or 0)))
    period = cfs_period_us if 1000 <= cfs_period_us <= 1_000_000 else DEFAULT_CFS_PERIOD_US
    quota = -1
    if cpu_hard_limit and total_compute_mhz > 0 and cpu_mhz > 0:
        quota = max(1000, int(cpu_mhz / total_compute_mhz * period * max(1, num_cores)))
    return Limits(memory_bytes=max(0, hard) * MB, memory_soft_bytes=max(0, soft) * MB,
                  cpu_shares=shares, cfs_period_us=period, cfs_quota_us=quota)


def device_rule(kind: str, major: int, minor: int, permissions: str = "rwm") -> str:
    """A devices.allow line ("c 195:0 rwm"); permissions keep only r, w and m."""
    perms = "".join(p for p in "rwm" if p in (permissions or "rwm")) or "rwm"
    return f"{kind} {major}:{minor} {perms}"


def _write(path: str, value: str) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(value)


def _read(path: str, default: str = "") -> str:
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except OSError:
        return default


def _read_int(path: str) -> int:
    try:
        return int(_read(path, "0").strip() or 0)
    except ValueError:
        return 0


def _read_kv(path: str) -> dict[str, int]:
    out = {}
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value)
        except ValueError:
            continue
    return out


class Cgroup:
    """One task's cgroup across the v1 hierarchies (`paths`: subsystem → directory)."""

    def __init__(self, paths: dict[str, str]):
        self.paths = dict(paths)

    @classmethod
    def for_task(cls, rel_path: str, mounts: dict[str, str] | None = None) -> "Cgroup":
        mounts = system_mounts() if mounts is None else mounts
        return cls({s: os.path.join(mounts[s], rel_path) for s in SUBSYSTEMS if s in mounts})

    def _file(self, subsystem: str, name: str) -> str:
        return os.path.join(self.paths[subsystem], name)

    def create(self, limits: Limits, device_rules: list[str] | tuple[str, ...] = ()) -> None:
        """Make the cgroup directories and apply `limits` plus extra device rules
        (raises OSError)."""
        for path in self.paths.values():
            os.makedirs(path, exist_ok=True)
        if "memory" in self.paths:
            if limits.memory_bytes:
                _write(self._file("memory", "memory.limit_in_bytes"), str(limits.memory_bytes))
            if limits.memory_soft_bytes:
                _write(self._file("memory", "memory.soft_limit_in_bytes"),
                       str(limits.memory_soft_bytes))
            try:   # no swapping: the limit is the limit (Nomad disables swappiness)
                _write(self._file("memory", "memory.swappiness"), "0")
            except OSError:
                pass
        if "cpu" in self.paths:
            _write(self._file("cpu", "cpu.shares"), str(limits.cpu_shares))
            if limits.cfs_quota_us > 0:
                _write(self._file("cpu", "cpu.cfs_period_us"), str(limits.cfs_period_us))
                _write(self._file("cpu", "cpu.cfs_quota_us"), str(limits.cfs_quota_us))
        if "devices" in self.paths:
            _write(self._file("devices", "devices.deny"), "a")
            for rule in (*DEVICE_RULES, *device_rules):
                _write(self._file("devices", "devices.allow"), rule)

    def join(self, pid: int) -> None:
        """Move `pid` into every hierarchy of this cgroup."""
        for path in self.paths.values():
            _write(os.path.join(path, "cgroup.procs"), str(pid))

    def pids(self) -> list[int]:
        path = self.paths.get("pids") or next(iter(self.paths.values()), "")
        out: list[int] = []
        if not path:
            return out
        for line in _read(os.path.join(path, "cgroup.procs")).split():
            if line.isdigit():
                out.append(int(line))
        return out

    def exists(self) -> bool:
        return any(os.path.isdir(p) for p in self.paths.values())

    def signal_all(self, sig: int) -> int:
        """Signal every process in the cgroup (frozen first for SIGKILL, so none forks
        away); returns how many were signalled."""
        frozen = sig == _signal.SIGKILL and self._freeze(True)
        count = 0
        try:
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                    count += 1
                except (ProcessLookupError, PermissionError):
                    pass
        finally:
            if frozen:
                self._freeze(False)
        return count

    def _freeze(self, on: bool) -> bool:
        if "freezer" not in self.paths:
            return False
        try:
            _write(self._file("freezer", "freezer.state"), "FROZEN" if on else "THAWED")
            return True
        except OSError:
            return False

    def oom_killed(self) -> bool:
        """True if the kernel's OOM killer killed a process of this cgroup."""
        if "memory" not in self.paths:
            return False
        return _read_kv(self._file("memory", "memory.oom_control")).get("oom_kill", 0) > 0

    def destroy(self, timeout_s: float = 5.0) -> None:
        """Kill what is left and remove the directories (best effort)."""
        deadline = time.monotonic() + timeout_s
        while self.pids() and time.monotonic() < deadline:
            self.signal_all(_signal.SIGKILL)
            time.sleep(0.05)
        for path in self.paths.values():
            try:
                os.rmdir(path)
            except FileNotFoundError:
                pass
            except OSError:
                time.sleep(0.05)
                try:
                    os.rmdir(path)
                except OSError:
                    pass

    # -- usage ----------------------------------------------------------------------
    def memory_stats(self) -> dict[str, int]:
        if "memory" not in self.paths:
            return {}
        stat = _read_kv(self._file("memory", "memory.stat"))
        return {"RSS": stat.get("rss", 0), "Cache": stat.get("cache", 0),
                "Swap": stat.get("swap", 0), "MappedFile": stat.get("mapped_file", 0),
                "Usage": _read_int(self._file("memory", "memory.usage_in_bytes")),
                "MaxUsage": _read_int(self._file("memory", "memory.max_usage_in_bytes")),
                "KernelUsage": _read_int(self._file("memory", "memory.kmem.usage_in_bytes")),
                "KernelMaxUsage": _read_int(
                    self._file("memory", "memory.kmem.max_usage_in_bytes"))}

    def cpu_usage(self) -> dict[str, int]:
        """Cumulative CPU time (ns) and throttling counters."""
        out = {"total_ns": 0, "user_ns": 0, "system_ns": 0, "throttled_periods": 0,
               "throttled_ns": 0}
        if "cpuacct" in self.paths:
            out["total_ns"] = _read_int(self._file("cpuacct", "cpuacct.usage"))
            ticks = _read_kv(self._file("cpuacct", "cpuacct.stat"))
            hz = os.sysconf("SC_CLK_TCK") or 100
            out["user_ns"] = ticks.get("user", 0) * 1_000_000_000 // hz
            out["system_ns"] = ticks.get("system", 0) * 1_000_000_000 // hz
        if "cpu" in self.paths:
            stat = _read_kv(self._file("cpu", "cpu.stat"))
            out["throttled_periods"] = stat.get("nr_throttled", 0)
            out["throttled_ns"] = stat.get("throttled_time", 0)
        return out

