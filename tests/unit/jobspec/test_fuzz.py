"""Fuzzing: any text gives a Job dict or a JobspecError, never another exception."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynomad.jobspec import JobspecError, parse_job

from .conftest import EXAMPLES

SEEDS = [p.read_text() for p in sorted(EXAMPLES.glob("*.nomad"))] if EXAMPLES.is_dir() else []
SEEDS.append('job "x" {\n group "g" {\n task "t" {\n driver = "docker"\n config {\n image = "a"\n }\n }\n }\n}\n')

TOKENS = ['job "j" {', "}", "{", 'group "g" {', 'task "t" {', "config {", "count = 1", "= ", '"${', "${var.x}",
          "%{ if true }", "%{ endif }", "<<EOT\n", "\nEOT\n", "[", "]", ",", "(", ")", "null", "true", "1.5e3",
          'variable "x" {', "default = 1", "locals {", "dynamic \"port\" {", "for_each = [1]", "content {",
          "meta = {", "env {", "\n", " ", "#", "//", "/*", "*/", "\\", "...", "=>", "for x in y :", "upper(",
          "network {", 'port "p" {', "static = -1", 'duration = "1h"', 'kill_timeout = "5x"', "~}"]


def _check(src: str) -> None:
    try:
        job = parse_job(src, "fuzz.hcl", env={}, strict=False, allow_fs=False)
    except JobspecError as err:
        assert isinstance(str(err), str)
        return
    assert isinstance(job, dict)
    json.dumps(job)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(TOKENS), max_size=40))
def test_token_soup(tokens: list[str]) -> None:
    _check("".join(tokens))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(SEEDS), st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=40),
       st.text(max_size=8))
def test_mutated_examples(seed: str, pos: int, cut: int, insert: str) -> None:
    pos %= len(seed) + 1
    _check(seed[:pos] + insert + seed[pos + cut:])


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    _check(text)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                    lambda kids: st.lists(kids, max_size=3), max_leaves=8))
def test_expression_values(value) -> None:
    literal = json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    _check(f'job "j" {{\n meta = {{ a = jsonencode({literal}) }}\n group "g" {{\n count = {literal}\n }}\n}}\n')
