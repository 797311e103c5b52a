"""Process helpers for drivers that run host processes: identity, liveness, signals.

A pid is only trusted together with its start time, so a recycled pid is never
mistaken for our task (or signalled).
"""

from __future__ import annotations

import os
import signal as _signal

import psutil

CTIME_TOLERANCE_S = 0.05


def create_time(pid: int) -> float:
    """The process's start time (epoch seconds), 0.0 if it does not exist."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, ValueError):
        return 0.0


def reap(pid: int) -> None:
    """Collect `pid` if it is an exited child of ours (avoids zombies)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except (ChildProcessError, OSError):
        pass


def is_alive(pid: int, ctime: float) -> bool:
    """True if `pid` runs, is not a zombie and started at `ctime` (when known)."""
    if pid <= 0:
        return False
    reap(pid)
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return not ctime or abs(proc.create_time() - ctime) < CTIME_TOLERANCE_S
    except (psutil.Error, ValueError):
        return False


def group_alive(pgid: int) -> bool:
    """True if any process is left in process group `pgid`."""
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError, OSError):
        return False


def signal_number(name: str | int, default: int = _signal.SIGINT) -> int:
    """"SIGINT"/"INT"/"2" → 2. Raises ValueError for unknown names."""
    if isinstance(name, int):
        return name
    text = (name or "").strip().upper()
    if not text:
        return int(default)
    if text.isdigit():
        return int(text)
    if not text.startswith("SIG"):
        text = "SIG" + text
    try:
        return int(_signal.Signals[text])
    except KeyError:
        raise ValueError(f"unknown signal {name!r}") from None


def kill_group(pgid: int, sig: int) -> bool:
    """Signal the process group; False if it no longer exists."""
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
