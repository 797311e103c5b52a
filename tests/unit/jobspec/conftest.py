"""Shared helpers for jobspec tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynomad.jobspec import parse_job

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "examples/nomad-jobs"


def job(body: str, **kw) -> dict:
    """Parse a job whose inner body is ``body`` (job "example" { <body> })."""
    return parse_job('job "example" {\n' + body + "\n}\n", "test.nomad.hcl", env=kw.pop("env", {}), **kw)


def group(body: str, **kw) -> dict:
    return job('group "g" {\n' + body + "\n}", **kw)["TaskGroups"][0]


def task(body: str, **kw) -> dict:
    return group('task "t" {\n' + body + "\n}", **kw)["Tasks"][0]


@pytest.fixture
def examples() -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip("example job files not available")
    return EXAMPLES
