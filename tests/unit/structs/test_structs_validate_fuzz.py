"""Fuzz: validation of arbitrary converted jobs raises nothing but ValidationError."""

from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynomad.structs import Job, ValidationError, canonicalize, validate_job

_text = st.text(max_size=12)
_int = st.integers(min_value=-(2**40), max_value=2**40)
_scalar = st.one_of(st.none(), _text, _int, st.booleans())
_dur = st.one_of(st.none(), st.integers(min_value=-(10**13), max_value=10**13))

_constraint = st.fixed_dictionaries({}, optional={
    "LTarget": _text, "RTarget": st.one_of(_text, st.sampled_from(["(", "1.2", ">= 1.0", "0", "x"])),
    "Operand": st.sampled_from(["=", "regexp", "version", "semver", "set_contains", "is_set",
                                "distinct_hosts", "distinct_property", "bogus", ""])})
_port = st.fixed_dictionaries({"Label": _text, "Value": st.integers(-5, 70000), "To": st.integers(-5, 70000)})
_network = st.fixed_dictionaries({}, optional={"ReservedPorts": st.lists(_port, max_size=3),
                                               "DynamicPorts": st.lists(_port, max_size=3),
                                               "Hostname": _text})
_service = st.fixed_dictionaries({}, optional={
    "Name": _text, "PortLabel": _text, "Provider": st.sampled_from(["consul", "nomad", "x"]),
    "AddressMode": st.sampled_from(["", "auto", "alloc", "driver", "host", "x"]),
    "Checks": st.lists(st.fixed_dictionaries({}, optional={
        "Name": _text, "Type": st.sampled_from(["http", "tcp", "script", "grpc"]), "PortLabel": _text,
        "AddressMode": st.sampled_from(["", "driver", "alloc"]), "TaskName": _text}), max_size=2)})
_task = st.fixed_dictionaries({"Name": _text, "Driver": st.sampled_from(["raw_exec", "docker", "", "exec"])}, optional={
    "Config": st.dictionaries(st.sampled_from(["command", "image", "args"]), _scalar, max_size=2),
    "Constraints": st.lists(_constraint, max_size=2),
    "Resources": st.fixed_dictionaries({}, optional={"CPU": _int, "MemoryMB": _int, "Cores": _int,
                                                     "MemoryMaxMB": _int, "DiskMB": _int,
                                                     "Networks": st.lists(_network, max_size=1)}),
    "Services": st.lists(_service, max_size=2), "KillTimeout": _dur,
    "Lifecycle": st.fixed_dictionaries({"Hook": _text, "Sidecar": st.booleans()}),
    "Templates": st.lists(st.fixed_dictionaries({}, optional={"DestPath": _text, "ChangeMode": _text,
                                                              "Perms": _text, "Splay": _dur}), max_size=2),
    "Artifacts": st.lists(st.fixed_dictionaries({}, optional={"GetterSource": _text, "RelativeDest": _text}), max_size=1),
    "LogConfig": st.fixed_dictionaries({}, optional={"MaxFiles": _int, "MaxFileSizeMB": _int}),
    "VolumeMounts": st.lists(st.fixed_dictionaries({}, optional={"Volume": _text}), max_size=1),
    "Vault": st.fixed_dictionaries({}, optional={"Policies": st.lists(_text, max_size=2), "ChangeMode": _text}),
})
_policy = {"Attempts": _int, "Interval": _dur, "Delay": _dur, "MaxDelay": _dur,
           "DelayFunction": st.sampled_from(["constant", "exponential", "fibonacci", "x"]),
           "Unlimited": st.booleans(), "Mode": st.sampled_from(["delay", "fail", "x"])}
_group = st.fixed_dictionaries({"Name": _text, "Tasks": st.lists(_task, max_size=2)}, optional={
    "Count": _int, "Constraints": st.lists(_constraint, max_size=2),
    "Networks": st.lists(_network, max_size=2), "Services": st.lists(_service, max_size=2),
    "RestartPolicy": st.fixed_dictionaries({}, optional={k: _policy[k] for k in ("Attempts", "Interval", "Delay", "Mode")}),
    "ReschedulePolicy": st.fixed_dictionaries({}, optional={k: v for k, v in _policy.items() if k != "Mode"}),
    "Update": st.fixed_dictionaries({}, optional={"MaxParallel": _int, "MinHealthyTime": _dur,
                                                  "HealthyDeadline": _dur, "ProgressDeadline": _dur,
                                                  "Canary": _int, "AutoPromote": st.booleans(),
                                                  "HealthCheck": _text, "Stagger": _dur}),
    "Migrate": st.fixed_dictionaries({}, optional={"MaxParallel": _int, "HealthCheck": _text,
                                                   "MinHealthyTime": _dur, "HealthyDeadline": _dur}),
    "Scaling": st.fixed_dictionaries({}, optional={"Min": _int, "Max": _int, "Type": _text}),
    "EphemeralDisk": st.fixed_dictionaries({}, optional={"SizeMB": _int}),
    "Spreads": st.lists(st.fixed_dictionaries({}, optional={
        "Attribute": _text, "Weight": _int,
        "SpreadTarget": st.lists(st.fixed_dictionaries({"Value": _text, "Percent": st.integers(0, 2**31)}), max_size=3)}), max_size=1),
    "Affinities": st.lists(st.fixed_dictionaries({}, optional={"LTarget": _text, "RTarget": _text,
                                                               "Operand": _text, "Weight": _int}), max_size=1),
    "Volumes": st.dictionaries(_text, st.fixed_dictionaries({}, optional={"Type": _text, "Source": _text}), max_size=1),
})
_job = st.fixed_dictionaries({"ID": _text, "TaskGroups": st.lists(_group, max_size=2)}, optional={
    "Type": st.sampled_from(["service", "batch", "system", "sysbatch", "x"]), "Priority": _int,
    "Datacenters": st.lists(_text, max_size=2), "Constraints": st.lists(_constraint, max_size=2),
    "Periodic": st.fixed_dictionaries({}, optional={"Spec": _text, "Specs": st.lists(_text, max_size=2),
                                                    "TimeZone": _text, "SpecType": _text,
                                                    "Enabled": st.booleans()}),
    "ParameterizedJob": st.fixed_dictionaries({}, optional={"Payload": _text,
                                                            "MetaRequired": st.lists(_text, max_size=2),
                                                            "MetaOptional": st.lists(_text, max_size=2)}),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_job, st.booleans())
def test_validation_only_raises_validation_error(data: dict, canonical: bool) -> None:
    try:
        job = msgspec.convert(data, Job)
    except msgspec.ValidationError:
        return
    if canonical:
        job = canonicalize(job)
    try:
        validate_job(job)
    except ValidationError as err:
        assert err.errors and all(isinstance(e, str) for e in err.errors)
