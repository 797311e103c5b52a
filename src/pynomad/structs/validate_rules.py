"""Validation of the small policy blocks: constraints, affinities, spreads, restart,
reschedule, update, migrate and scaling — one function per Nomad ``Validate`` method."""

from __future__ import annotations

import math

from .base import SECOND
from .job import (Affinity, Constraint, MigrateStrategy, ReschedulePolicy, RestartPolicy,
                  Spread, UpdateStrategy)
from ..helper.goformat import format_duration as go_duration
from ..helper.goformat import quote as go_quote
from .validate_util import (regexp_error, semver_constraint_error,
                            version_constraint_error)

_COMPARE_OPS = ("=", "==", "is", "!=", "not", "<", "<=", ">", ">=")
_SET_OPS = ("set_contains", "set_contains_all", "set_contains_any")
RESTART_MIN_INTERVAL = 5 * SECOND
RESCHEDULE_MIN_INTERVAL = 15 * SECOND
RESCHEDULE_MIN_DELAY = 5 * SECOND
DELAY_FUNCTIONS = ("constant", "exponential", "fibonacci")
UINT64_MAX = 2**64 - 1


def _indexed(prefix: str, items, check) -> list[str]:  # type: ignore[no-untyped-def]
    out: list[str] = []
    for i, item in enumerate(items or ()):
        errs = check(item)
        if errs:
            out.append(f"{prefix} {i + 1} validation failed: {_nested(errs)}")
    return out


def _nested(errs: list[str]) -> str:
    from .validate_util import multierror

    return multierror(errs)


# ------------------------------------------------------------ constraints


def constraint_errors(constraints: list[Constraint] | None) -> list[str]:
    """``Constraint %d validation failed: ...`` for each bad constraint."""
    return _indexed("Constraint", constraints, constraint_problems)


def constraint_problems(c: Constraint) -> list[str]:
    """``Constraint.Validate``."""
    errs: list[str] = []
    op, rt = c.Operand, c.RTarget or ""
    if not op:
        errs.append("Missing constraint operand")
    need_ltarget = op != "distinct_hosts"
    common = _rtarget_errors(op, rt, "constraint", "Set contains constraint requires an RTarget")
    if common is not None:
        errs += common
    elif op == "distinct_property":
        errs += _distinct_property_errors(rt)
    elif op in ("is_set", "is_not_set"):
        if rt:
            errs.append(f"Operator {go_quote(op)} does not support an RTarget")
    elif op != "distinct_hosts":
        errs.append(f"Unknown constraint type {go_quote(op)}")
    if need_ltarget and not c.LTarget:
        errs.append("No LTarget provided but is required by constraint")
    return errs


def _rtarget_errors(op: str, rt: str, kind: str, set_missing: str) -> list[str] | None:
    """RTarget checks the operators constraints and affinities share (set, regexp, version,
    semver, comparison); ``kind`` names the block in version messages. None when ``op`` is
    none of them."""
    if op in _SET_OPS:
        return [] if rt else [set_missing]
    if op == "regexp":
        err = regexp_error(rt)
        return [f"Regular expression failed to compile: {err}"] if err else []
    if op == "version":
        err = version_constraint_error(rt)
        return [f"Version {kind} is invalid: {err}"] if err else []
    if op == "semver":
        err = semver_constraint_error(rt)
        return [f"Semver {kind} is invalid: {err}"] if err else []
    if op in _COMPARE_OPS:
        return [] if rt else [f"Operator {go_quote(op)} requires an RTarget"]
    return None


def _distinct_property_errors(rt: str) -> list[str]:
    if not rt:
        return []
    if not rt.isdigit() or not rt.isascii() or int(rt) > UINT64_MAX:
        reason = "value out of range" if rt.isdigit() and rt.isascii() else "invalid syntax"
        return [f'Failed to convert RTarget {go_quote(rt)} to uint64: strconv.ParseUint: '
                f'parsing {go_quote(rt)}: {reason}']
    if int(rt) < 1:
        return [f"Distinct Property must have an allowed count of 1 or greater: {int(rt)} < 1"]
    return []


def affinity_errors(affinities: list[Affinity] | None) -> list[str]:
    return _indexed("Affinity", affinities, affinity_problems)


def affinity_problems(a: Affinity) -> list[str]:
    """``Affinity.Validate``; a missing weight is the API default, 50."""
    errs: list[str] = []
    op, rt = a.Operand, a.RTarget or ""
    if not op:
        errs.append("Missing affinity operand")
    common = _rtarget_errors(op, rt, "affinity", "Set contains operators require an RTarget")
    if common is None:
        errs.append(f"Unknown affinity operator {go_quote(op)}")
    else:
        errs += common
    if not a.LTarget:
        errs.append("No LTarget provided but is required")
    weight = 50 if a.Weight is None else a.Weight
    if weight == 0:
        errs.append("Affinity weight cannot be zero")
    if not -100 <= weight <= 100:
        errs.append("Affinity weight must be within the range [-100,100]")
    return errs


