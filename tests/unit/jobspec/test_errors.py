"""Bad job files give JobspecError naming file:line,col, one line per problem."""

from __future__ import annotations

import pytest

from pynomad.jobspec import JobspecError, parse_job

CASES = [
    ('job "x" {\n  group "g" {\n    cont = 1\n  }\n}\n',
     'f.hcl:3,5-9: Unsupported argument; An argument named "cont" is not expected here. Did you mean "count"?'),
    ('job "x" {\n  groupp "g" {\n  }\n}\n',
     'f.hcl:2,3-9: Unsupported block type; Blocks of type "groupp" are not expected here. Did you mean "group"?'),
    ('job "x" {\n  update = {}\n}\n',
     'f.hcl:2,3-9: Unsupported argument; An argument named "update" is not expected here. '
     'Did you mean to define a block of type "update"?'),
    ('job "x" {\n  update {}\n  update {}\n}\n',
     "f.hcl:3,3-9: Duplicate update block; Only one update block is allowed. Another was defined at f.hcl:2,3-9."),
    ('job "x" {\n  group {}\n}\n', "f.hcl:2,3-8: Missing name for group; All group blocks must have 1 labels (name)."),
    ('job "x" {\n  update { stagger = "5x" }\n}\n',
     'f.hcl:2,22-26: Unsuitable value type; Unsuitable duration value: time: unknown unit "x" in duration "5x"'),
    ('job "x" {\n  region = var.nope\n}\n',
     'f.hcl:2,15-20: Unsupported attribute; This object does not have an attribute named "nope".'),
    ('job "x" {\n  region = nope(1)\n}\n', 'f.hcl:2,12-16: Call to unknown function; There is no function named "nope".'),
    ('foo = 1\njob "x" {}\n', 'f.hcl:1,1-4: Unsupported argument; An argument named "foo" is not expected here.'),
    ('variable "a" {}\njob "x" {}\n', 'f.hcl:1,1-13: Unset variable "a"; A used variable must be set'),
    ('variable "a" { default = 1 }\n', "Missing job block; A job block is required"),
    ('job "x" {}\njob "y" {}\n', 'f.hcl:2,1-8: Duplicate job block'),
    ('job "x" {\n', "f.hcl:2,1: Invalid syntax"),
    ('job "x" {\n  a = "\\q"\n}\n', "f.hcl:2,8-10: Invalid escape sequence"),
    ('job "x" {\n  region = "a"\n  region = "b"\n}\n', 'f.hcl:3,3-9: Attribute redefined; The argument "region" was already set at f.hcl:2,3-9.'),
    ('job "x" {\n  group "g" {\n    task "t" {\n      scaling "gpu" {}\n    }\n  }\n}\n',
     'f.hcl:4,15-20: Invalid scaling policy name; scaling policy name must be "cpu" or "mem"'),
]


@pytest.mark.parametrize("src, message", CASES)
def test_error_messages(src: str, message: str) -> None:
    with pytest.raises(JobspecError) as info:
        parse_job(src, "f.hcl", env={})
    assert str(info.value).startswith(message)


def test_several_problems_one_line_each() -> None:
    src = 'job "x" {\n  bogus = 1\n  group "g" {\n    nope {}\n  }\n}\n'
    with pytest.raises(JobspecError) as info:
        parse_job(src, "f.hcl", env={})
    lines = str(info.value).splitlines()
    assert len(lines) == 2 and lines[0].startswith("f.hcl:2,3-8:") and lines[1].startswith("f.hcl:4,5-9:")
    assert len(info.value.diagnostics) == 2


def test_heredoc_expression_error_position() -> None:
    src = 'job "x" {\n  meta {\n    a = <<EOT\nline\n  ${nope(1)}\nEOT\n  }\n}\n'
    with pytest.raises(JobspecError, match=r"^f\.hcl:5,5-9: Call to unknown function"):
        parse_job(src, "f.hcl", env={})


def test_missing_var_file() -> None:
    with pytest.raises(JobspecError, match="unable to parse var file"):
        parse_job('job "x" {}', "f.hcl", var_files=["/nonexistent/vars.hcl"], env={})


def test_nomad_var_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOMAD_VAR_r", "from-os")
    job = parse_job('variable "r" {}\njob "x" {\n region = var.r\n}', "f.hcl")
    assert job["Region"] == "from-os"
