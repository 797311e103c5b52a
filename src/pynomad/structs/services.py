"""Nomad native service registrations as stored in state (Nomad's structs.ServiceRegistration,
JSON field names). A registration is written by the client running the allocation and
removed when the allocation stops, becomes client-terminal or its node goes down.
"""

from __future__ import annotations

from .base import Base


class ServiceRegistration(Base, forbid_unknown_fields=False):
    ID: str = ""
    ServiceName: str = ""
    Namespace: str = "default"
    NodeID: str = ""
    Datacenter: str = ""
    JobID: str = ""
    AllocID: str = ""
    Tags: list[str] | None = None
    Address: str = ""
    Port: int = 0
    CreateIndex: int = 0
    ModifyIndex: int = 0

    def to_dict(self) -> dict:
        return {"ID": self.ID, "ServiceName": self.ServiceName, "Namespace": self.Namespace,
                "NodeID": self.NodeID, "Datacenter": self.Datacenter, "JobID": self.JobID,
                "AllocID": self.AllocID, "Tags": list(self.Tags or []),
                "Address": self.Address, "Port": self.Port,
                "CreateIndex": self.CreateIndex, "ModifyIndex": self.ModifyIndex}

    def same_content(self, other: "ServiceRegistration") -> bool:
        """Equal but for the indexes (an unchanged re-registration is not a write)."""
        a, b = self.to_dict(), other.to_dict()
        for d in (a, b):
            d.pop("CreateIndex"), d.pop("ModifyIndex")
        return a == b


def service_id(alloc_id: str, owner: str, name: str, port_label: str) -> str:
    """Nomad's MakeAllocServiceID: `_nomad-task-<alloc>-<group|task>-<name>-<port label>`."""
    return f"_nomad-task-{alloc_id}-{owner}-{name}-{port_label}"


def services_list(registrations, namespace: str) -> list[dict]:
    """`GET /v1/services`: per namespace (`*`: all), each service name with the union of its
    tags: [{Namespace, Services: [{ServiceName, Tags}]}], sorted by namespace and name."""
    by_ns: dict[str, dict[str, set[str]]] = {}
    for reg in registrations:
        if namespace not in ("*", reg.Namespace):
            continue
        by_ns.setdefault(reg.Namespace, {}).setdefault(reg.ServiceName, set()).update(
            reg.Tags or ())
    return [{"Namespace": ns,
             "Services": [{"ServiceName": name, "Tags": sorted(tags)}
                          for name, tags in sorted(names.items())]}
            for ns, names in sorted(by_ns.items())]
