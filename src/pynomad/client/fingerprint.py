"""Fingerprint this host into a `structs.Node` with Nomad's attribute names.

Detection (`detect_host`) is the I/O part; `build_node` is pure: host facts + config +
driver infos → Node. The node ID and secret ID are persisted in `<data_dir>/client/`
(`client-id`, `secret-id`) so a restarted client keeps its identity.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
from dataclasses import dataclass, field

import psutil

import pynomad
from pynomad.structs import (ClientHostVolumeConfig, DriverInfo, NetworkResource, Node,
                             NodeCpuResources, NodeDiskResources, NodeMemoryResources,
                             NodeReservedResources, NodeResources, generate_uuid)

from .config import ClientConfig

MIB = 1024 * 1024
_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
           "i386": "386", "i686": "386", "armv7l": "arm", "armv6l": "arm",
           "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
NOMAD_REVISION = "pynomad"


@dataclass
class HostFacts:
    """Raw facts about the host, gathered once by `detect_host`."""

    hostname: str = "localhost"
    kernel_name: str = "linux"
    kernel_version: str = ""
    machine: str = "x86_64"
    os_name: str = ""
    os_version: str = ""
    cpu_cores: int = 1
    cpu_mhz: int = 0
    cpu_model: str = ""
    memory_bytes: int = 0
    disk_volume: str = ""
    disk_total_bytes: int = 0
    disk_free_bytes: int = 0
    ip_address: str = "127.0.0.1"
    interface: str = "lo"
    signals: list[str] = field(default_factory=list)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _os_release() -> tuple[str, str]:
    fields: dict[str, str] = {}
    for line in _read("/etc/os-release").splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            fields[k.strip()] = v.strip().strip('"')
    return fields.get("ID", platform.system().lower()), fields.get("VERSION_ID", "")


def _cpu_info() -> tuple[str, int]:
    """(model name, MHz) from /proc/cpuinfo, psutil as a fallback for the frequency."""
    model, mhz = "", 0.0
    for line in _read("/proc/cpuinfo").splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "cpu MHz" and not mhz:
            try:
                mhz = float(value)
            except ValueError:
                pass
    if not mhz:
        try:
            freq = psutil.cpu_freq()
            mhz = float(freq.max or freq.current) if freq else 0.0
        except Exception:  # noqa: BLE001 - psutil raises platform-specific errors
            mhz = 0.0
    return model, int(mhz)


def _volume_of(path: str) -> str:
    """The device holding `path` (longest matching mount point)."""
    best, device = "", ""
    try:
        partitions = psutil.disk_partitions(all=True)
    except Exception:  # noqa: BLE001
        return ""
    real = os.path.realpath(path)
    for p in partitions:
        mp = p.mountpoint
        if (real == mp or real.startswith(mp.rstrip("/") + "/")) and len(mp) > len(best):
            best, device = mp, p.device
    return device


def default_ip(interface: str = "") -> tuple[str, str]:
    """(ip, interface) for tasks: the named interface, else the default-route source."""
    addrs = psutil.net_if_addrs()
    if interface:
        for a in addrs.get(interface, []):
            if a.family == socket.AF_INET:
                return a.address, interface
    ip = "127.0.0.1"
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))   # TEST-NET: no packet is sent for UDP connect
            ip = s.getsockname()[0]
    except OSError:
        pass
    for name, items in addrs.items():
        if any(a.family == socket.AF_INET and a.address == ip for a in items):
            return ip, name
    return ip, "lo"


def detect_host(data_dir: str, interface: str = "") -> HostFacts:
    """Gather host facts (the only I/O of this module besides the ID files)."""
    uname = platform.uname()
    os_name, os_version = _os_release()
    model, mhz = _cpu_info()
    os.makedirs(data_dir, exist_ok=True)
    disk = shutil.disk_usage(data_dir)
    ip, iface = default_ip(interface)
    return HostFacts(
        hostname=socket.gethostname(), kernel_name=uname.system.lower(),
        kernel_version=uname.release, machine=uname.machine, os_name=os_name,
        os_version=os_version, cpu_cores=psutil.cpu_count(logical=True) or 1, cpu_mhz=mhz,
        cpu_model=model, memory_bytes=psutil.virtual_memory().total,
        disk_volume=_volume_of(data_dir), disk_total_bytes=disk.total,
        disk_free_bytes=disk.free, ip_address=ip, interface=iface,
        signals=sorted(s.name for s in signal.Signals if not s.name.startswith("SIG_")),
    )


def _persisted_id(path: str) -> str:
    """Read an ID file or create it with a fresh UUID."""
    existing = _read(path).strip()
    if existing:
        return existing
    new = generate_uuid()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(new)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return new


def node_identity(client_dir: str) -> tuple[str, str]:
    """(node ID, secret ID), persisted under `client_dir`."""
    return (_persisted_id(os.path.join(client_dir, "client-id")),
            _persisted_id(os.path.join(client_dir, "secret-id")))


def host_attributes(facts: HostFacts, cfg: ClientConfig) -> dict[str, str]:
    """Nomad's `attr.*` names for the host (drivers excluded)."""
    mhz = facts.cpu_mhz or 1000
    total = cfg.cpu_total_compute or mhz * facts.cpu_cores
    attrs = {
        "kernel.name": facts.kernel_name,
        "kernel.version": facts.kernel_version,
        "kernel.arch": facts.machine,
        "os.name": facts.os_name,
        "os.version": facts.os_version,
        "os.signals": ",".join(facts.signals),
        "cpu.arch": _GOARCH.get(facts.machine, facts.machine),
        "cpu.numcores": str(facts.cpu_cores),
        "cpu.frequency": str(mhz),
        "cpu.totalcompute": str(total),
        "cpu.usablecompute": str(total),
        "cpu.reservablecores": f"0-{facts.cpu_cores - 1}" if facts.cpu_cores > 1 else "0",
        "cpu.modelname": facts.cpu_model,
        "memory.totalbytes": str(facts.memory_bytes),
        "unique.hostname": facts.hostname,
        "unique.network.ip-address": cfg.network_address or facts.ip_address,
        "unique.storage.volume": facts.disk_volume,
        "unique.storage.bytestotal": str(facts.disk_total_bytes),
        "unique.storage.bytesfree": str(facts.disk_free_bytes),
        "nomad.version": pynomad.__version__,
        "nomad.revision": NOMAD_REVISION,
        "nomad.service_discovery": "true",
    }
    if cfg.http_addr:
        attrs["unique.advertise.address"] = cfg.http_addr
    return {k: v for k, v in attrs.items() if v != ""}


