"""Nomad's DriverChecker: the node runs every driver the task group's tasks use, detected
and healthy (or, for clients without driver info, `driver.<name>` set true)."""

from __future__ import annotations

from ...structs import Node, TaskGroup

FILTER_DRIVERS = "missing drivers"


def has_driver(node: Node, driver: str) -> bool:
    info = node.Drivers.get(driver)
    if info is not None:
        return info.Detected and info.Healthy
    return node.Attributes.get(f"driver.{driver}") in ("1", "true")


class DriverChecker:
    def __init__(self, tg: TaskGroup) -> None:
        self.drivers = sorted({t.Driver for t in tg.Tasks or ()})

    def check(self, node: Node) -> str | None:
        for d in self.drivers:
            if not has_driver(node, d):
                return FILTER_DRIVERS
        return None
