"""Imports follow DESIGN.md: a package imports only packages above it in the list."""

import ast
from pathlib import Path

ORDER = ["helper", "structs", "jobspec", "state", "backend", "scheduler", "server", "client", "drivers",
         "acl", "http", "cli", "agent", "tools"]
EXTRA = {"cli": {"agent"}}           # `nomad agent` starts the agent
FORBIDDEN = {"scheduler": {"server", "backend", "http"}}
SRC = Path(__file__).resolve().parents[2] / "src" / "pynomad"


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    pkg = path.relative_to(SRC).parts[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("pynomad."):
                out.add(node.module.split(".")[1])
            elif node.level >= 2 and node.module:
                out.add(node.module.split(".")[0])
            elif node.level == 1:
                out.add(pkg)
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("pynomad.")}
    return out & set(ORDER)


def test_imports_point_one_way():
    problems = []
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC).parts
        if len(parts) < 2:
            continue
        pkg = parts[0]
        allowed = set(ORDER[:ORDER.index(pkg) + 1]) | EXTRA.get(pkg, set())
        allowed -= FORBIDDEN.get(pkg, set())
        bad = imported_packages(path) - allowed
        if bad:
            problems.append(f"{path.relative_to(SRC)} imports {sorted(bad)}")
    assert problems == []
