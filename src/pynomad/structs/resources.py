"""Resources asked by tasks and offered by nodes."""

from __future__ import annotations

from typing import Any

from .base import Base


class Port(Base):
    Label: str = ""
    Value: int = 0
    To: int = 0
    HostNetwork: str = ""


class DNSConfig(Base):
    Servers: list[str] | None = None
    Searches: list[str] | None = None
    Options: list[str] | None = None


class NetworkResource(Base):
    Mode: str = ""
    Device: str = ""
    CIDR: str = ""
    IP: str = ""
    DNS: DNSConfig | None = None
    ReservedPorts: list[Port] | None = None
    DynamicPorts: list[Port] | None = None
    Hostname: str = ""
    MBits: int | None = None


class Resources(Base):
    CPU: int | None = None
    Cores: int | None = None
    MemoryMB: int | None = None
    MemoryMaxMB: int | None = None
    DiskMB: int | None = None
    Networks: list[NetworkResource] | None = None
    Devices: list[dict[str, Any]] | None = None
    IOPS: int | None = None
    SecretsMB: int | None = None


class AllocatedPortMapping(Base):
    Label: str = ""
    Value: int = 0
    To: int = 0
    HostIP: str = ""


class AllocatedCpuResources(Base):
    CpuShares: int = 0
    ReservedCores: list[int] | None = None


class AllocatedMemoryResources(Base):
    MemoryMB: int = 0
    MemoryMaxMB: int = 0


class AllocatedTaskResources(Base):
    Cpu: AllocatedCpuResources | None = None
    Memory: AllocatedMemoryResources | None = None
    Networks: list[NetworkResource] | None = None
    Devices: list[dict[str, Any]] | None = None


class AllocatedSharedResources(Base):
    DiskMB: int = 0
    Networks: list[NetworkResource] | None = None
    Ports: list[AllocatedPortMapping] | None = None


class AllocatedResources(Base):
    Tasks: dict[str, AllocatedTaskResources] | None = None
    TaskLifecycles: dict[str, Any] | None = None
    Shared: AllocatedSharedResources | None = None
