"""Job validation: every example validates; each Nomad rule reports Nomad's wording."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pynomad.jobspec import parse_job, parse_job_file
from pynomad.structs import Job, ValidationError, canonicalize, validate_job
from pynomad.structs.validate_util import cron_error, go_duration, multierror

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "examples/nomad-jobs"
VARS = {"X": "x", "Y": "1", "Z": "true"}


def _load(path: Path) -> dict:
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        return data.get("Job", data)
    return parse_job_file(str(path), variables=VARS if "variables" in path.name else None, env={})


def _job(data: dict) -> Job:
    return canonicalize(msgspec.convert(data, Job))


def _drop_log_enabled(data: dict) -> dict:
    # The jobspec emits api.LogConfig's deprecated `Enabled`; structs.LogConfig lacks it.
    for tg in data.get("TaskGroups") or []:
        for task in tg.get("Tasks") or []:
            (task.get("LogConfig") or {}).pop("Enabled", None)
    return data


def errors_of(hcl_body: str) -> str:
    """Validate ``job "example" { <hcl_body> }``; return the error text ('' when valid)."""
    data = parse_job('job "example" {\n' + hcl_body + "\n}\n", "t.hcl", env={})
    try:
        validate_job(_job(_drop_log_enabled(data)))
    except ValidationError as err:
        return str(err)
    return ""


def group(extra: str = "", task: str = "", job: str = "", driver: str = "raw_exec",
          config: str = 'command = "/bin/true"') -> str:
    return (job + '\n  group "g" {\n' + extra + '\n    task "t" {\n      driver = "' + driver
            + '"\n      config {\n        ' + config + "\n      }\n" + task + "\n    }\n  }")


EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*") if p.suffix in (".hcl", ".nomad", ".json")
                       and "docs-json" not in p.name and "bad" not in p.name) if EXAMPLES.is_dir() else []


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_examples_validate(name: str) -> None:
    validate_job(_job(_load(EXAMPLES / name)))


def test_docs_json_example_validates() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("examples not available")
    validate_job(_job(_load(EXAMPLES / "docs-json-jobs-example-output-v1.6.5.json")))


def test_bad_example_fails_like_nomad() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("examples not available")
    with pytest.raises(ValidationError) as info:
        validate_job(_job(_load(EXAMPLES / "nomad-run-output-example-short-bad.json")))
    assert info.value.errors == ["Job ID contains a space"]
    assert str(info.value) == "1 error occurred:\n\t* Job ID contains a space\n\n"


def test_valid_minimal_job() -> None:
    assert errors_of(group()) == ""


def test_multierror_format_matches_go() -> None:
    assert multierror(["a"]) == "1 error occurred:\n\t* a\n\n"
    assert multierror(["a", "b"]) == "2 errors occurred:\n\t* a\n\t* b\n\n"


def test_nested_group_and_task_errors_use_go_layout() -> None:
    text = errors_of(group(task="resources {\n cpu = 0\n memory = 5\n}"))
    assert text == ("1 error occurred:\n\t* Task group g validation failed: 1 error occurred:\n"
                    "\t* Task t validation failed: 1 error occurred:\n\t* 1 error occurred:\n"
                    "\t* 2 errors occurred:\n"
                    "\t* minimum CPU value is 1; got 0\n\t* minimum MemoryMB value is 10; got 5\n"
                    + "\n" * 9)


@pytest.mark.parametrize("body, message", [
    (group(job='type = "nope"'), 'Invalid job type: "nope"'),
    (group(job="priority = 101"), "Job priority must be between [1, 100]"),
    (group(job='datacenters = [""]'), "Job datacenter must be non-empty string"),
    (group(extra="count = -1"), "Task group count can't be negative"),
    (group(job='type = "system"', extra="count = 2"),
     "Job task group g has count 2. Count cannot exceed 1 with system scheduler"),
    (group(task="resources {\n cores = 1\n cpu = 100\n}"),
     "Task can only ask for 'cpu' or 'cores' resource, not both."),
    (group(task="resources {\n memory = 100\n memory_max = 50\n}"),
     "MemoryMaxMB value (50) should be larger than MemoryMB value (100)"),
    (group(extra='network {\n port "a" { static = 8080 }\n port "a" {}\n}'),
     "Port label a already in use by taskgroup network"),
    (group(extra='network {\n port "a" { static = 8080 }\n port "b" { static = 8080 }\n}'),
     "Static port 8080 already reserved by taskgroup network:a"),
    (group(extra='network {\n port "a" { static = 70000 }\n}'), "Port a (70000) cannot be greater than 65535"),
    (group(job='constraint {\n attribute = "${attr.kernel.name}"\n operator = "regexp"\n value = "(a"\n}'),
     "Regular expression failed to compile: error parsing regexp: missing closing ): `(a`"),
    (group(job='constraint {\n attribute = "${attr.a}"\n operator = "version"\n value = "abc"\n}'),
     "Version constraint is invalid: Malformed constraint: abc"),
    (group(job='constraint {\n attribute = "${attr.a}"\n operator = "semver"\n value = ">= 1.x"\n}'),
     "Semver constraint is invalid: Malformed constraint: >= 1.x"),
    (group(job='constraint {\n attribute = "${attr.a}"\n operator = "set_contains"\n}'),
     "Set contains constraint requires an RTarget"),
    (group(job='constraint {\n operator = "distinct_property"\n}'),
     "No LTarget provided but is required by constraint"),
    (group(job='constraint {\n attribute = "${meta.rack}"\n operator = "distinct_property"\n value = "0"\n}'),
     "Distinct Property must have an allowed count of 1 or greater: 0 < 1"),
    (group(job='constraint {\n attribute = "${attr.a}"\n operator = "is_set"\n value = "x"\n}'),
     'Operator "is_set" does not support an RTarget'),
    (group(task='constraint {\n operator = "distinct_hosts"\n value = "true"\n}'),
     "Constraint 1 has disallowed Operand at task level: distinct_hosts"),
    (group(job='affinity {\n attribute = "${node.datacenter}"\n value = "dc1"\n weight = 0\n}'),
     "Affinity weight cannot be zero"),
    (group(job='spread {\n attribute = "${node.datacenter}"\n target "a" { percent = 70 }\n'
               ' target "b" { percent = 50 }\n}'),
     "Sum of spread target percentages must not be greater than 100%; got 120%"),
    (group(extra='update {\n max_parallel = -1\n}'), "Max parallel can not be less than zero: -1 < 0"),
    (group(extra='update {\n min_healthy_time = "10m"\n healthy_deadline = "5m"\n}'),
     "Minimum healthy time must be less than healthy deadline: 10m0s > 5m0s"),
    (group(extra='update {\n healthy_deadline = "20m"\n progress_deadline = "10m"\n}'),
     "Healthy deadline must be less than progress deadline: 20m0s > 10m0s"),
    (group(extra='update {\n auto_promote = true\n}'), "Auto Promote requires a Canary count greater than zero"),
    (group(job='type = "batch"', extra='update {\n max_parallel = 1\n}'),
     'Job type "batch" does not allow update block'),
    (group(extra='migrate {\n health_check = "bogus"\n}'), 'Invalid HealthCheck: "bogus"'),
    (group(extra='reschedule {\n delay_function = "linear"\n}'),
     'Invalid delay function "linear", must be one of ["constant" "exponential" "fibonacci"]'),
    (group(extra='reschedule {\n delay = "2m"\n max_delay = "1m"\n}'),
     "Max Delay cannot be less than Delay 2m0s (got 1m0s)"),
    (group(extra='reschedule {\n attempts = 3\n interval = "1h"\n unlimited = true\n}'),
     "If Attempts >0, Unlimited cannot also be set to true"),
    (group(job='type = "batch"', extra='reschedule {\n attempts = 10\n interval = "30s"\n delay = "10s"\n}'),
     'Nomad can only make 3 attempts in 30s with initial delay 10s and delay function "constant"'),
    (group(extra='restart {\n mode = "retry"\n}'), 'Unsupported restart mode: "retry"'),
    (group(extra='restart {\n attempts = 10\n delay = "1m"\n interval = "5m"\n}'),
     "Nomad can't restart the TaskGroup 10 times in an interval of 5m0s with a delay of 1m0s"),
    (group(extra='restart {\n interval = "1s"\n}'), "Interval can not be less than 5s (got 1s)"),
    (group(extra='restart {\n attempts = 0\n mode = "delay"\n}'),
     'Restart policy "delay" with 0 attempts is ambiguous'),
    (group(job='type = "batch"\nperiodic {\n cron = "61 * * * *"\n}'),
     "Invalid cron spec \"61 * * * *\": syntax error in minute field: '61'"),
    (group(job='periodic {\n cron = "@daily"\n}'), 'Periodic can only be used with "batch" or "sysbatch" scheduler'),
    (group(job='type = "batch"\nperiodic {\n cron = "* *"\n}'), 'Invalid cron spec "* *": missing field(s)'),
    (group(job='type = "batch"\nperiodic {\n cron = "@daily"\n time_zone = "Mars/Olympus"\n}'),
     'Invalid time zone "Mars/Olympus"'),
    (group(job='type = "batch"\nparameterized {\n payload = "maybe"\n}'), 'Unknown payload requirement: "maybe"'),
    (group(job='type = "batch"\nparameterized {\n meta_required = ["a", "b"]\n meta_optional = ["b"]\n}'),
     "Required and optional meta keys should be disjoint. Following keys exist in both: [b]"),
    (group(job='parameterized {}'), 'Parameterized job can only be used with "batch" or "sysbatch" scheduler'),
    (group(extra="count = 5\nscaling {\n min = 1\n max = 3\n}"),
     "task group count must not be greater than maximum count in scaling policy"),
    (group(extra="scaling {\n min = 4\n max = 3\n}"), "maximum count must not be less than minimum count"),
    (group(task='lifecycle {\n hook = "midstart"\n}'), "Lifecycle validation failed: invalid hook: midstart"),
    (group(config='args = ["x"]'), 'missing required field "command"'),
    (group(driver="docker", config='args = ["x"]'), 'missing required field "image"'),
    (group(task="leader = true", extra=""), ""),
    (group(task='template {\n data = "x"\n destination = "../../../etc/passwd"\n}'),
     "destination escapes allocation directory"),
    (group(task='service {\n name = "web"\n port = "http"\n}'),
     'port label "http" referenced by services web does not exist'),
    (group(task='service {\n name = "bad_name"\n}'), "Service name must be valid per RFC 1123"),
    (group(task='logs {\n max_files = 20\n max_file_size = 20\n}'),
     "log storage (400 MB) must be less than requested disk capacity (300 MB)"),
    (group(extra='ephemeral_disk {\n size = 5\n}'), "minimum DiskMB value is 10; got 5"),
    (group(job='type = "system"\naffinity {\n attribute = "${node.datacenter}"\n value = "dc1"\n}'),
     "System jobs may not have an affinity block"),
    (group(task='kill_timeout = "20m"'), "KillTimout (20m0s) longer than the group's ProgressDeadline (10m0s)"),
])
def test_rule(body: str, message: str) -> None:
    text = errors_of(body)
    if message:
        assert message in text, text
    else:
        assert text == ""


def test_duplicate_groups_and_tasks() -> None:
    body = ('group "g" {\n task "t" {\n driver = "raw_exec"\n config { command = "x" }\n }\n'
            ' task "t" {\n driver = "raw_exec"\n config { command = "x" }\n }\n}\n'
            'group "g" {\n task "u" {\n driver = "raw_exec"\n config { command = "x" }\n }\n}')
    text = errors_of(body)
    assert "Job task group 2 redefines 'g' from group 1" in text
    assert "Task 2 redefines 't' from task 1" in text


def test_missing_pieces_on_raw_struct() -> None:
    with pytest.raises(ValidationError) as info:
        validate_job(Job(ID="", Type="service"))
    assert {"Missing job region", "Missing job ID", "Missing job name", "Job must be in a namespace",
            "Missing job datacenters", "Missing job task groups"} <= set(info.value.errors)


@pytest.mark.parametrize("spec, ok", [
    ("*/5 * * * *", True), ("0 0 * * 1-5", True), ("0 30 2 * * * 2024", True), ("@hourly", True),
    ("@weekly", True), ("0 0 L * *", True), ("0 0 * JAN,FEB MON#2", True), ("0 0 1W * *", True),
    ("@sometimes", False), ("* * *", False), ("0 25 * * *", False), ("0 0 * * 8", False),
    ("*/0 * * * *", False), ("a b c d e", False),
])
def test_cron(spec: str, ok: bool) -> None:
    assert (cron_error(spec) is None) == ok


@pytest.mark.parametrize("ns, text", [
    (0, "0s"), (5 * 10**9, "5s"), (90 * 10**9, "1m30s"), (3600 * 10**9, "1h0m0s"),
    (1500 * 10**6, "1.5s"), (2 * 10**6, "2ms"), (-10**9, "-1s"),
])
def test_go_duration(ns: int, text: str) -> None:
    assert go_duration(ns) == text


def _any(value: Any) -> Any:
    return value
