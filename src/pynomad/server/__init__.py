"""The server: endpoints, eval broker, workers, plan applier, heartbeats, RPC server side.

Imports `structs`, `state`, `backend`, `scheduler`.
"""

from .server import Server, ServerConfig  # noqa: F401
