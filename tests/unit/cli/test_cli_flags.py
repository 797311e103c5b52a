"""The Go-style flag parser."""

from __future__ import annotations

import pytest

from pynomad.cli.flags import FlagError, parse, parse_duration

SPEC = {"detach": "bool", "address": "str", "n": "int", "var": "list", "wait": "duration"}


def test_forms_and_positional_stop() -> None:
    opts, rest = parse(["-detach", "--address=http://x:1", "-n", "5", "-var", "a=1",
                        "-var=b=2", "job.hcl", "-detach"], SPEC)
    assert opts["detach"] is True
    assert opts["address"] == "http://x:1"
    assert opts["n"] == 5
    assert opts["var"] == ["a=1", "b=2"]
    assert rest == ["job.hcl", "-detach"]


def test_defaults_and_initial_values() -> None:
    opts, rest = parse([], SPEC, initial={"n": -1})
    assert opts == {"detach": False, "address": "", "n": -1, "var": [], "wait": 0}
    assert rest == []


def test_bool_with_value_and_double_dash() -> None:
    opts, rest = parse(["-detach=false", "--", "-n"], SPEC)
    assert opts["detach"] is False
    assert rest == ["-n"]


def test_lone_dash_is_positional() -> None:
    _, rest = parse(["-", "x"], SPEC)
    assert rest == ["-", "x"]


@pytest.mark.parametrize("args,message", [
    (["-bogus"], "flag provided but not defined: -bogus"),
    (["-address"], "flag needs an argument: -address"),
    (["-n", "x"], 'invalid value "x" for flag -n: parse error'),
    (["-detach=maybe"], 'invalid boolean value "maybe" for -detach: parse error'),
    (["---x"], "bad flag syntax: ---x"),
])
def test_errors(args: list[str], message: str) -> None:
    with pytest.raises(FlagError) as exc:
        parse(args, SPEC)
    assert str(exc.value) == message


def test_help_flag() -> None:
    with pytest.raises(FlagError, match="help requested"):
        parse(["-h"], SPEC)


def test_durations() -> None:
    assert parse_duration("1m30s") == 90_000_000_000
    assert parse_duration("1.5h") == 5_400_000_000_000
    assert parse_duration("300ms") == 300_000_000
    assert parse_duration("0") == 0
    with pytest.raises(ValueError):
        parse_duration("10")
    opts, _ = parse(["-wait=2s"], SPEC)
    assert opts["wait"] == 2_000_000_000
