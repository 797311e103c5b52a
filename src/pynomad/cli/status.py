"""``nomad status [id]``: lists jobs, or routes an ID prefix to the matching status command."""

from __future__ import annotations

from typing import Any

from pynomad.cli.api import APIError
from pynomad.cli.meta import Meta

HELP = {
    "status": """Usage: nomad status [options] <identifier>

  Display the status output for any given resource. The command will detect
  the type of resource being queried and display the appropriate status
  output based on the type of the resource.

  If no identifier is given, the jobs are listed.

Status Options:

  -verbose  Display full information.
""",
}

# search context -> (module, function, help key)
_ROUTES = {
    "evals": ("eval", "status", "eval status"),
    "nodes": ("node", "status", "node status"),
    "allocs": ("alloc", "status", "alloc status"),
    "jobs": ("job", "status", "job status"),
    "deployment": ("deployment", "status", "deployment status"),
}
# Contexts searched when the agent has no /v1/search endpoint: (context, list path).
_FALLBACK = [("jobs", "/v1/jobs"), ("evals", "/v1/evaluations"), ("allocs", "/v1/allocations"),
             ("nodes", "/v1/nodes"), ("deployment", "/v1/deployments")]


def run(meta: Meta, args: list[str]) -> int:
    """Route to job/alloc/node/eval/deployment status depending on the ID."""
    original = list(args)
    _, rest = meta.parse(args, {"verbose": "bool", "short": "bool", "evals": "bool",
                                "all-allocs": "bool", "stats": "bool", "json": "bool",
                                "t": "str", "monitor": "bool"})
    if not rest:
        return _route(meta, "jobs", original)
    ident = rest[-1]
    matches = _search(meta, ident)
    context = _pick(meta, ident, matches)
    if context is None:
        return 1
    if context not in _ROUTES:
        raise meta.fail(f'Unable to resolve ID: "{ident}"')
    return _route(meta, context, original)


def _route(meta: Meta, context: str, args: list[str]) -> int:
    import importlib

    module_name, func_name, help_key = _ROUTES[context]
    module = importlib.import_module(f"pynomad.cli.{module_name}")
    sub = Meta(meta.ui, help_key, module.HELP.get(help_key, ""))
    return int(getattr(module, func_name)(sub, args) or 0)


def _search(meta: Meta, ident: str) -> dict[str, list[str]]:
    client = meta.client()
    try:
        resp, _ = client.post("/v1/search", {"Prefix": ident, "Context": "all"})
        return {ctx: ids or [] for ctx, ids in ((resp or {}).get("Matches") or {}).items()}
    except APIError as exc:
        if exc.status not in (404, 405):
            raise meta.fail(f'Error querying search with id: "{exc}"') from None
    found: dict[str, list[str]] = {}
    for context, path in _FALLBACK:
        prefix = ident if context == "jobs" else ident.replace("-", "")[: len(ident) // 2 * 2]
        try:
            items, _ = client.get(path, {"prefix": ident if context == "jobs" else prefix})
        except APIError:
            continue
        found[context] = [i.get("ID", "") for i in items or []]
    return found


def _pick(meta: Meta, ident: str, matches: dict[str, list[str]]) -> str | None:
    exact = [ctx for ctx, ids in matches.items() if ids and ids[0] == ident]
    if len(exact) > 1:
        _multi(meta, ident, matches)
        return None
    if exact:
        return exact[0]
    chosen = None
    count = 0
    for ctx, ids in matches.items():
        if len(ids) == 1:
            chosen = ctx
            count += 1
        if count > 1 or len(ids) > 1:
            _multi(meta, ident, matches)
            return None
    return chosen or ""


def _multi(meta: Meta, ident: str, matches: dict[str, Any]) -> None:
    meta.ui.error(f'Multiple matches found for id "{ident}"')
    for ctx, ids in matches.items():
        if ids:
            meta.ui.error(f"\n{ctx.title()}:")
            meta.ui.error(", ".join(ids))
