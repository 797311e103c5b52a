"""Fixtures for the web UI tests: Debian's Chromium driven by Playwright against real agents.

Playwright's own browser download is never used: the browser is /usr/bin/chromium (the
`chromium` Debian package, installed by `make system`). Each test's page collects console
errors and uncaught exceptions; `UiPage.assert_clean()` fails the test on any of them.
Screenshots go to $UI_SHOTS_DIR when set (else the test's tmp dir).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect


def _e2e_helpers():
    """tests/e2e/conftest.py by path: another directory's conftest may hold the name."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("e2e_conftest_for_ui", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_helpers = _e2e_helpers()
Agent, wait_for = _helpers.Agent, _helpers.wait_for

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)  # generous: the machine may be loaded

WEB_JOB = '''
job "web" {
  datacenters = ["dc1"]
  group "frontend" {
    count = 2
    task "server" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 1; done"]
      }
      resources {
        cpu    = 100
        memory = 64
      }
    }
  }
}
'''


class UiPage:
    """A browser page at an agent, with the console problems it logged."""

    def __init__(self, page, base: str, shots: Path) -> None:
        self.page = page
        self.base = base
        self.shots = shots
        self.problems: list[str] = []
        self.allowed: list[re.Pattern] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(f"uncaught: {e}"))
        page.set_default_timeout(TIMEOUT_MS)

    def goto(self, path: str):
        self.page.goto(self.base + path)
        self.page.wait_for_selector("#content .page, #content .empty")
        return self.page

    def allow(self, pattern: str) -> None:
        """Console errors matching `pattern` are expected (e.g. a 403 before signing in)."""
        self.allowed.append(re.compile(pattern))

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        bad = [p for p in self.problems if not any(a.search(p) for a in self.allowed)]
        assert bad == [], f"console errors: {bad}"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory) -> Path:
    target = os.environ.get("UI_SHOTS_DIR")
    path = Path(target) if target else tmp_path_factory.mktemp("ui-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_page(browser, agent: Agent, shots: Path, width: int = 1360, height: int = 900) -> UiPage:
    context = browser.new_context(viewport={"width": width, "height": height})
    return UiPage(context.new_page(), agent.addr, shots)


def start_agent(tmp: Path, extra_hcl: str = "") -> Agent:
    return Agent(tmp, extra_hcl=extra_hcl).start()


def run_job(agent: Agent, tmp: Path, name: str, text: str) -> None:
    path = tmp / name
    path.write_text(text)
    agent.nomad("job", "run", "-detach", str(path))
