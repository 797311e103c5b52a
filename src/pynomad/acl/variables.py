"""Variable capabilities of a compiled ACL (Nomad's acl.go AllowVariableOperation).

`namespace "<ns>" { variables { path "<glob>" { capabilities = [...] } } }` rules merge per
(namespace, path); a request is checked against the namespace's exact rule or closest glob,
then the path's exact rule or closest glob. `deny` wins; `read` and `write` include `list`.
"""

from __future__ import annotations

from .acl import _closest_glob

VARIABLE_LIST = "list"


def expand_variable_caps(caps) -> set[str]:
    caps = set(caps)
    if "deny" in caps:
        return {"deny"}
    if caps & {"read", "write"}:
        caps.add(VARIABLE_LIST)
    return caps


def merge_variables(table: dict[str, dict[str, set[str]]], rule) -> None:
    """Add a NamespaceRule's `variables` paths to `table` (namespace → path → caps)."""
    if not rule.variables:
        return
    paths = table.setdefault(rule.name, {})
    for path, caps in rule.variables.items():
        caps = expand_variable_caps(caps)
        current = paths.setdefault(path, set())
        if "deny" in caps or "deny" in current:
            paths[path] = {"deny"}
        else:
            current.update(caps)


def variable_capabilities(table: dict[str, dict[str, set[str]]], ns: str,
                          path: str) -> set[str]:
    paths = table.get(ns)
    if paths is None:
        name = _closest_glob({k: k for k in table}, ns)
        paths = table.get(name) if isinstance(name, str) else None
    if not paths:
        return set()
    if path in paths:
        return paths[path]
    return _closest_glob(paths, path)


def allow_variable_op(acl, ns: str, path: str, op: str) -> bool:
    """May `acl` do `op` (read, write, list, destroy) on variable `path` in `ns`?"""
    if acl.management:
        return True
    caps = variable_capabilities(getattr(acl, "variables", {}), ns, path)
    return "deny" not in caps and op in caps


def allow_variable_search(acl, ns: str) -> bool:
    """Any variable capability in `ns` (`*`: in any namespace): may it list at all?"""
    if acl.management:
        return True
    table = getattr(acl, "variables", {})
    if ns == "*":
        return bool(table)
    return bool(table.get(ns)) or any(
        "*" in k and _closest_glob({k: k}, ns) for k in table)
