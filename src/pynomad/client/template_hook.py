"""The template hook: render a task's `template` blocks into its directory before start.

Templates are Go text/template (gotemplate) with consul-template's functions
(template_funcs): `env`, string/JSON/math helpers, Nomad variables (`nomadVar`,
`nomadVarExists`, `nomadVarList`) and Nomad native services (`nomadService`,
`nomadServices`). Custom delimiters, `perms`, sources relative to the task directory,
`error_on_missing_key` and `env = true` templates (whose `KEY=value` lines join the
task's environment) are honoured. Consul and Vault lookups fail with an error naming
the function.

Nomad variables and the event loop: the template engine is synchronous and fetches a
variable only when a template calls `nomadVar` (lazily, so `nomadVarExists`/`if`
guards work and unused paths are never read). The task runner therefore renders in a
worker thread (`asyncio.to_thread`) and hands `render_templates` a `RemoteVars`, whose
`read`/`list` run the async RPC call on the runner's event loop with
`asyncio.run_coroutine_threadsafe` and wait for its answer. Answers are cached for the
duration of one render. A missing variable raises `MissingVariable` (a
`RenderBlocked`), which the task runner treats as Nomad does: it waits and renders again.
Services go the same way (`services(name)`, ServiceRegistration.List); a service without
registrations renders as an empty list.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Awaitable, Callable

from .gotemplate import GoTemplateError, Template
from .taskenv import TaskEnv
from .template_funcs import MissingVariable, VarSource, funcs

__all__ = ["TemplateError", "MissingVariable", "RemoteVars", "render", "render_templates"]


class TemplateError(Exception):
    pass


def render(text: str, env: TaskEnv, left: str = "{{", right: str = "}}", *,
           name: str = "", vars: VarSource | None = None,
           missing_key_error: bool = False) -> str:
    """Render one template; TemplateError on a parse or execution error."""
    try:
        tmpl = Template(name, funcs(env.env, vars), left or "{{", right or "}}",
                        missing_key_error)
        return tmpl.parse(text).execute(None)
    except GoTemplateError as err:
        raise TemplateError(str(err)) from None
    except RecursionError:
        raise TemplateError(f"template: {name}: nesting too deep") from None


def render_templates(templates: list[dict[str, Any]] | None, task_dir: str,
                     env: TaskEnv, vars: VarSource | None = None) -> dict[str, str]:
    """Write every template; return the variables of `env = true` templates."""
    extra: dict[str, str] = {}
    for tmpl in templates or ():
        dest = _inside(task_dir, tmpl.get("DestPath") or "")
        text = tmpl.get("EmbeddedTmpl")
        if text is None and tmpl.get("SourcePath"):
            with open(_inside(task_dir, env.replace(tmpl["SourcePath"])), encoding="utf-8") as f:
                text = f.read()
        out = render(text or "", env, tmpl.get("LeftDelim") or "{{",
                     tmpl.get("RightDelim") or "}}", name=tmpl.get("DestPath") or "",
                     vars=vars, missing_key_error=bool(tmpl.get("ErrMissingKey")))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as f:
            f.write(out)
        os.chmod(dest, int(str(tmpl.get("Perms") or "644"), 8))
        if tmpl.get("Envvars"):
            extra.update(_env_lines(out))
    return extra


class RemoteVars:
    """A VarSource for a worker thread: runs `read(path)` / `list(prefix)` (and, when
    given, `services(name)`) coroutines on `loop` and waits for them (never call it from
    the loop's own thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 read: Callable[[str], Awaitable[dict | None]],
                 list_: Callable[[str], Awaitable[list[dict]]], timeout_s: float = 30.0,
                 services: Callable[[str], Awaitable[list[dict]]] | None = None):
        self.loop, self._read, self._list, self.timeout_s = loop, read, list_, timeout_s
        self._services = services
        self._reads: dict[str, dict | None] = {}
        self._lists: dict[str, list[dict]] = {}
        self._service_lists: dict[str, list[dict]] = {}

    def _wait(self, coro: Awaitable[Any], what: str = "nomad variables") -> Any:
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]
        try:
            return fut.result(self.timeout_s)
        except Exception as e:  # noqa: BLE001 - reported as the function's error
            fut.cancel()
            raise GoTemplateError(f"{what}: {e or type(e).__name__}") from None

    def read(self, path: str) -> dict | None:
        if path not in self._reads:
            self._reads[path] = self._wait(self._read(path))
        return self._reads[path]

    def list(self, prefix: str) -> list[dict]:
        if prefix not in self._lists:
            self._lists[prefix] = list(self._wait(self._list(prefix)) or [])
        return self._lists[prefix]

    def services(self, name: str) -> list[dict]:
        """Registrations of service `name`, or all names and tags for `""`."""
        if self._services is None:
            raise GoTemplateError("nomad service discovery is not available to this template")
        if name not in self._service_lists:
            self._service_lists[name] = list(
                self._wait(self._services(name), "nomad services") or [])
        return self._service_lists[name]


def _inside(root: str, rel: str) -> str:
    path = os.path.realpath(os.path.join(root, rel))
    if not path.startswith(os.path.realpath(root) + os.sep):
        raise TemplateError(f"template path {rel!r} escapes the task directory")
    return path


def _env_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip().strip('"')
    return out
