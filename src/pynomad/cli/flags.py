"""A small command-line flag parser with Go ``flag`` package semantics.

Accepted forms: ``-flag``, ``--flag``, ``-flag=value``, ``-flag value`` (non-boolean
flags only) and ``-flag=true|false`` for booleans. Parsing stops at the first
non-flag argument, at a lone ``-``, or after ``--``; everything after that is
positional. Unknown flags are an error (``flag provided but not defined: -x``).

Flag kinds: ``bool``, ``str``, ``int``, ``list`` (repeatable string), ``duration``.
"""

from __future__ import annotations

from typing import Any

from pynomad.helper.goformat import parse_duration

#: Flags accepted by every command that talks to an agent (Meta.FlagSet in Nomad).
CLIENT_FLAGS: dict[str, str] = {
    "address": "str",
    "region": "str",
    "namespace": "str",
    "no-color": "bool",
    "force-color": "bool",
    "ca-cert": "str",
    "ca-path": "str",
    "client-cert": "str",
    "client-key": "str",
    "insecure": "bool",
    "tls-server-name": "str",
    "tls-skip-verify": "bool",
    "token": "str",
}

_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}


class FlagError(Exception):
    """A flag could not be parsed; the message is Go's wording."""


def _convert(name: str, kind: str, raw: str) -> Any:
    if kind == "bool":
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise FlagError(f'invalid boolean value "{raw}" for -{name}: parse error')
    if kind == "int":
        try:
            return int(raw, 0) if raw.lower().startswith(("0x", "0o", "0b")) else int(raw)
        except ValueError:
            raise FlagError(f'invalid value "{raw}" for flag -{name}: parse error') from None
    if kind == "duration":
        try:
            return parse_duration(raw)
        except ValueError:
            raise FlagError(f'invalid value "{raw}" for flag -{name}: parse error') from None
    return raw


def defaults(spec: dict[str, str], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Zero values for every flag in ``spec`` (``False``, ``""``, ``0``, ``[]``)."""
    zero = {"bool": False, "str": "", "int": 0, "list": None, "duration": 0}
    values = {name: ([] if kind == "list" else zero[kind]) for name, kind in spec.items()}
    values.update(overrides or {})
    return values


def parse(args: list[str], spec: dict[str, str],
          initial: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Parse ``args`` against ``spec``; return (flag values keyed by name, positional args)."""
    values = defaults(spec, initial)
    i = 0
    while i < len(args):
        arg = args[i]
        if len(arg) < 2 or arg[0] != "-":
            break
        if arg == "--":
            i += 1
            break
        name = arg[2:] if arg.startswith("--") else arg[1:]
        if not name or name[0] in "-=":
            raise FlagError(f"bad flag syntax: {arg}")
        value: str | None = None
        if "=" in name:
            name, value = name.split("=", 1)
        if name in ("h", "help") and name not in spec:
            raise FlagError("help requested")
        kind = spec.get(name)
        if kind is None:
            raise FlagError(f"flag provided but not defined: -{name}")
        i += 1
        if kind == "bool":
            values[name] = True if value is None else _convert(name, kind, value)
            continue
        if value is None:
            if i >= len(args):
                raise FlagError(f"flag needs an argument: -{name}")
            value = args[i]
            i += 1
        converted = _convert(name, kind, value)
        if kind == "list":
            values[name].append(converted)
        else:
            values[name] = converted
    return values, list(args[i:])
