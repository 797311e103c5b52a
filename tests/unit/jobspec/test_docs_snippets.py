"""The ```hcl examples of Nomad v1.6.5's job-specification docs parse.

Snippets are fragments; each is tried as-is and wrapped in the blocks it can
appear in. A few are knowingly rejected, as Nomad v1.6.5 rejects them too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pynomad.jobspec import JobspecError, parse_job

DOCS = Path(__file__).resolve().parents[4] / "shared" / "reference/nomad-docs-v1.6.5/docs/job-specification"

_PATHS = ["", "job", "job/group", "job/group/task", "job/group/service", "job/group/service/connect",
          "job/group/service/connect/sidecar_service", "job/group/service/connect/sidecar_service/proxy",
          "job/group/service/connect/sidecar_service/proxy/upstreams",
          "job/group/service/connect/sidecar_service/proxy/expose", "job/group/service/connect/gateway",
          "job/group/service/connect/gateway/ingress", "job/group/service/connect/gateway/proxy",
          "job/group/task/resources", "job/group/task/template", "job/group/network", "job/group/service/check",
          "job/multiregion"]

# (file, snippet index): why Nomad v1.6.5 rejects it as well
KNOWN_BAD = {
    ("artifact.mdx", 5): "calls file(), which these tests run with filesystem functions disabled",
    ("env.mdx", 1): "illustrates values: the same key set several times",
    ("meta.mdx", 1): "illustrates values: the same key set several times",
    ("gateway.mdx", 1): "client meta, not HCL",
    ("sidecar_task.mdx", 2): "client meta, not HCL",
    ("sidecar_service.mdx", 2): "quoted argument name is invalid HCL2",
    ("sidecar_task.mdx", 1): "shows the built-in task, whose lifecycle is not a sidecar_task argument",
    ("group.mdx", 7): "agent configuration",
    ("multiregion.mdx", 3): "fragment with unbalanced braces",
    ("multiregion.mdx", 4): "fragment with unbalanced braces",
    ("template.mdx", 8): "template contents, not HCL",
    ("template.mdx", 9): "template contents, not HCL",
    ("vault.mdx", 3): "uses `file`, which v1.6.5's vault block does not have",
}


def _wrap(snippet: str, path: str) -> str:
    for name in reversed([p for p in path.split("/") if p]):
        label = f' "{name[0]}"' if name in ("job", "group", "task") else ""
        snippet = f"{name}{label} {{\n{snippet}\n}}"
    return snippet


def _snippets() -> list[tuple[str, int, str]]:
    if not DOCS.is_dir():
        return []
    out = []
    for f in sorted(DOCS.glob("*.mdx")):
        for i, m in enumerate(re.finditer(r"```hcl\n(.*?)```", f.read_text(), re.S)):
            if "..." not in m.group(1):
                out.append((f.name, i, m.group(1)))
    return out


@pytest.mark.parametrize("name, index, snippet", _snippets(), ids=lambda v: str(v)[:30])
def test_docs_snippet(name: str, index: int, snippet: str) -> None:
    errors = []
    for path in _PATHS:
        try:
            parse_job(_wrap(snippet, path), name, env={}, strict=False, allow_fs=False)
            break
        except JobspecError as err:
            errors.append(str(err))
    else:
        if (name, index) in KNOWN_BAD:
            return
        pytest.fail(f"{name}#{index} does not parse: {errors[:3]}")
    assert (name, index) not in KNOWN_BAD, "expected this snippet to be rejected"
