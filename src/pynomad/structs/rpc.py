"""The RPC contract between clients and servers (port 4647): method names, argument and
reply structs, and the `RPC` protocol a caller needs.

A call is `POST /rpc/<Method>` with the msgpack-encoded argument struct; the reply is the
msgpack-encoded reply struct (or a non-200 status with `{"Error": "..."}`). The server
decodes each method's arguments straight into its struct; the client decodes the reply
into its reply struct. Messages also read like the mappings they are on the wire
(`msg["Index"]`, `dict(msg)`).
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import msgspec

from .alloc import Allocation
from .job import Job
from .node import Node
from .services import ServiceRegistration

T = TypeVar("T")

NODE_REGISTER = "Node.Register"
NODE_UPDATE_STATUS = "Node.UpdateStatus"
NODE_GET_CLIENT_ALLOCS = "Node.GetClientAllocs"
NODE_UPDATE_ALLOC = "Node.UpdateAlloc"
ALLOC_GET_ALLOCS = "Alloc.GetAllocs"
STATUS_PING = "Status.Ping"
VARIABLES_READ = "Variables.Read"
VARIABLES_LIST = "Variables.List"
SERVICE_UPSERT = "ServiceRegistration.Upsert"
SERVICE_DELETE_BY_ALLOC = "ServiceRegistration.DeleteByAllocID"
SERVICE_LIST = "ServiceRegistration.List"


class RPC(Protocol):
    """What a caller of server RPCs needs (the client's `RPCClient`, or a test double)."""

    async def call(self, method: str, args: Any, reply_type: Any = None,
                   timeout_s: float | None = None) -> Any: ...


class Message(msgspec.Struct, kw_only=True):
    """An RPC argument or reply; readable as a mapping of its fields."""

    def keys(self) -> tuple[str, ...]:
        return self.__struct_fields__

    def __getitem__(self, name: str) -> Any:
        if name not in self.__struct_fields__:
            raise KeyError(name)
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default) if name in self.__struct_fields__ else default


# ---------------------------------------------------------------------------- arguments

class RegisterArgs(Message):
    Node: Node


class UpdateStatusArgs(Message):
    NodeID: str
    Status: str


class ClientAllocsArgs(Message):
    NodeID: str
    SecretID: str = ""
    MinQueryIndex: int = 0
    MaxQueryTime: int = 0


class GetAllocsArgs(Message):
    AllocIDs: list[str]


class UpdateAllocArgs(Message):
    Alloc: list[Allocation]


class PingArgs(Message):
    pass


class VariablesReadArgs(Message):
    """A task reads a variable (template hook): its alloc, task and the variable's path."""
    AllocID: str
    Task: str
    Path: str = ""
    NodeSecretID: str = ""


class VariablesListArgs(Message):
    """A task lists variables under a prefix (template hook)."""
    AllocID: str
    Task: str
    Prefix: str = ""
    NodeSecretID: str = ""


class ServiceUpsertArgs(Message):
    Services: list[ServiceRegistration]
    NodeSecretID: str = ""


class ServiceDeleteByAllocArgs(Message):
    """Deregister every service of an allocation (it stopped)."""
    AllocID: str
    NodeSecretID: str = ""


class ServiceListArgs(Message):
    """Services for one of an alloc's tasks: one service's registrations, or all service
    names when ServiceName is ""."""
    AllocID: str
    ServiceName: str = ""
    NodeSecretID: str = ""


# ------------------------------------------------------------------------------ replies

class NodeUpdateReply(Message):
    """Node.Register and Node.UpdateStatus: the TTL (ns) before the next heartbeat."""
    HeartbeatTTL: int = 0
    Index: int = 0


class ClientAllocsReply(Message):
    """Node.GetClientAllocs: the node's allocation IDs with their AllocModifyIndex."""
    Allocs: dict[str, int] = {}
    Index: int = 0


class AllocsReply(Message):
    """Alloc.GetAllocs: allocs without their job, each job version sent once in `Jobs`."""
    Allocs: list[Allocation] = []
    Jobs: list[Job] = []
    JobIndex: list[int] = []
    Index: int = 0

    def allocations(self) -> list[Allocation]:
        """The allocs with their jobs attached."""
        for alloc, slot in zip(self.Allocs, self.JobIndex):
            if alloc.Job is None and 0 <= slot < len(self.Jobs):
                alloc.Job = self.Jobs[slot]
        return self.Allocs


class IndexReply(Message):
    """A write's index (Node.UpdateAlloc, ServiceRegistration.Upsert/DeleteByAllocID)."""
    Index: int = 0


class PingReply(Message):
    Leader: str = ""


class VariableReply(Message):
    """Variables.Read: the variable (with items) or None; Variables.List: metadata list."""
    Data: Any = None


class ServicesReply(Message):
    Services: list[dict[str, Any]] = []


ARGS: dict[str, type[Message]] = {
    NODE_REGISTER: RegisterArgs, NODE_UPDATE_STATUS: UpdateStatusArgs,
    NODE_GET_CLIENT_ALLOCS: ClientAllocsArgs, NODE_UPDATE_ALLOC: UpdateAllocArgs,
    ALLOC_GET_ALLOCS: GetAllocsArgs, STATUS_PING: PingArgs,
    VARIABLES_READ: VariablesReadArgs, VARIABLES_LIST: VariablesListArgs,
    SERVICE_UPSERT: ServiceUpsertArgs, SERVICE_DELETE_BY_ALLOC: ServiceDeleteByAllocArgs,
    SERVICE_LIST: ServiceListArgs,
}
"""Each method's argument struct (what the server decodes a request body into)."""

REPLIES: dict[str, type[Message]] = {
    NODE_REGISTER: NodeUpdateReply, NODE_UPDATE_STATUS: NodeUpdateReply,
    NODE_GET_CLIENT_ALLOCS: ClientAllocsReply, NODE_UPDATE_ALLOC: IndexReply,
    ALLOC_GET_ALLOCS: AllocsReply, STATUS_PING: PingReply,
    VARIABLES_READ: VariableReply, VARIABLES_LIST: VariableReply,
    SERVICE_UPSERT: IndexReply, SERVICE_DELETE_BY_ALLOC: IndexReply,
    SERVICE_LIST: ServicesReply,
}
"""Each method's reply struct."""
