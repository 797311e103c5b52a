"""The template hook: render a task's `template` blocks into its directory before start.

Supports the template language's environment lookups (`{{ env "NAME" }}`), custom
delimiters, `perms`, sources relative to the task directory and `env = true` templates,
whose `KEY=value` lines join the task's environment. Anything needing Consul, Vault or
Nomad variables is reported as an error naming the template.
"""

from __future__ import annotations

import os
import re
from typing import Any

from .taskenv import TaskEnv


class TemplateError(Exception):
    pass


_ENV_CALL = re.compile(r'^\s*env\s+"([^"]*)"\s*$')


def render(text: str, env: TaskEnv, left: str = "{{", right: str = "}}") -> str:
    pattern = re.compile(re.escape(left) + r"-?(.*?)-?" + re.escape(right), re.S)

    def action(m: re.Match[str]) -> str:
        call = _ENV_CALL.match(m.group(1))
        if call is None:
            raise TemplateError(f"unsupported template action {m.group(0)!r}")
        return env.env.get(call.group(1), "")
    return pattern.sub(action, text)


def render_templates(templates: list[dict[str, Any]] | None, task_dir: str,
                     env: TaskEnv) -> dict[str, str]:
    """Write every template; return the variables of `env = true` templates."""
    extra: dict[str, str] = {}
    for tmpl in templates or ():
        dest = _inside(task_dir, tmpl.get("DestPath") or "")
        text = tmpl.get("EmbeddedTmpl")
        if text is None and tmpl.get("SourcePath"):
            with open(_inside(task_dir, env.replace(tmpl["SourcePath"])), encoding="utf-8") as f:
                text = f.read()
        try:
            out = render(text or "", env, tmpl.get("LeftDelim") or "{{",
                         tmpl.get("RightDelim") or "}}")
        except TemplateError as err:
            raise TemplateError(f"template {tmpl.get('DestPath')!r}: {err}") from None
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w", encoding="utf-8") as f:
            f.write(out)
        os.chmod(dest, int(str(tmpl.get("Perms") or "644"), 8))
        if tmpl.get("Envvars"):
            extra.update(_env_lines(out))
    return extra


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
