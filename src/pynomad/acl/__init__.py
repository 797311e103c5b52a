"""ACL policies (parsing, validation, expansion) and capability checks.

Pure logic: no I/O. The server resolves a token's policies from state; `ACL.compile`
turns them into answers to "may this token do X?"."""

from .acl import ACL, DENY_ALL, MANAGEMENT  # noqa: F401
from .policy import Policy, PolicyError, parse_policy  # noqa: F401
