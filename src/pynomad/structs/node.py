"""Client nodes: what a client fingerprints and registers, and the server's view of it."""

from __future__ import annotations

from typing import Any

from msgspec import field

from .base import Base
from .resources import NetworkResource

NODE_STATUS_INIT = "initializing"
NODE_STATUS_READY = "ready"
NODE_STATUS_DOWN = "down"
NODE_STATUS_DISCONNECTED = "disconnected"

NODE_ELIGIBLE = "eligible"
NODE_INELIGIBLE = "ineligible"


class NodeCpuResources(Base):
    CpuShares: int = 0
    TotalCpuCores: int = 0
    ReservableCpuCores: list[int] | None = None


class NodeMemoryResources(Base):
    MemoryMB: int = 0


class NodeDiskResources(Base):
    DiskMB: int = 0


class NodeResources(Base):
    Cpu: NodeCpuResources = field(default_factory=NodeCpuResources)
    Memory: NodeMemoryResources = field(default_factory=NodeMemoryResources)
    Disk: NodeDiskResources = field(default_factory=NodeDiskResources)
    Networks: list[NetworkResource] | None = None
    NodeNetworks: list[dict[str, Any]] | None = None
    Devices: list[dict[str, Any]] | None = None
    MinDynamicPort: int = 20000
    MaxDynamicPort: int = 32000


class NodeReservedResources(Base):
    Cpu: NodeCpuResources = field(default_factory=NodeCpuResources)
    Memory: NodeMemoryResources = field(default_factory=NodeMemoryResources)
    Disk: NodeDiskResources = field(default_factory=NodeDiskResources)
    Networks: dict[str, str] = field(default_factory=lambda: {"ReservedHostPorts": ""})


class DriverInfo(Base):
    Attributes: dict[str, str] | None = None
    Detected: bool = False
    Healthy: bool = False
    HealthDescription: str = ""
    UpdateTime: str = ""


class ClientHostVolumeConfig(Base):
    """A directory the client offers to jobs as a host volume (`client.host_volume`)."""
    Name: str = ""
    Path: str = ""
    ReadOnly: bool = False


class NodeEvent(Base):
    Message: str = ""
    Subsystem: str = ""
    Details: dict[str, str] | None = None
    Timestamp: str = ""
    CreateIndex: int = 0


class DrainStrategy(Base):
    Deadline: int = 0
    IgnoreSystemJobs: bool = False
    ForceDeadline: str = "0001-01-01T00:00:00Z"
    StartedAt: str = "0001-01-01T00:00:00Z"


class Node(Base):
    ID: str = ""
    SecretID: str = ""
    Datacenter: str = "dc1"
    Name: str = ""
    HTTPAddr: str = ""
    TLSEnabled: bool = False
    Attributes: dict[str, str] = {}
    NodeResources: NodeResources = field(default_factory=NodeResources)
    ReservedResources: NodeReservedResources = field(default_factory=NodeReservedResources)
    Links: dict[str, str] | None = None
    Meta: dict[str, str] = {}
    NodeClass: str = ""
    NodePool: str = "default"
    CgroupParent: str = ""
    Drain: bool = False
    DrainStrategy: DrainStrategy | None = None
    SchedulingEligibility: str = NODE_ELIGIBLE
    Status: str = NODE_STATUS_INIT
    StatusDescription: str = ""
    StatusUpdatedAt: int = 0
    Events: list[NodeEvent] | None = None
    Drivers: dict[str, DriverInfo] = {}
    HostVolumes: dict[str, ClientHostVolumeConfig] | None = None
    HostNetworks: dict[str, Any] | None = None
    CSIControllerPlugins: dict[str, Any] | None = None
    CSINodePlugins: dict[str, Any] | None = None
    LastDrain: dict[str, Any] | None = None
    ComputedClass: str = ""
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def ready(self) -> bool:
        return (self.Status == NODE_STATUS_READY and not self.Drain
                and self.SchedulingEligibility == NODE_ELIGIBLE)

    def terminal(self) -> bool:
        return self.Status == NODE_STATUS_DOWN


def compute_class(node: Node) -> str:
    """Nomad's computed node class: a hash of the scheduling-relevant, non-unique fields."""
    import hashlib

    parts = [node.Datacenter, node.NodeClass, node.NodePool]
    parts += [f"{k}={v}" for k, v in sorted(node.Attributes.items()) if not k.startswith("unique.")]
    parts += [f"m:{k}={v}" for k, v in sorted(node.Meta.items()) if not k.startswith("unique.")]
    for dev in node.NodeResources.Devices or ():  # device groups, not their instances
        attrs = sorted((k, sorted(v.items()) if isinstance(v, dict) else v)
                       for k, v in (dev.get("Attributes") or {}).items()
                       if not k.startswith("unique."))
        parts.append(f"d:{dev.get('Vendor')}/{dev.get('Type')}/{dev.get('Name')}:{attrs}")
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).hexdigest()
    return f"v1:{int(digest, 16)}"
