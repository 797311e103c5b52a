"""The built-in drivers, for the agent to wire into the client."""

from __future__ import annotations

from pynomad.helper.clock import SYSTEM_CLOCK, Clock
from pynomad.client.driver import Driver

from .exec import ExecDriver
from .java import JavaDriver
from .mock import MockDriver
from .raw_exec import RawExecDriver


def builtin_drivers(raw_exec_enabled: bool = False, mock: bool = False,
                    clock: Clock = SYSTEM_CLOCK, plugins: dict | None = None,
                    chroot_env: dict[str, str] | None = None,
                    cgroup_parent: str = "") -> dict[str, Driver]:
    """name → driver. raw_exec is always listed (undetected when disabled, like Nomad);
    the mock driver answers to both `mock_driver` (Nomad's name) and `mock`. exec and
    java get their `plugin` blocks' config and the client's chroot_env/cgroup_parent."""
    drivers: dict[str, Driver] = {"raw_exec": RawExecDriver(enabled=raw_exec_enabled)}
    for cls in (ExecDriver, JavaDriver):
        driver = cls(chroot_env=chroot_env, cgroup_parent=cgroup_parent)
        driver.set_config(((plugins or {}).get(cls.name) or {}).get("config") or {})
        drivers[cls.name] = driver
    if mock:
        drivers["mock_driver"] = MockDriver(clock=clock)
        drivers["mock"] = MockDriver(clock=clock, name="mock")
    return drivers
