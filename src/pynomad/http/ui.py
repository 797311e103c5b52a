"""The web UI: static assets under /ui/ (the app's own routes fall back to index.html),
`/` redirecting there, and the agent's `ui { enabled, content_security_policy, label }` block.

The assets live in `webui/` beside this module (package data): `index.html` and `assets/`,
whose `assets/vendor/` is filled from npm at setup (`make setup`). /ui/assets/* are files;
any other /ui/ path is a page of the app and answers index.html. Every UI response carries
the Content-Security-Policy header built from the config; with `enabled = false`, every /ui/
path answers Nomad's stub page instead.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from .common import AGENT

ASSETS = Path(__file__).resolve().parent / "webui"
STUB_HTML = "<html><p>Nomad UI is disabled</p></html>"
CONFIG_PLACEHOLDER = "<!--ui-config-->"
DEFAULT_CSP = {
    "connect_src": ["*"],
    "default_src": ["'none'"],
    "form_action": ["'none'"],
    "frame_ancestors": ["'none'"],
    "img_src": ["'self'", "data:"],
    "script_src": ["'self'"],
    "style_src": ["'self'", "'unsafe-inline'"],
}
LABEL_KEYS = ("text", "background_color", "text_color")


@dataclass(frozen=True)
class UISettings:
    enabled: bool = True
    csp: dict[str, list[str]] = field(default_factory=lambda: dict(DEFAULT_CSP))
    label: dict[str, str] = field(default_factory=dict)

    def csp_header(self) -> str:
        return "; ".join(f"{key.replace('_', '-')} {' '.join(values)}"
                         for key, values in self.csp.items() if values)


def _block(value) -> dict:
    """A config block (HCL may give a list of blocks) as one dict."""
    if isinstance(value, list):
        merged: dict = {}
        for item in value:
            if isinstance(item, dict):
                merged.update(item)
        return merged
    return dict(value) if isinstance(value, dict) else {}


def ui_settings(extra: dict | None) -> UISettings:
    """The `ui` block of the agent configuration, with Nomad's defaults merged in."""
    block = _block((extra or {}).get("ui"))
    csp = dict(DEFAULT_CSP)
    for key, values in _block(block.get("content_security_policy")).items():
        if key in csp and isinstance(values, list):
            csp[key] = [str(v) for v in values]
    label = {k: str(v) for k, v in _block(block.get("label")).items() if k in LABEL_KEYS and v}
    return UISettings(enabled=block.get("enabled", True) is not False, csp=csp, label=label)


def render_index(template: str, settings: UISettings, acl_enabled: bool) -> str:
    """index.html with what the app needs before its first request (the header label,
    whether ACLs are on) in a meta tag: scripts may not be inline under the default CSP."""
    config = {"label": settings.label or None, "aclEnabled": acl_enabled}
    meta = f'<meta name="nomad-ui" content="{html.escape(json.dumps(config))}">'
    return template.replace(CONFIG_PLACEHOLDER, meta)


def acl_enabled(agent) -> bool:
    server = getattr(agent, "server", None)
    if server is not None:
        return bool(getattr(server.config, "acl_enabled", False))
    return _block(agent.config.extra.get("acl")).get("enabled") is True


def asset_path(tail: str) -> Path | None:
    """The file under ASSETS/assets that `tail` names, or None (missing, a directory, outside)."""
    root = ASSETS / "assets"
    if not tail or "\x00" in tail:
        return None
    path = (root / tail).resolve()
    if root not in path.parents or not path.is_file():
        return None
    return path


_index_cache: dict[str, str] = {}


def index_template() -> str:
    if "index" not in _index_cache:
        _index_cache["index"] = (ASSETS / "index.html").read_text()
    return _index_cache["index"]


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/")
    async def root(request):
        query = f"?{request.query_string}" if request.query_string else ""
        raise web.HTTPTemporaryRedirect(f"/ui/{query}")

    @r.get("/ui")
    async def ui_bare(request):
        raise web.HTTPTemporaryRedirect("/ui/")

    @r.get("/ui/assets/{tail:.*}")
    async def ui_asset(request):
        settings = ui_settings(request.app[AGENT].config.extra)
        if not settings.enabled:
            return web.Response(text=STUB_HTML, content_type="text/html")
        path = asset_path(request.match_info["tail"])
        if path is None:
            return web.Response(status=404, text="File not found")
        return web.FileResponse(path, headers={"Cache-Control": "no-cache",
                                               "X-Content-Type-Options": "nosniff"})

    @r.get("/ui/{tail:.*}")
    async def ui_page(request):
        settings = ui_settings(request.app[AGENT].config.extra)
        if not settings.enabled:
            return web.Response(text=STUB_HTML, content_type="text/html")
        page = render_index(index_template(), settings, acl_enabled(request.app[AGENT]))
        return web.Response(text=page,
                            content_type="text/html",
                            headers={"Content-Security-Policy": settings.csp_header(),
                                     "Cache-Control": "no-store",
                                     "X-Content-Type-Options": "nosniff"})
