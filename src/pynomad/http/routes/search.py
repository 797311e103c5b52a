"""/v1/search: Nomad's prefix search (Search.PrefixSearch) over the server's state.

`nomad status <prefix>` asks every context at once ("all") and routes to the matching
status command. Like Nomad, at most 20 IDs are returned per context, with a truncation flag
when more matched; contexts keyed by UUID (evals, allocs, nodes, deployments) skip a prefix
that cannot be part of a UUID instead of failing the whole search.

With ACLs, as Nomad's sufficientSearchPerms / filteredSearchContexts: a context the token
may not search is refused (403) when asked for by name and left out of "all"; namespaces
and node pools are filtered one by one, and objects of namespaces the token cannot read
are dropped when searching every namespace (`*`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aiohttp import web

from ...acl import ACL, MANAGEMENT
from ...server.errors import BadRequest, Forbidden
from ...state import StateStore
from ...structs import Base
from ..acl_enforce import PERMISSION_DENIED, request_acl
from ..common import AGENT, decode_body, query_options, reply
from .deployments import _id_prefix

TRUNCATE_LIMIT = 20  # Nomad's truncateLimit

# Nomad's Context values; "all" expands to every one of them (OSS set, plus node pools).
ALL_CONTEXTS = ("allocs", "jobs", "nodes", "node_pools", "evals", "deployment", "plugins",
                "volumes", "scaling_policy", "vars", "namespaces")
_UUID_CONTEXTS = {"allocs", "nodes", "evals", "deployment"}
_TABLE = {"allocs": "allocs", "jobs": "jobs", "nodes": "nodes", "evals": "evals",
          "deployment": "deployment"}


class SearchRequest(Base):
    Prefix: str = ""
    Context: str = ""


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.route("PUT", "/v1/search")
    @r.post("/v1/search")
    async def prefix_search(request):
        req = await decode_body(request, SearchRequest)
        q = query_options(request)
        state = request.app[AGENT].server.state
        out = prefix_search_state(state, q.namespace, req.Prefix, req.Context,
                                  request_acl(request))
        return reply(request, out, out["Index"])


def check_context(context: str) -> tuple[str, ...]:
    if context == "all":
        return ALL_CONTEXTS
    if context in ALL_CONTEXTS:
        return (context,)
    raise BadRequest(f"context must be one of [{' '.join(ALL_CONTEXTS)}] or 'all' for all "
                     f'contexts; got "{context}"')


def allowed_contexts(acl: ACL, namespace: str, context: str) -> tuple[str, ...]:
    """The contexts `acl` may search; Forbidden if it named one it may not."""
    contexts = check_context(context)
    allowed = tuple(c for c in contexts if context_allowed(acl, namespace, c))
    if context != "all" and not allowed:
        raise Forbidden(PERMISSION_DENIED)
    return allowed


def context_allowed(acl: ACL, namespace: str, ctx: str) -> bool:
    if acl.management:
        return True
    if ctx == "nodes":
        return acl.allow_node_read()
    if ctx == "node_pools":
        return acl.allow_node_pool_search()
    if ctx == "namespaces":
        return acl.allow_namespace(namespace)
    if ctx == "vars":
        from ...acl.variables import allow_variable_search
        return allow_variable_search(acl, namespace)
    if ctx == "plugins":
        return acl.allow_plugin_list()
    if ctx == "volumes":
        return acl.allow_ns_any(namespace, ("csi-list-volume", "csi-read-volume",
                                            "list-jobs", "read-job"))
    if ctx == "scaling_policy":
        return acl.allow_ns_any(namespace, ("list-scaling-policies", "read-job"))
    return acl.allow_ns_op(namespace, "read-job")  # jobs, allocs, evals, deployment


def prefix_search_state(state: StateStore, namespace: str, prefix: str, context: str,
                        acl: ACL = MANAGEMENT) -> dict:
    """Nomad's PrefixSearch reply: `Matches` and `Truncations` per context searched."""
    contexts = allowed_contexts(acl, namespace, context)
    # as Nomad: an odd-length prefix is rounded down for the UUID indexes (unless only jobs
    # are searched), then every candidate is checked against the full prefix
    lookup = prefix if context == "jobs" else _round_down_if_odd(prefix)
    matches: dict[str, list[str] | None] = {}
    truncations: dict[str, bool] = {}
    for ctx in contexts:
        candidates = _candidates(state, ctx, namespace, lookup, acl)
        if candidates is None:
            continue  # not a possible UUID prefix: this context is left out
        window = candidates[:TRUNCATE_LIMIT]
        found = [i for i in window if i.startswith(prefix)]
        matches[ctx] = found or None
        truncations[ctx] = len(candidates) > TRUNCATE_LIMIT
    index = max([state.indexes.get(_TABLE[c], 0) for c in contexts if c in _TABLE] or [0])
    return {"Matches": dict(sorted(matches.items())),
            "Truncations": dict(sorted(truncations.items())),
            "Index": index, "LastContact": 0, "KnownLeader": True}


