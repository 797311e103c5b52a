"""Reschedule policy: is a failed allocation eligible for replacement, and when."""

from __future__ import annotations

from ..helper.goformat import parse_rfc3339
from ..structs import Allocation, ReschedulePolicy

RESCHEDULE_WINDOW_NS = 1_000_000_000


def last_event_time(alloc: Allocation) -> int:
    """When the alloc last changed on the client: its tasks' latest finish, in ns."""
    latest = 0
    for ts in (alloc.TaskStates or {}).values():
        if ts.FinishedAt and not ts.FinishedAt.startswith("0001"):
            try:
                latest = max(latest, parse_rfc3339(ts.FinishedAt))
            except ValueError:
                continue
    return latest or alloc.ModifyTime


def next_delay(policy: ReschedulePolicy, alloc: Allocation) -> int:
    events = alloc.RescheduleTracker.Events if alloc.RescheduleTracker else []
    base = policy.Delay or 0
    if not events or policy.DelayFunction == "constant":
        return base
    last = events[-1].Delay or base
    if policy.DelayFunction == "exponential":
        nxt = last * 2
    elif policy.DelayFunction == "fibonacci":
        prev = events[-2].Delay if len(events) > 1 else base
        nxt = last + prev if len(events) > 1 else base
    else:
        nxt = base
    return min(nxt, policy.MaxDelay) if policy.MaxDelay else nxt


def reschedule_eligible(policy: ReschedulePolicy | None, alloc: Allocation, now: int) -> bool:
    """Whether the attempts/interval budget allows another reschedule."""
    if policy is None:
        return False
    if policy.Unlimited:
        return True
    attempts = policy.Attempts or 0
    if attempts <= 0:
        return False
    events = alloc.RescheduleTracker.Events if alloc.RescheduleTracker else []
    interval = policy.Interval or 0
    recent = [ev for ev in events if interval <= 0 or now - ev.RescheduleTime < interval]
    return len(recent) < attempts


def reschedule_time(policy: ReschedulePolicy, alloc: Allocation) -> int:
    return last_event_time(alloc) + next_delay(policy, alloc)
