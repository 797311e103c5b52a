"""The nodes a job may use at all (Nomad's readyNodesInDCsAndPool): ready, in one of the
job's datacenters (glob patterns) and in its node pool (`all` spans every pool). These
filters run before the chain, so they don't count in the placement metrics except as
`NodesAvailable` per datacenter."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from ...structs import Job, Node

ALL_POOLS = ("all", "", None)


def in_datacenters(node: Node, datacenters: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(node.Datacenter, dc) for dc in datacenters)


def in_node_pool(node: Node, pool: str | None) -> bool:
    return pool in ALL_POOLS or node.NodePool == pool


def ready_nodes(nodes: Iterable[Node], job: Job) -> tuple[list[Node], dict[str, int]]:
    """Ready nodes in the job's node pool and datacenters, and their count per DC."""
    datacenters = job.Datacenters or ["*"]
    out: list[Node] = []
    by_dc: dict[str, int] = {}
    for node in nodes:
        if not in_node_pool(node, job.NodePool):
            continue
        if not node.ready() or not in_datacenters(node, datacenters):
            continue
        out.append(node)
        by_dc[node.Datacenter] = by_dc.get(node.Datacenter, 0) + 1
    return out, by_dc
