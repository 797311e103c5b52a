"""``nomad ui [-authenticate] [-show-url] [<identifier>]`` (Nomad's command/ui.go): open the
web UI, optionally at a job, allocation or node found by ID prefix, optionally signed in
through a one-time token (the browser trades it for the token's secret, which never
appears in its history)."""

from __future__ import annotations

import webbrowser
from typing import Any
from urllib.parse import quote, urlencode

from pynomad.cli.api import APIError
from pynomad.cli.format import go_quote
from pynomad.cli.meta import GENERAL_OPTIONS, Meta

HELP = {
    "ui": """Usage: nomad ui [options] <identifier>

Open the Nomad Web UI in the default browser. An optional identifier may be
provided, in which case the UI will be opened to view the details for that
object. Supported identifiers are jobs, allocations and nodes.

""" + GENERAL_OPTIONS + """
UI Options

  -authenticate: Exchange your Nomad ACL token for a one-time token in the
    web UI, if ACLs are enabled.

  -show-url: Show the Nomad UI URL instead of opening with the default browser.
""",
}

# search context -> UI path, in Nomad's order of preference
UI_CONTEXTS = (("jobs", "ui/jobs/"), ("allocs", "ui/allocations/"), ("nodes", "ui/clients/"))
CONTEXT_TITLES = {"jobs": "Jobs", "allocs": "Allocs", "nodes": "Nodes"}


def ui(meta: Meta, args: list[str]) -> int:
    opts, args = meta.parse(args, {"authenticate": "bool", "show-url": "bool"})
    if len(args) > 1:
        raise meta.usage_error("This command takes no or one optional argument, [<identifier>]")
    client = meta.client()
    cfg = client.config
    query = {k: v for k, v in (("namespace", cfg.namespace), ("region", cfg.region)) if v}
    path = ""
    ott = ""
    if opts.get("authenticate"):
        try:
            resp, _ = client.put("/v1/acl/token/onetime", {})
        except APIError as exc:
            raise meta.fail(f"Could not get one-time token: {exc}") from None
        ott = ((resp or {}).get("OneTimeToken") or {}).get("OneTimeSecretID", "")
    if args:
        path = _resolve(meta, args[0], cfg.namespace)
    url = _url(client.base, path, query)
    if ott:
        output = f'Opening URL "{url}" with one-time token'
        url = _url(client.base, path, {**query, "ott": ott})
    else:
        output = f'Opening URL "{url}"'
    if opts.get("show-url"):
        meta.ui.output(f"URL for web UI: {url}")
        return 0
    meta.ui.output(output)
    if not webbrowser.open(url):
        raise meta.fail("Error opening URL: no web browser could be started")
    return 0


def _url(base: str, path: str, query: dict[str, str]) -> str:
    """Go's url.String(): base + optional /path + optional sorted query."""
    out = base + (f"/{path}" if path else "")
    return out + (f"?{urlencode(sorted(query.items()))}" if query else "")


def _resolve(meta: Meta, ident: str, namespace: str) -> str:
    """The UI path of the one job, allocation or node `ident` prefixes (Nomad's rules)."""
    try:
        res, _ = meta.client().post("/v1/search", {"Prefix": ident, "Context": "all"})
    except APIError as exc:
        raise meta.fail(f"Error querying search with id: {go_quote(str(exc))}") from None
    matches: dict[str, Any] = (res or {}).get("Matches") or {}
    found = None
    count = 0
    for context, prefix in UI_CONTEXTS:
        ids = matches.get(context) or []
        if len(ids) == 1:
            found, count = (context, ids[0], prefix), count + 1
        elif ids and ids[0] == ident:
            found = (context, ids[0], prefix)
            break
        if count > 1 or len(ids) > 1:
            _multi_match(meta, ident, matches)
    if found is None:
        raise meta.fail(f"Unable to resolve ID: {go_quote(ident)}")
    context, full_id, prefix = found
    if context == "jobs" and namespace:
        return f"{prefix}{quote(full_id, safe='')}@{namespace}"
    return prefix + quote(full_id, safe="")


def _multi_match(meta: Meta, ident: str, matches: dict[str, Any]) -> None:
    lines = [f"Multiple matches found for id {go_quote(ident)}"]
    for context, _ in UI_CONTEXTS:
        ids = matches.get(context) or []
        if ids:
            lines += [f"\n{CONTEXT_TITLES[context]}:", ", ".join(ids)]
    raise meta.fail("\n".join(lines))
