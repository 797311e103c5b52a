"""Restart policy tracker (Nomad's `client/allocrunner/taskrunner/restarts`).

Pure logic: the caller reports how the last run ended (`set_start_error`,
`set_exit_result`, `set_killed`, `set_restart_triggered`) and asks `get_state`, which
answers Restarting (with a delay), Not Restarting (fails the task), Terminated
(successful batch exit) or Killed. Time comes from an injected clock, randomness
from an injected `random.Random`.
"""

from __future__ import annotations

import random
import time
from typing import Callable

from pynomad.structs import RestartPolicy

from .driver import DriverError, ExitResult
from ..helper.goformat import format_duration

JITTER = 0.25

RESTARTING = "Restarting"
NOT_RESTARTING = "Not Restarting"
TERMINATED = "Terminated"
KILLED = "Killed"

REASON_NO_RESTARTS_ALLOWED = "Policy allows no restarts"
REASON_UNRECOVERABLE = "Error was unrecoverable"
REASON_WITHIN_POLICY = "Restart within policy"
REASON_DELAY = "Exceeded allowed attempts, applying a delay"
REASON_SUCCESS = "Restart unnecessary as task terminated successfully"

MODE_FAIL = "fail"
MODE_DELAY = "delay"

BATCH_TYPES = ("batch", "sysbatch")


def restarts_on_success(job_type: str, hook: str = "", sidecar: bool = False) -> bool:
    """Whether a successful exit is restarted: services yes, batch no, lifecycle per hook."""
    on_success = job_type not in BATCH_TYPES
    if hook in ("prestart", "poststart"):
        on_success = sidecar
    elif hook == "poststop":
        on_success = False
    return on_success


class RestartTracker:
    """Decides whether and when a task restarts, counting attempts per interval."""

    def __init__(self, policy: RestartPolicy, job_type: str, hook: str = "",
                 sidecar: bool = False, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None):
        self.policy = policy
        self.on_success = restarts_on_success(job_type, hook, sidecar)
        self._clock = clock
        self._rng = rng or random.Random()
        self.start_time = clock()
        self.count = 0
        self.reason = ""
        self._reset()

    def _reset(self) -> None:
        self._exit: ExitResult | None = None
        self._start_err: BaseException | None = None
        self._killed = False
        self._triggered = False
        self._failure = False

    # -- inputs -------------------------------------------------------------
    def set_start_error(self, err: BaseException) -> "RestartTracker":
        self._start_err, self._failure = err, True
        return self

    def set_exit_result(self, result: ExitResult) -> "RestartTracker":
        self._exit, self._failure = result, True
        return self

    def set_restart_triggered(self, failure: bool) -> "RestartTracker":
        if failure:
            self._failure = True
        else:
            self._triggered = True
        return self

    def set_killed(self) -> "RestartTracker":
        self._killed = True
        return self

    # -- decision -----------------------------------------------------------
    @property
    def _attempts(self) -> int:
        return self.policy.Attempts or 0

    @property
    def _interval_s(self) -> float:
        return (self.policy.Interval or 0) / 1e9

    def get_state(self) -> tuple[str, float]:
        """(state, delay seconds). Clears the reported inputs, like Nomad's GetState."""
        try:
            return self._decide()
        finally:
            self._reset()

    def _decide(self) -> tuple[str, float]:
        if self._killed:
            self.reason = ""
            return KILLED, 0.0
        if self._triggered:
            self.reason = ""
            return RESTARTING, 0.0
        if self._attempts == 0:
            self.reason = REASON_NO_RESTARTS_ALLOWED
            if not self.on_success and self._exit is not None and self._exit.successful():
                return TERMINATED, 0.0
            return NOT_RESTARTING, 0.0
        now = self._clock()
        if now > self.start_time + self._interval_s:
            self.count = 0
            self.start_time = now
        self.count += 1
        if not self._failure:
            return "", 0.0
        if self._start_err is not None:
            if not getattr(self._start_err, "recoverable", False):
                self.reason = REASON_UNRECOVERABLE
                return NOT_RESTARTING, 0.0
        elif self._exit is not None and self._exit.successful() and not self.on_success:
            self.reason = REASON_SUCCESS
            return TERMINATED, 0.0
        if self.count > self._attempts:
            if (self.policy.Mode or MODE_FAIL) == MODE_FAIL:
                self.reason = (f"Exceeded allowed attempts {self._attempts} in interval "
                               f"{format_duration(self.policy.Interval or 0)} and mode is \"fail\"")
                return NOT_RESTARTING, 0.0
            self.reason = REASON_DELAY
            return RESTARTING, max(0.0, self.start_time + self._interval_s - now)
        self.reason = REASON_WITHIN_POLICY
        return RESTARTING, self._jitter()

    def _jitter(self) -> float:
        """The policy delay plus up to 25 % random jitter, in seconds."""
        d = self.policy.Delay or 0
        if d <= 0:
            d = 1
        j = self._rng.randrange(d) * JITTER
        return (d + int(j)) / 1e9


__all__ = ["RestartTracker", "DriverError", "restarts_on_success", "RESTARTING",
           "NOT_RESTARTING", "TERMINATED", "KILLED"]
