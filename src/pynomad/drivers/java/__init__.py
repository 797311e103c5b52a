"""The `java` task driver."""

from .driver import JavaDriver

__all__ = ["JavaDriver"]