def spread_errors(spreads: list[Spread] | None) -> list[str]:
    return _indexed("Spread", spreads, spread_problems)


def spread_problems(s: Spread) -> list[str]:
    """``Spread.Validate``; a missing weight is the API default, 50."""
    errs: list[str] = []
    if not s.Attribute:
        errs.append("Missing spread attribute")
    weight = 50 if s.Weight is None else s.Weight
    if weight <= 0 or weight > 100:
        errs.append("Spread block must have a positive weight from 0 to 100")
    seen: set[str] = set()
    total = 0
    for t in s.SpreadTarget or ():
        if t.Value in seen:
            errs.append(f"Spread target value {go_quote(t.Value)} already defined")
        seen.add(t.Value)
        if t.Percent > 100:
            errs.append(f"Spread target percentage for value {go_quote(t.Value)} must be between 0 and 100")
        total += t.Percent % 2**32
    total %= 2**32
    if total > 100:
        errs.append(f"Sum of spread target percentages must not be greater than 100%; got {total}%")
    return errs


# ------------------------------------------------------------- policies


def restart_errors(r: RestartPolicy) -> list[str]:
    """``RestartPolicy.Validate``."""
    errs: list[str] = []
    mode, attempts = r.Mode or "", r.Attempts or 0
    interval, delay = r.Interval or 0, r.Delay or 0
    if mode not in ("delay", "fail"):
        errs.append(f"Unsupported restart mode: {go_quote(mode)}")
    if attempts == 0 and mode != "fail":
        errs.append(f"Restart policy {go_quote(mode)} with {attempts} attempts is ambiguous")
    if interval < RESTART_MIN_INTERVAL:
        errs.append(f"Interval can not be less than {go_duration(RESTART_MIN_INTERVAL)} "
                    f"(got {go_duration(interval)})")
    if attempts * delay > interval:
        errs.append(f"Nomad can't restart the TaskGroup {attempts} times in an interval of "
                    f"{go_duration(interval)} with a delay of {go_duration(delay)}")
    return errs


def reschedule_errors(r: ReschedulePolicy) -> list[str]:
    """``ReschedulePolicy.Validate`` (nothing to check when rescheduling is off)."""
    attempts, unlimited = r.Attempts or 0, bool(r.Unlimited)
    if not (attempts > 0 or unlimited):
        return []
    interval, delay, max_delay = r.Interval or 0, r.Delay or 0, r.MaxDelay or 0
    func = r.DelayFunction or ""
    errs: list[str] = []
    if attempts > 0:
        if interval <= 0:
            errs.append("Interval must be a non zero value if Attempts > 0")
        if unlimited:
            errs.append(f"Reschedule Policy with Attempts = {attempts}, Interval = "
                        f"{go_duration(interval)}, and Unlimited = true is ambiguous")
            errs.append("If Attempts >0, Unlimited cannot also be set to true")
    pre_check = True
    if delay < RESCHEDULE_MIN_DELAY:
        errs.append(f"Delay cannot be less than {go_duration(RESCHEDULE_MIN_DELAY)} (got {go_duration(delay)})")
        pre_check = False
    if func not in DELAY_FUNCTIONS:
        errs.append(f"Invalid delay function {go_quote(func)}, must be one of "
                    f"[{' '.join(go_quote(f) for f in DELAY_FUNCTIONS)}]")
        pre_check = False
    if func != "constant":
        if max_delay < RESCHEDULE_MIN_DELAY:
            errs.append(f"Max Delay cannot be less than {go_duration(RESCHEDULE_MIN_DELAY)} "
                        f"(got {go_duration(delay)})")
            pre_check = False
        if max_delay < delay:
            errs.append(f"Max Delay cannot be less than Delay {go_duration(delay)} "
                        f"(got {go_duration(max_delay)})")
            pre_check = False
    if not unlimited:
        if interval < RESCHEDULE_MIN_INTERVAL:
            errs.append(f"Interval cannot be less than {go_duration(RESCHEDULE_MIN_INTERVAL)} "
                        f"(got {go_duration(interval)})")
        if pre_check:
            errs += _delay_param_errors(attempts, interval, delay, max_delay, func)
    return errs


