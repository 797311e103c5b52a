"""A compiled ACL: the union of a token's policies, answering "may this token do X?"
(Nomad's acl/acl.go). Deny wins over any grant; namespace rules may use `*` globs, and the
closest matching glob applies when no exact rule exists."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from .policy import (HOST_VOLUME_POLICIES, NODE_POOL_POLICIES, POLICY_DENY, POLICY_LIST,
                     POLICY_READ, POLICY_WRITE, Policy, expand_labeled, expand_namespace)

_RANK = {"": 0, POLICY_LIST: 1, POLICY_READ: 2, POLICY_WRITE: 3}


class ACL:
    def __init__(self, management: bool = False) -> None:
        self.management = management
        self.namespaces: dict[str, set[str]] = {}
        self.host_volumes: dict[str, set[str]] = {}
        self.node_pools: dict[str, set[str]] = {}
        self.simple: dict[str, str] = {}
        self.variables: dict[str, dict[str, set[str]]] = {}  # ns -> path glob -> caps

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def compile(cls, policies: Iterable[Policy]) -> "ACL":
        from .variables import merge_variables
        acl = cls()
        for pol in policies:
            for rule in pol.namespaces:
                _merge(acl.namespaces, rule.name, expand_namespace(rule))
                merge_variables(acl.variables, rule)
            for rule in pol.host_volumes:
                _merge(acl.host_volumes, rule.name, expand_labeled(rule, HOST_VOLUME_POLICIES))
            for rule in pol.node_pools:
                _merge(acl.node_pools, rule.name, expand_labeled(rule, NODE_POOL_POLICIES))
            for block, level in pol.simple.items():
                acl.simple[block] = _max_privilege(acl.simple.get(block, ""), level)
        return acl

    # -- namespaces -------------------------------------------------------------------------
    def namespace_capabilities(self, ns: str) -> set[str]:
        if ns in self.namespaces:
            return self.namespaces[ns]
        return _closest_glob(self.namespaces, ns)

    def allow_ns_op(self, ns: str, op: str) -> bool:
        """May the token do `op` in namespace `ns` (`*`: in at least one namespace)?"""
        if self.management:
            return True
        if ns == "*":
            return any(op in caps and "deny" not in caps for caps in self.namespaces.values())
        caps = self.namespace_capabilities(ns)
        return "deny" not in caps and op in caps

    def allow_ns_any(self, ns: str, ops: Iterable[str]) -> bool:
        return any(self.allow_ns_op(ns, op) for op in ops)

    def allow_namespace(self, ns: str) -> bool:
        """Any (non-deny) capability in `ns`: enough to see the namespace itself."""
        if self.management:
            return True
        if ns == "*":
            return any(caps and "deny" not in caps for caps in self.namespaces.values())
        caps = self.namespace_capabilities(ns)
        return bool(caps) and "deny" not in caps

    # -- node, agent, operator, quota, plugin ---------------------------------------------
    def _allow(self, block: str, need: str) -> bool:
        if self.management:
            return True
        level = self.simple.get(block, "")
        if level == POLICY_DENY:
            return False
        return _RANK[level] >= _RANK[need]

    def allow_node_read(self) -> bool:
        return self._allow("node", POLICY_READ)

    def allow_node_write(self) -> bool:
        return self._allow("node", POLICY_WRITE)

    def allow_agent_read(self) -> bool:
        return self._allow("agent", POLICY_READ)

    def allow_agent_write(self) -> bool:
        return self._allow("agent", POLICY_WRITE)

    def allow_operator_read(self) -> bool:
        return self._allow("operator", POLICY_READ)

    def allow_operator_write(self) -> bool:
        return self._allow("operator", POLICY_WRITE)

    def allow_quota_read(self) -> bool:
        return self._allow("quota", POLICY_READ)

    def allow_quota_write(self) -> bool:
        return self._allow("quota", POLICY_WRITE)

    def allow_plugin_list(self) -> bool:
        return self._allow("plugin", POLICY_LIST)

    def allow_plugin_read(self) -> bool:
        return self._allow("plugin", POLICY_READ)

    def allow_host_volume_op(self, name: str, op: str) -> bool:
        if self.management:
            return True
        caps = self.host_volumes.get(name)
        if caps is None:
            caps = _closest_glob(self.host_volumes, name)
        return "deny" not in caps and op in caps

    def allow_node_pool_op(self, name: str, op: str) -> bool:
        if self.management:
            return True
        caps = self.node_pools.get(name)
        if caps is None:
            caps = _closest_glob(self.node_pools, name)
        return "deny" not in caps and op in caps

    def allow_node_pool_search(self) -> bool:
        """Any non-deny node pool rule (Nomad's AllowNodePoolSearch)."""
        return self.management or any("deny" not in caps for caps in self.node_pools.values())

    def allow(self, block: str, level: str) -> bool:
        """Generic form: `allow("node", "write")`, `allow("management", "")`."""
        if block == "management":
            return self.management
        return self._allow(block, level)


MANAGEMENT = ACL(management=True)
DENY_ALL = ACL()


def _merge(table: dict[str, set[str]], name: str, caps: set[str]) -> None:
    current = table.setdefault(name, set())
    if "deny" in caps or "deny" in current:
        table[name] = {"deny"}
    else:
        current.update(caps)


def _max_privilege(a: str, b: str) -> str:
    if POLICY_DENY in (a, b):
        return POLICY_DENY
    return a if _RANK[a] >= _RANK[b] else b


def _closest_glob(table: dict[str, set[str]], name: str) -> set[str]:
    """Nomad's findClosestMatchingGlob: of the globs matching `name`, the one that leaves
    the fewest characters to its wildcards."""
    best: tuple[int, str] | None = None
    for pattern in table:
        if "*" in pattern and fnmatch.fnmatchcase(name, pattern):
            diff = len(name) - len(pattern.replace("*", ""))
            if best is None or (diff, pattern) < best:
                best = (diff, pattern)
    return table[best[1]] if best is not None else set()
