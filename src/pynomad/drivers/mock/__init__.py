"""The `mock_driver` task driver (Nomad's mock driver, for tests and benchmarks)."""

from .driver import MockDriver

__all__ = ["MockDriver"]