def _viable_attempts(attempts: int, interval: int, delay: int, max_delay: int,
                     func: str) -> tuple[bool, int, int]:
    """``ReschedulePolicy.viableAttempts``: (ok, possible attempts, recommended interval)."""
    possible, recommended, valid = 0, 0, True
    if func == "constant":
        recommended = attempts * delay
        if interval < recommended:
            possible, valid = (interval // delay if delay else 0), False
    elif func == "exponential":
        for i in range(min(attempts, 64)):
            nxt = int(math.pow(2, i)) * delay
            if nxt > max_delay:
                recommended += max_delay
            else:
                recommended = nxt
            if recommended < interval:
                possible += 1
        valid = possible >= attempts
    else:
        slots = [delay, delay]
        ceiling = False
        for i in range(2, min(attempts, 10_000)):
            nxt = slots[i - 1] + max_delay if ceiling else slots[i - 1] + slots[i - 2]
            if not ceiling and nxt > max_delay:
                nxt, ceiling = max_delay, True
            slots.append(nxt)
        recommended = slots[-1]
        if interval < recommended:
            valid = False
            possible = next((i for i, s in enumerate(slots) if s > interval), 0)
    return valid, max(possible, 0), recommended


def _delay_param_errors(attempts: int, interval: int, delay: int, max_delay: int,
                        func: str) -> list[str]:
    ok, possible, recommended = _viable_attempts(attempts, interval, delay, max_delay, func)
    if ok:
        return []
    if func == "constant":
        first = (f"Nomad can only make {possible} attempts in {go_duration(interval)} with initial "
                 f"delay {go_duration(delay)} and delay function {go_quote(func)}")
    else:
        first = (f"Nomad can only make {possible} attempts in {go_duration(interval)} with initial "
                 f"delay {go_duration(delay)}, delay function {go_quote(func)}, and delay ceiling "
                 f"{go_duration(max_delay)}")
    rounded = (recommended + SECOND // 2) // SECOND * SECOND
    return [first, f"Set the interval to at least {go_duration(rounded)} to accommodate "
                   f"{attempts} attempts"]


def update_errors(u: UpdateStrategy) -> list[str]:
    """``UpdateStrategy.Validate``."""
    errs: list[str] = []
    hc = u.HealthCheck or ""
    maxp, canary = u.MaxParallel or 0, u.Canary or 0
    mht, hd, pd = u.MinHealthyTime or 0, u.HealthyDeadline or 0, u.ProgressDeadline or 0
    if hc not in ("checks", "task_states", "manual"):
        errs.append(f"Invalid health check given: {go_quote(hc)}")
    if maxp < 0:
        errs.append(f"Max parallel can not be less than zero: {maxp} < 0")
    if canary < 0:
        errs.append(f"Canary count can not be less than zero: {canary} < 0")
    if canary == 0 and u.AutoPromote:
        errs.append("Auto Promote requires a Canary count greater than zero")
    if mht < 0:
        errs.append(f"Minimum healthy time may not be less than zero: {go_duration(mht)}")
    if hd <= 0:
        errs.append(f"Healthy deadline must be greater than zero: {go_duration(hd)}")
    if pd < 0:
        errs.append(f"Progress deadline must be zero or greater: {go_duration(pd)}")
    if mht >= hd:
        errs.append(f"Minimum healthy time must be less than healthy deadline: "
                    f"{go_duration(mht)} > {go_duration(hd)}")
    if pd != 0 and hd >= pd:
        errs.append(f"Healthy deadline must be less than progress deadline: "
                    f"{go_duration(hd)} > {go_duration(pd)}")
    if (u.Stagger or 0) <= 0:
        errs.append(f"Stagger must be greater than zero: {go_duration(u.Stagger)}")
    return errs


def migrate_errors(m: MigrateStrategy) -> list[str]:
    """``MigrateStrategy.Validate``."""
    errs: list[str] = []
    maxp, hc = m.MaxParallel or 0, m.HealthCheck or ""
    mht, hd = m.MinHealthyTime or 0, m.HealthyDeadline or 0
    if maxp < 0:
        errs.append(f"MaxParallel must be >= 0 but found {maxp}")
    if hc == "" and maxp > 0:
        errs.append("Missing HealthCheck")
    elif hc not in ("", "checks", "task_states"):
        errs.append(f"Invalid HealthCheck: {go_quote(hc)}")
    if mht < 0:
        errs.append(f"MinHealthyTime is {go_duration(mht)} and must be >= 0")
    if hd < 0:
        errs.append(f"HealthyDeadline is {go_duration(hd)} and must be >= 0")
    if mht > hd:
        errs.append("MinHealthyTime must be less than HealthyDeadline")
    return errs
