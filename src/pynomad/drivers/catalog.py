"""The built-in drivers, for the agent to wire into the client."""

from __future__ import annotations

from pynomad.helper.clock import SYSTEM_CLOCK, Clock
from pynomad.client.driver import Driver

from .mock import MockDriver
from .raw_exec import RawExecDriver


def builtin_drivers(raw_exec_enabled: bool = False, mock: bool = False,
                    clock: Clock = SYSTEM_CLOCK) -> dict[str, Driver]:
    """name → driver. raw_exec is always listed (undetected when disabled, like Nomad);
    the mock driver answers to both `mock_driver` (Nomad's name) and `mock`."""
    drivers: dict[str, Driver] = {"raw_exec": RawExecDriver(enabled=raw_exec_enabled)}
    if mock:
        drivers["mock_driver"] = MockDriver(clock=clock)
        drivers["mock"] = MockDriver(clock=clock, name="mock")
    return drivers
