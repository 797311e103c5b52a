"""Nomad's HostVolumeChecker: every host volume the group asks for exists on the node, and a
read-only node volume is only mounted read-only. A per-alloc volume's source carries the
allocation's index (`data` → `data[2]`), so the check depends on the allocation placed."""

from __future__ import annotations

from ...structs import Node, TaskGroup
from ..context import EvalContext

HOST_VOLUMES_FILTER = "missing compatible host volumes"


def host_volume_requests(tg: TaskGroup, alloc_name: str = "") -> dict[str, list[bool]]:
    """The group's host volumes by source, with each request's read-only flag. A per-alloc
    volume's source gets the alloc's index suffix (`data` → `data[2]`)."""
    requests: dict[str, list[bool]] = {}
    for req in (tg.Volumes or {}).values():
        if not isinstance(req, dict) or req.get("Type") != "host":
            continue
        source = req.get("Source") or ""
        if req.get("PerAlloc"):
            source += alloc_name[alloc_name.rfind("["):] if "[" in alloc_name else ""
        requests.setdefault(source, []).append(bool(req.get("ReadOnly")))
    return requests


def has_host_volumes(node: Node, requests: dict[str, list[bool]]) -> bool:
    volumes = node.HostVolumes or {}
    for source, read_only in requests.items():
        volume = volumes.get(source)
        if volume is None or (volume.ReadOnly and not all(read_only)):
            return False
    return True


class HostVolumeChecker:
    def __init__(self, ctx: EvalContext, tg: TaskGroup, requests: dict[str, list[bool]]) -> None:
        self.ctx = ctx
        self.tg = tg
        self.requests = requests
        self.per_alloc = any(isinstance(v, dict) and v.get("PerAlloc")
                             for v in (tg.Volumes or {}).values())
        self._alloc_name: str | None = None

    @classmethod
    def of(cls, ctx: EvalContext, tg: TaskGroup) -> "HostVolumeChecker | None":
        requests = host_volume_requests(tg)
        return cls(ctx, tg, requests) if requests else None

    def check(self, node: Node) -> str | None:
        if self.per_alloc and self._alloc_name != self.ctx.options.alloc_name:
            self._alloc_name = self.ctx.options.alloc_name
            self.requests = host_volume_requests(self.tg, self._alloc_name)
        return None if has_host_volumes(node, self.requests) else HOST_VOLUMES_FILTER
