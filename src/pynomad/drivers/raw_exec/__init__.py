"""The `raw_exec` task driver."""

from .driver import RawExecDriver

__all__ = ["RawExecDriver"]
