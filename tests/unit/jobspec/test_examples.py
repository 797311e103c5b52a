"""Every example job file parses; the expected `nomad job run -output` files match.

The expected JSON files were produced by older Nomad releases than v1.6.5, whose
api structs gained fields since (NodePool in 1.6.0, Task.Identity in 1.5.0,
RestartPolicy.RenderTemplates in 1.6.2). pynomad prints the v1.6.5 shape, so the
expected documents get exactly those keys added (as null) before the comparison,
and the HCL inputs are adjusted to what the JSON was generated from.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pynomad.jobspec import JobspecError, parse_job, parse_job_file

from .conftest import EXAMPLES

FILES = sorted(p.name for p in EXAMPLES.glob("*.nomad")) + sorted(p.name for p in EXAMPLES.glob("*.hcl"))
XYZ_VARS = {"X": "x", "Y": "1", "Z": "true"}


def _insert_after(d: dict, after: str, key: str, value) -> dict:
    out = {}
    for k, v in d.items():
        out[k] = v
        if k == after:
            out[key] = value
    return out


def _assert_same(got: dict, want: dict) -> None:
    assert got == want
    # same key order as Go's struct order, so json.dumps output matches too
    assert json.dumps(got, indent=4) == json.dumps(want, indent=4)


@pytest.mark.parametrize("name", FILES)
def test_example_parses(examples: Path, name: str) -> None:
    variables = XYZ_VARS if name == "batch-raw_exec-variables.hcl" else None
    job = parse_job_file(str(examples / name), variables=variables, env={})
    assert job["ID"] and job["TaskGroups"]
    for tg in job["TaskGroups"]:
        assert tg["Name"] and tg["Tasks"]


def test_variables_example_needs_values(examples: Path) -> None:
    with pytest.raises(JobspecError, match='Unset variable "X"'):
        parse_job_file(str(examples / "batch-raw_exec-variables.hcl"), env={})
    job = parse_job_file(str(examples / "batch-raw_exec-variables.hcl"), variables=XYZ_VARS, env={})
    assert job["TaskGroups"][0]["Tasks"][0]["Config"]["args"] == ["X x, Y 1, Z true"]


def test_docs_json_jobs_example_output(examples: Path) -> None:
    src = (examples / "nomad-init-example-service-docker.nomad.hcl").read_text()
    src = src.replace('datacenters = ["*"]', 'datacenters = ["dc1"]\n  node_pool = "prod"')
    want = json.loads((examples / "docs-json-jobs-example-output-v1.6.5.json").read_text())["Job"]
    want["TaskGroups"][0]["RestartPolicy"]["RenderTemplates"] = None  # added in v1.6.2
    _assert_same(parse_job(src, "example.nomad.hcl", env={}), want)


def _short_expected(examples: Path, name: str) -> dict:
    want = json.loads((examples / name).read_text())["Job"]
    if "Datacenters" in want:
        want = _insert_after(want, "Datacenters", "NodePool", None)  # added in v1.6.0
    want["TaskGroups"][0]["Tasks"][0]["Identity"] = None  # added in v1.5.0
    return want


def _short_source(examples: Path) -> str:
    src = (examples / "nomad-init-example-short.nomad.hcl").read_text()
    start = src.index("      identity {")
    end = src.index("}", start) + 1
    return src[:start] + src[end:]  # the JSON predates the identity block


def test_run_output_example_short(examples: Path) -> None:
    src = _short_source(examples).replace('job "example" {', 'job "example" {\n  datacenters = ["dc1"]')
    _assert_same(parse_job(src, "example-short.nomad.hcl", env={}), _short_expected(examples, "nomad-run-output-example-short.json"))


def test_run_output_example_short_bad(examples: Path) -> None:
    # the "bad" variant is a JSON job with an ID containing a space and no
    # Datacenters key: the HCL parser accepts such a job (validation rejects it)
    src = _short_source(examples).replace('job "example" {', 'job "bad example" {')
    want = _short_expected(examples, "nomad-run-output-example-short-bad.json")
    want = _insert_after(want, "AllAtOnce", "Datacenters", None)
    want = _insert_after(want, "Datacenters", "NodePool", None)
    got = parse_job(src, "example-short-bad.nomad.hcl", env={})
    got["Name"] = "example"  # the bad JSON keeps the old name
    _assert_same(got, want)


def test_init_example_unmodified(examples: Path) -> None:
    job = parse_job_file(str(examples / "nomad-init-example-service-docker.nomad.hcl"), env={})
    assert job["Datacenters"] == ["*"]
    assert job["NodePool"] is None
    assert job["TaskGroups"][0]["EphemeralDisk"] == {"Sticky": None, "Migrate": None, "SizeMB": 300}


def test_task_directly_under_job_gets_implicit_group(examples: Path) -> None:
    job = parse_job_file(str(examples / "batch-raw_exec-simple.nomad"), env={})
    (tg,) = job["TaskGroups"]
    assert tg["Name"] == "simple_batch"
    assert tg["Count"] is None and tg["RestartPolicy"] is None
    assert [t["Name"] for t in tg["Tasks"]] == ["simple_batch"]
    assert job["Constraints"] == [{"LTarget": "${attr.kernel.name}", "RTarget": "linux", "Operand": "="}]
