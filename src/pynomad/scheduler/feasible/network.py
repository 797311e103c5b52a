"""Nomad's NetworkChecker: the node offers the group network's mode, and every port's
`host_network`.

`host` and `none` need nothing; `bridge` and `cni/<name>` need a fingerprinted network of
that mode. A port's `host_network` (possibly `${meta.*}`-templated) must name an address
alias of the node; `default` always exists.
"""

from __future__ import annotations

from ...structs import NetworkResource, Node, TaskGroup
from ...helper.goformat import quote as go_quote
from .operators import resolve_target

FILTER_NETWORK = "missing network"


def has_network_mode(node: Node, mode: str) -> bool:
    return any((net.Mode or "host") == mode for net in node.NodeResources.Networks or ())


def has_host_network(node: Node, alias: str) -> bool:
    if alias == "default" or alias in (node.HostNetworks or {}):
        return True
    for net in node.NodeResources.NodeNetworks or ():
        for addr in net.get("Addresses") or ():
            if addr.get("Alias") == alias:
                return True
    return False


class NetworkChecker:
    def __init__(self, network: NetworkResource) -> None:
        self.mode = network.Mode or "host"
        self.ports = [p for p in (*(network.DynamicPorts or ()), *(network.ReservedPorts or ()))
                      if p.HostNetwork and p.HostNetwork != "default"]

    @classmethod
    def of(cls, tg: TaskGroup) -> "NetworkChecker | None":
        if not tg.Networks:
            return None
        checker = cls(tg.Networks[0])
        if checker.mode == "none" or (checker.mode == "host" and not checker.ports):
            return None
        return checker

    def check(self, node: Node) -> str | None:
        if self.mode != "host" and not has_network_mode(node, self.mode):
            return FILTER_NETWORK
        for port in self.ports:
            alias, ok = resolve_target(port.HostNetwork, node)
            if not ok or alias is None:
                return (f"invalid host network {go_quote(port.HostNetwork)} template for port "
                        f"{go_quote(port.Label)}")
            if not has_host_network(node, alias):
                return f"missing host network {go_quote(alias)} for port {go_quote(port.Label)}"
        return None
