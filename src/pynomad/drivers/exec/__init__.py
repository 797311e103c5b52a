"""The `exec` task driver."""

from .driver import ExecDriver

__all__ = ["ExecDriver"]