def node_resources(facts: HostFacts, cfg: ClientConfig) -> NodeResources:
    mhz = facts.cpu_mhz or 1000
    ip = cfg.network_address or facts.ip_address
    net = NetworkResource(Mode="host", Device=facts.interface, IP=ip, CIDR=f"{ip}/32",
                          MBits=1000)
    return NodeResources(
        Cpu=NodeCpuResources(CpuShares=cfg.cpu_total_compute or mhz * facts.cpu_cores,
                             TotalCpuCores=facts.cpu_cores,
                             ReservableCpuCores=list(range(facts.cpu_cores))),
        Memory=NodeMemoryResources(MemoryMB=cfg.memory_total_mb or facts.memory_bytes // MIB),
        Disk=NodeDiskResources(DiskMB=cfg.disk_total_mb or facts.disk_free_bytes // MIB),
        Networks=[net],
        MinDynamicPort=cfg.min_dynamic_port, MaxDynamicPort=cfg.max_dynamic_port,
    )


def build_node(facts: HostFacts, cfg: ClientConfig, node_id: str, secret_id: str,
               drivers: dict[str, DriverInfo]) -> Node:
    """Pure: assemble the Node this client registers."""
    attrs = host_attributes(facts, cfg)
    for name, info in sorted(drivers.items()):
        if info.Detected:
            attrs[f"driver.{name}"] = "1"
            attrs.update(info.Attributes or {})
    reserved = NodeReservedResources(
        Cpu=NodeCpuResources(CpuShares=cfg.reserved_cpu),
        Memory=NodeMemoryResources(MemoryMB=cfg.reserved_memory_mb),
        Disk=NodeDiskResources(DiskMB=cfg.reserved_disk_mb),
        Networks={"ReservedHostPorts": cfg.reserved_ports})
    return Node(
        ID=node_id, SecretID=secret_id, Datacenter=cfg.datacenter,
        Name=cfg.name or facts.hostname, HTTPAddr=cfg.http_addr, TLSEnabled=cfg.tls_enabled,
        Attributes=attrs, NodeResources=node_resources(facts, cfg), ReservedResources=reserved,
        Meta=dict(cfg.meta), NodeClass=cfg.node_class, NodePool=cfg.node_pool,
        Drivers=dict(drivers), Status="initializing",
        HostVolumes={name: ClientHostVolumeConfig(Name=name, Path=path, ReadOnly=read_only)
                     for name, (path, read_only) in sorted(cfg.host_volumes.items())} or None,
    )


def fingerprint(cfg: ClientConfig, drivers: dict[str, DriverInfo],
                facts: HostFacts | None = None) -> Node:
    """Detect the host (unless `facts` is given) and build this client's Node."""
    facts = facts or detect_host(cfg.data_dir, cfg.network_interface)
    node_id, secret_id = node_identity(cfg.client_dir)
    return build_node(facts, cfg, node_id, secret_id, drivers)
