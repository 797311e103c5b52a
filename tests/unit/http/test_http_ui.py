"""The web UI route: / redirects to /ui/, pages answer index.html with the configured CSP and
label, assets are files under webui/assets (never outside), `ui { enabled = false }` answers
Nomad's stub page."""

from __future__ import annotations

import asyncio
import html
import json
import re
from types import SimpleNamespace

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pynomad.http import ui
from pynomad.http.common import AGENT


def fetch(extra: dict, *paths: str, acl: bool = False):
    agent = SimpleNamespace(config=SimpleNamespace(extra=extra),
                            server=SimpleNamespace(config=SimpleNamespace(acl_enabled=acl)))

    async def go():
        app = web.Application()
        app[AGENT] = agent
        routes = web.RouteTableDef()
        ui.setup(app, routes)
        app.add_routes(routes)
        async with TestClient(TestServer(app)) as client:
            out = []
            for path in paths:
                resp = await client.get(path, allow_redirects=False)
                out.append((resp.status, dict(resp.headers), await resp.text()))
            return out

    return asyncio.run(go())


def meta_config(body: str) -> dict:
    m = re.search(r'<meta name="nomad-ui" content="([^"]*)">', body)
    assert m, body
    return json.loads(html.unescape(m.group(1)))


def test_root_redirects_to_the_ui_keeping_the_query():
    (status, headers, _), (status2, headers2, _) = fetch({}, "/?namespace=x", "/ui")
    assert (status, headers["Location"]) == (307, "/ui/?namespace=x")
    assert (status2, headers2["Location"]) == (307, "/ui/")


def test_pages_answer_the_app_with_nomads_default_csp():
    for status, headers, body in fetch({}, "/ui/", "/ui/jobs/web@default/versions", "/ui/clients/abc"):
        assert status == 200
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Content-Security-Policy"] == (
            "connect-src *; default-src 'none'; form-action 'none'; frame-ancestors 'none'; "
            "img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'")
        assert '<script type="module" src="/ui/assets/js/main.js">' in body
        assert meta_config(body) == {"label": None, "aclEnabled": False}


def test_configured_csp_label_and_acl_reach_the_page():
    extra = {"ui": [{"content_security_policy": [{"img_src": ["'self'", "https://img.example"]}],
                     "label": [{"text": "Staging <b>", "background_color": "yellow", "text_color": "#000"}]}]}
    (status, headers, body), = fetch(extra, "/ui/jobs", acl=True)
    assert status == 200
    assert "img-src 'self' https://img.example;" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "<b>" not in body  # the label is escaped into the attribute
    assert meta_config(body) == {"label": {"text": "Staging <b>", "background_color": "yellow",
                                           "text_color": "#000"}, "aclEnabled": True}


def test_assets_are_files_under_assets_only():
    (ok, okh, js), (missing, _, _), (escape, _, _) = fetch(
        {}, "/ui/assets/js/main.js", "/ui/assets/js/nope.js", "/ui/assets/..%2F..%2Fui.py")
    assert ok == 200 and "javascript" in okh["Content-Type"] and "boot()" in js
    assert missing == 404 and escape == 404


def test_disabled_ui_answers_the_stub_page():
    for status, _, body in fetch({"ui": {"enabled": False}}, "/ui/", "/ui/jobs", "/ui/assets/app.css"):
        assert (status, body) == (200, ui.STUB_HTML)