def _round_down_if_odd(prefix: str) -> str:
    """Nomad's roundUUIDDownIfOdd: hyphens don't count towards the length."""
    if (len(prefix) - prefix.count("-")) % 2 == 0:
        return prefix
    return prefix[:-1]


def _in_ns(namespace: str, acl: ACL) -> Callable[[object], bool]:
    if namespace != "*":
        return lambda obj: getattr(obj, "Namespace", None) == namespace
    if acl.management:
        return lambda obj: True
    return lambda obj: acl.allow_ns_op(getattr(obj, "Namespace", None) or "default", "read-job")


def _candidates(state: StateStore, ctx: str, namespace: str, prefix: str,
                acl: ACL) -> list[str] | None:
    """IDs of `ctx` matching `prefix` in index order, or None if `prefix` can't be a UUID
    prefix for a UUID-keyed context."""
    if ctx in _UUID_CONTEXTS:
        try:
            hexed = _id_prefix(prefix)
        except BadRequest:
            return None
        objs: Iterable = {"allocs": state.allocs, "nodes": state.nodes, "evals": state.evals,
                          "deployment": state.deployments}[ctx].values()
        if ctx != "nodes":
            objs = filter(_in_ns(namespace, acl), objs)
        return sorted(o.ID for o in objs if o.ID.replace("-", "").lower().startswith(hexed))
    if ctx == "jobs":
        jobs = sorted(filter(_in_ns(namespace, acl), state.jobs.values()),
                      key=lambda j: (j.Namespace or "", j.ID or ""))
        return [j.ID for j in jobs if (j.ID or "").startswith(prefix)]
    if ctx == "namespaces":
        return sorted(n for n in _namespaces(state)
                      if n.startswith(prefix) and acl.allow_namespace(n))
    if ctx == "node_pools":
        return sorted(p for p in _node_pools(state)
                      if p.startswith(prefix) and acl.allow_node_pool_op(p, "read"))
    if ctx == "vars":
        from ...acl.variables import allow_variable_search
        return [v.Path for v in state.variables_list(namespace, prefix)
                if allow_variable_search(acl, v.Namespace)]
    return []  # plugins, volumes, scaling policies: not kept by this server


def _namespaces(state: StateStore) -> set[str]:
    """The namespace table, the built-in namespace and those jobs belong to."""
    names = {"default"}
    names.update(n.Name for n in getattr(state, "namespaces", {}).values())
    names.update(ns for ns, _ in state.jobs)
    return names


def _node_pools(state: StateStore) -> set[str]:
    """The built-in pools plus those nodes and jobs name (no node pool table)."""
    pools = {"all", "default"}
    pools.update(n.NodePool for n in state.nodes.values() if n.NodePool)
    pools.update(j.NodePool for j in state.jobs.values() if j.NodePool)
    return pools
