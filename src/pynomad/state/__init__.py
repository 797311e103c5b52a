"""Cluster state: in-memory tables (`store`), log entries (`entries`) and the FSM (`fsm`).

Imports only `structs`.
"""

from .fsm import FSM  # noqa: F401
from .store import StateStore  # noqa: F401
