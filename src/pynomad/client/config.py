"""Client agent configuration (the `client { ... }` block plus what the agent derives)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class ClientConfig:
    """Everything the client needs; the agent fills it from its HCL/flags.

    Durations are float seconds. `servers` are RPC addresses ("host:port").
    """

    data_dir: str
    servers: list[str] = field(default_factory=list)
    name: str = ""                      # node name; defaults to the hostname
    datacenter: str = "dc1"
    region: str = "global"
    node_class: str = ""
    node_pool: str = "default"
    meta: dict[str, str] = field(default_factory=dict)
    network_interface: str = ""         # interface whose address tasks get
    network_address: str = ""           # explicit address to advertise to tasks
    http_addr: str = ""                 # advertised HTTP address "ip:4646"
    cpu_total_compute: int = 0          # MHz override when detection fails
    memory_total_mb: int = 0            # override of detected memory
    disk_total_mb: int = 0              # override of detected free disk
    reserved_cpu: int = 0
    reserved_memory_mb: int = 0
    reserved_disk_mb: int = 0
    reserved_ports: str = ""
    min_dynamic_port: int = 20000
    max_dynamic_port: int = 32000
    max_kill_timeout_s: float = 30.0
    options: dict[str, str] = field(default_factory=dict)
    host_volumes: dict[str, tuple[str, bool]] = field(default_factory=dict)  # (path, read_only)
    dev_mode: bool = False
    tls_enabled: bool = False
    # client behaviour knobs (Nomad's constants are the defaults)
    alloc_sync_interval_s: float = 0.2
    alloc_sync_retry_s: float = 5.0
    register_retry_s: float = 15.0
    initial_heartbeat_stagger_s: float = 10.0
    max_query_time_s: float = 300.0
    rpc_timeout_s: float = 10.0
    state_fsync: bool = True
    max_task_events: int = 10

    @property
    def client_dir(self) -> str:
        return os.path.join(self.data_dir, "client")

    @property
    def alloc_root(self) -> str:
        return os.path.join(self.data_dir, "alloc")

    def retry_interval(self, base: float) -> float:
        """Nomad uses 1 s retries in dev mode and `base` otherwise."""
        return min(base, 1.0) if self.dev_mode else base
