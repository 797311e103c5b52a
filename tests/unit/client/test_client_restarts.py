"""Restart tracker: Nomad's restart policy semantics, with an injected clock."""

import random

import pytest

from pynomad.client.driver import DriverError, ExitResult
from pynomad.client.restarts import (KILLED, NOT_RESTARTING, RESTARTING, TERMINATED,
                                     REASON_DELAY, REASON_NO_RESTARTS_ALLOWED, REASON_SUCCESS,
                                     REASON_UNRECOVERABLE, REASON_WITHIN_POLICY, RestartTracker,
                                     restarts_on_success)
from pynomad.structs import HOUR, MINUTE, SECOND, RestartPolicy


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def policy(attempts=2, interval=30 * MINUTE, delay=15 * SECOND, mode="fail"):
    return RestartPolicy(Attempts=attempts, Interval=interval, Delay=delay, Mode=mode)


def tracker(pol=None, job_type="service", clock=None, **kw):
    return RestartTracker(pol or policy(), job_type, clock=clock or Clock(),
                          rng=random.Random(1), **kw)


FAIL = ExitResult(exit_code=1)
OK = ExitResult(exit_code=0)


def test_delay_has_up_to_25_percent_jitter():
    for seed in range(50):
        t = RestartTracker(policy(), "service", clock=Clock(), rng=random.Random(seed))
        state, delay = t.set_exit_result(FAIL).get_state()
        assert state == RESTARTING
        assert 15.0 <= delay <= 15.0 * 1.25
        assert t.reason == REASON_WITHIN_POLICY


def test_fail_mode_after_attempts():
    t = tracker(policy(attempts=2))
    assert t.set_exit_result(FAIL).get_state()[0] == RESTARTING
    assert t.set_exit_result(FAIL).get_state()[0] == RESTARTING
    state, delay = t.set_exit_result(FAIL).get_state()
    assert (state, delay) == (NOT_RESTARTING, 0.0)
    assert t.reason == 'Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"'


def test_new_interval_resets_count():
    clock = Clock()
    t = tracker(policy(attempts=1, interval=10 * MINUTE), clock=clock)
    assert t.set_exit_result(FAIL).get_state()[0] == RESTARTING
    clock.t += 10 * 60 + 1
    assert t.set_exit_result(FAIL).get_state()[0] == RESTARTING
    assert t.count == 1
    assert t.set_exit_result(FAIL).get_state()[0] == NOT_RESTARTING


def test_delay_mode_waits_for_interval_end():
    clock = Clock()
    t = tracker(policy(attempts=1, interval=10 * MINUTE, mode="delay"), clock=clock)
    assert t.set_exit_result(FAIL).get_state()[0] == RESTARTING
    clock.t += 60
    state, delay = t.set_exit_result(FAIL).get_state()
    assert state == RESTARTING
    assert delay == pytest.approx(9 * 60)
    assert t.reason == REASON_DELAY


def test_batch_success_terminates():
    t = tracker(job_type="batch")
    assert t.set_exit_result(OK).get_state() == (TERMINATED, 0.0)
    assert t.reason == REASON_SUCCESS


def test_service_success_restarts():
    t = tracker(job_type="service")
    assert t.set_exit_result(OK).get_state()[0] == RESTARTING


def test_zero_attempts():
    t = tracker(policy(attempts=0), job_type="batch")
    assert t.set_exit_result(OK).get_state() == (TERMINATED, 0.0)
    assert t.set_exit_result(FAIL).get_state() == (NOT_RESTARTING, 0.0)
    assert t.reason == REASON_NO_RESTARTS_ALLOWED
    s = tracker(policy(attempts=0), job_type="service")
    assert s.set_exit_result(OK).get_state() == (NOT_RESTARTING, 0.0)


def test_killed_wins():
    t = tracker()
    assert t.set_exit_result(FAIL).set_killed().get_state() == (KILLED, 0.0)
    # state is cleared after each decision
    assert t.set_exit_result(FAIL).get_state()[0] == RESTARTING


def test_unrecoverable_start_error_does_not_restart():
    t = tracker()
    assert t.set_start_error(DriverError("boom")).get_state() == (NOT_RESTARTING, 0.0)
    assert t.reason == REASON_UNRECOVERABLE


def test_recoverable_start_error_restarts():
    t = tracker()
    assert t.set_start_error(DriverError("later", recoverable=True)).get_state()[0] == RESTARTING


def test_restart_triggered_without_failure_is_immediate():
    t = tracker()
    assert t.set_restart_triggered(False).get_state() == (RESTARTING, 0.0)
    assert t.set_restart_triggered(True).get_state()[0] == RESTARTING


def test_zero_delay_uses_one_nanosecond():
    t = tracker(policy(delay=0))
    state, delay = t.set_exit_result(FAIL).get_state()
    assert state == RESTARTING and delay == pytest.approx(1e-9)


def test_batch_defaults_message():
    t = tracker(policy(attempts=3, interval=24 * HOUR), job_type="batch")
    for _ in range(3):
        assert t.set_exit_result(FAIL).get_state()[0] == RESTARTING
    assert t.set_exit_result(FAIL).get_state()[0] == NOT_RESTARTING
    assert t.reason == 'Exceeded allowed attempts 3 in interval 24h0m0s and mode is "fail"'


@pytest.mark.parametrize("job_type,hook,sidecar,expected", [
    ("service", "", False, True), ("batch", "", False, False), ("sysbatch", "", False, False),
    ("system", "", False, True), ("service", "prestart", False, False),
    ("service", "prestart", True, True), ("batch", "poststart", True, True),
    ("service", "poststop", False, False),
])
def test_restarts_on_success(job_type, hook, sidecar, expected):
    assert restarts_on_success(job_type, hook, sidecar) is expected
