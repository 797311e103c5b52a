"""The service hook: registers an allocation's `provider = "nomad"` services with the
servers (Nomad's groupServiceHook/serviceHook with the Nomad service provider).

Once the allocation's tasks are running, every group and task `service` block whose
provider is `nomad` becomes a ServiceRegistration (ID `_nomad-task-<alloc>-<group|task>-
<name>-<port label>`) sent with `ServiceRegistration.Upsert`; when the allocation stops
they are removed with `ServiceRegistration.DeleteByAllocID`. The address and port come
from the allocation's port mapping for the service's port label (or the node's IP when the
service names no port). Calls are serialized on one background task and a failed call is
logged, not retried: the servers also drop an allocation's registrations when it becomes
client-terminal or its node goes down.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pynomad.structs import Allocation, Node
from pynomad.structs import rpc as r

log = logging.getLogger(__name__)

NODE_IP_ATTR = "unique.network.ip-address"


def nomad_services(alloc: Allocation) -> list[tuple[str, dict[str, Any]]]:
    """(owner, service) for each `provider = "nomad"` service: owner is `group` for a
    group service, else the task's name."""
    tg = alloc.Job.lookup_task_group(alloc.TaskGroup) if alloc.Job else None
    if tg is None:
        return []
    found = [("group", svc) for svc in tg.Services or ()]
    for task in tg.Tasks or ():
        found += [(task.Name, svc) for svc in task.Services or ()]
    return [(owner, svc) for owner, svc in found if svc.get("Provider") == "nomad"]


def _ports(alloc: Allocation, task: str) -> dict[str, tuple[str, int, int]]:
    """port label -> (host IP, host port, mapped port) from the allocated resources."""
    out: dict[str, tuple[str, int, int]] = {}
    ar = alloc.AllocatedResources
    if ar is None:
        return out
    networks = list(ar.Shared.Networks or []) if ar.Shared else []
    task_res = (ar.Tasks or {}).get(task)
    if task_res is not None:
        networks += task_res.Networks or []
    for nw in networks:
        for p in (nw.ReservedPorts or []) + (nw.DynamicPorts or []):
            out.setdefault(p.Label, (nw.IP, p.Value, p.To or p.Value))
    for p in (ar.Shared.Ports or []) if ar.Shared else []:
        out[p.Label] = (p.HostIP, p.Value, p.To if p.To > 0 else p.Value)
    return out


def service_address(alloc: Allocation, node: Node | None, owner: str,
                    svc: dict[str, Any]) -> tuple[str, int]:
    """Nomad's getAddress for the modes a process driver supports: the allocated host
    port for the label (its `to` port with `address_mode = "alloc"`), a literal port
    number, or the node's IP and port 0 when the service names no port."""
    node_ip = (node.Attributes or {}).get(NODE_IP_ATTR, "") if node is not None else ""
    label = str(svc.get("PortLabel") or "")
    mode = svc.get("AddressMode") or "auto"
    address = str(svc.get("Address") or "")
    if not label:
        return address or node_ip, 0
    mapped = _ports(alloc, owner if owner != "group" else "").get(label)
    if mapped is not None:
        ip, host_port, to_port = mapped
        return address or ip or node_ip, (to_port if mode == "alloc" else host_port)
    if label.isdigit():
        return address or node_ip, int(label)
    raise ValueError(f"invalid port {label!r}: port label not found")


def registrations(alloc: Allocation, node: Node | None) -> list[dict[str, Any]]:
    """The ServiceRegistration documents of the alloc's Nomad services."""
    out = []
    for owner, svc in nomad_services(alloc):
        name = str(svc.get("Name") or "")
        try:
            address, port = service_address(alloc, node, owner, svc)
        except ValueError as err:
            log.warning("alloc %s: service %s: %s", alloc.ID[:8], name, err)
            continue
        label = str(svc.get("PortLabel") or "")
        out.append({"ID": f"_nomad-task-{alloc.ID}-{owner}-{name}-{label}",
                    "ServiceName": name, "Namespace": alloc.Namespace or "default",
                    "NodeID": alloc.NodeID, "Datacenter": node.Datacenter if node else "",
                    "JobID": alloc.JobID, "AllocID": alloc.ID,
                    "Tags": list(svc.get("Tags") or []), "Address": address, "Port": port})
    return out


class ServiceHook:
    """Register on `running`, deregister on `stop` (each at most once per state)."""

    def __init__(self, alloc: Allocation, node: Node | None, rpc) -> None:
        self.alloc, self.node, self.rpc = alloc, node, rpc
        self.registered = False
        self._queue: asyncio.Task | None = None

    @property
    def active(self) -> bool:
        return self.rpc is not None and bool(nomad_services(self.alloc))

    def running(self) -> None:
        """The alloc's tasks are running: register its services (once)."""
        if self.registered or not self.active:
            return
        self.registered = True
        self._chain(self._register())

    def stop(self) -> None:
        """The alloc is stopping or done: remove its registrations (once)."""
        if not self.registered:
            return
        self.registered = False
        self._chain(self._deregister())

    async def wait(self) -> None:
        """Wait for the calls already queued (tests, alloc shutdown)."""
        while self._queue is not None and not self._queue.done():
            await asyncio.shield(self._queue)

    def _chain(self, coro) -> None:
        prev = self._queue

        async def run() -> None:
            if prev is not None:
                await asyncio.gather(prev, return_exceptions=True)
            await coro
        self._queue = asyncio.ensure_future(run())

    def _secret(self) -> str:
        return self.node.SecretID if self.node is not None else ""

    async def _register(self) -> None:
        regs = registrations(self.alloc, self.node)
        if not regs:
            return
        try:
            await self.rpc.call(r.SERVICE_UPSERT, r.ServiceUpsertArgs(
                Services=regs, NodeSecretID=self._secret()), r.IndexReply)
        except Exception as err:  # noqa: BLE001 - logged; the servers clean up on stop
            log.warning("alloc %s: registering services failed: %s", self.alloc.ID[:8], err)

    async def _deregister(self) -> None:
        try:
            await self.rpc.call(r.SERVICE_DELETE_BY_ALLOC, r.ServiceDeleteByAllocArgs(
                AllocID=self.alloc.ID, NodeSecretID=self._secret()), r.IndexReply)
        except Exception as err:  # noqa: BLE001 - the servers clean up on client-terminal
            log.warning("alloc %s: deregistering services failed: %s", self.alloc.ID[:8], err)
