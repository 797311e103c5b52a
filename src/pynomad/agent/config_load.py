"""Reading one agent configuration file (HCL or JSON) into a checked plain dict.

The HCL text is parsed with the jobspec package's syntax tree (python-hcl2's
grammar with source positions), so every unknown key or wrongly typed value
is reported as ``file:line:col: ...``. Agent files are HCL1 in Nomad; the two
HCL1-only forms seen in practice are accepted too: quoted keys
(``"driver.raw_exec.enable" = "1"``) and maps written as blocks (``meta { ... }``).
The checked result keeps Nomad's key names; labelled blocks become
``{label: {...}}`` (``plugin "raw_exec" {...}`` → ``{"plugin": {"raw_exec": {...}}}``).
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from .config_schema import ROOT, SCHEMA

_QUOTED_KEY = re.compile(r'((?:^|\{)[ \t]*)"((?:[^"\\\n]|\\.)*)"([ \t]*=)', re.M)
_BOOL_TEXT = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
              "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}


# Keys Nomad itself rejects but that circulate in published example configurations
# (Consul's agent option copied into Nomad's consul block): accepted with a warning.
TOLERATED = {("consul", "verify_server_hostname"): "a Consul agent setting, not a Nomad one"}
WARNINGS_KEY = "__warnings__"


class ConfigFileError(Exception):
    """Problems in one file; ``problems`` holds one ``file:line:col: text`` line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Item:
    """One key of a block: an attribute value or a nested block, with its position."""

    __slots__ = ("key", "value", "pos", "labels", "is_block")

    def __init__(self, key: str, value: Any, pos: str, labels: list[str], is_block: bool):
        self.key, self.value, self.pos, self.labels, self.is_block = key, value, pos, labels, is_block


# ------------------------------------------------------------- front ends


def parse_text(text: str, filename: str) -> dict[str, Any]:
    """Parse and check one file's text; raise ConfigFileError listing every problem."""
    decoder = _Decoder()
    if filename.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigFileError([f"{filename}:{err.lineno}:{err.colno}: {err.msg}"]) from None
        if not isinstance(data, dict):
            raise ConfigFileError([f"{filename}:1:1: the configuration must be a JSON object"])
        out = decoder.block(_dict_items(data, filename), ROOT, "")
    else:
        out = decoder.block(_hcl_items(text, filename), ROOT, "")
    if decoder.problems:
        raise ConfigFileError(decoder.problems)
    if decoder.warnings:
        out[WARNINGS_KEY] = decoder.warnings
    return out


def _hcl_items(text: str, filename: str) -> list[_Item]:
    from ..jobspec.diagnostics import JobspecError
    from ..jobspec.syntax import parse_body

    names: dict[str, str] = {}

    def _swap(m: re.Match[str]) -> str:
        ident = f"__quoted_key_{len(names)}"
        names[ident] = json.loads(f'"{m.group(2)}"')
        return f"{m.group(1)}{ident}{m.group(3)}"

    try:
        body = parse_body(_QUOTED_KEY.sub(_swap, text), filename)
    except JobspecError as err:
        raise ConfigFileError([_colon_pos(str(d)) for d in err.diagnostics]) from None
    return list(_body_items(body, names))


def _colon_pos(text: str) -> str:
    """``file:3,5-9: msg`` (HCL2 style) → ``file:3:5: msg``."""
    return re.sub(r"^(.*?):(\d+),(\d+)(?:-[\d,]+)?: ", r"\1:\2:\3: ", text, count=1)


def _pos(rng: Any) -> str:
    return f"{rng.filename}:{rng.line}:{rng.col}"


def _body_items(body: Any, names: dict[str, str]) -> Iterator[_Item]:
    from ..jobspec.diagnostics import EvalError, JobspecError
    from ..jobspec.evaluate import Scope, evaluate

    for attr in body.attributes:
        key = names.get(attr.name, attr.name)
        try:
            value = _rename_keys(evaluate(attr.expr, Scope()), names)
        except (EvalError, JobspecError) as err:
            value = _Invalid(_colon_pos(str(err)))
        yield _Item(key, value, _pos(attr.name_rng), [], False)
    for block in body.blocks:
        yield _Item(block.type, _HclBody(block.body, names), _pos(block.type_rng),
                    list(block.labels), True)


def _rename_keys(value: Any, names: dict[str, str]) -> Any:
    """Undo the quoted-key substitution inside object values."""
    if not names:
        return value
    if isinstance(value, dict):
        return {names.get(k, k): _rename_keys(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_keys(v, names) for v in value]
    return value


class _HclBody:
    def __init__(self, body: Any, names: dict[str, str]):
        self.body, self.names = body, names

    def items(self) -> list[_Item]:
        return list(_body_items(self.body, self.names))


class _Invalid:
    def __init__(self, message: str):
        self.message = message


def _dict_items(data: dict[str, Any], pos: str) -> list[_Item]:
    return [_Item(str(k), v, pos, [], False) for k, v in data.items()]


# ---------------------------------------------------------------- decoder


class _Decoder:
    """Checks items against :data:`SCHEMA`, collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []

    def error(self, pos: str, text: str) -> None:
        self.problems.append(f"{pos}: {text}")

    def block(self, items: list[_Item], schema_name: str, path: str) -> dict[str, Any]:
        schema = SCHEMA[schema_name]
        out: dict[str, Any] = {}
        for item in items:
            where = f"{path}.{item.key}" if path else item.key
            kind = schema.get(item.key) if item.key != "__label__" else None
            if kind is None and (path, item.key) in TOLERATED:
                self.warnings.append(f"{item.pos}: {where} ignored: it is "
                                     f"{TOLERATED[(path, item.key)]}")
                continue
            if kind is None:
                self.error(item.pos, f'unexpected key "{item.key}"'
                           + (f' in the "{path}" block' if path else ""))
                continue
            if isinstance(item.value, _Invalid):
                self.problems.append(item.value.message)
                continue
            value = self.value(item, kind, where)
            if value is not _SKIP:
                out[item.key] = _merge(out[item.key], value) \
                    if isinstance(value, dict) and isinstance(out.get(item.key), dict) else value
        return out

    def value(self, item: _Item, kind: Any, where: str) -> Any:
        if isinstance(kind, tuple):
            return self.nested(item, kind, where)
        if item.is_block:
            if kind in ("map", "any") and not item.labels:
                return self.free_block(item.value)
            self.error(item.pos, f'"{where}" must be a {_KIND_NAMES[kind]}, not a block')
            return _SKIP
        value = item.value
        if kind in ("map", "any") and isinstance(value, list) and value \
                and all(isinstance(v, dict) for v in value):
            value = {k: v for part in value for k, v in part.items()}  # JSON list-of-objects form
        return self.scalar(value, kind, item.pos, where)

    def nested(self, item: _Item, kind: tuple[str, str], where: str) -> Any:
        many, name = kind[0] == "blocks", kind[1]
        if item.is_block:
            if len(item.labels) != (1 if many else 0):
                want = "one label" if many else "no labels"
                self.error(item.pos, f'the "{where}" block takes {want}')
                return _SKIP
            body = self.block(item.value.items(), name, where)
            return {item.labels[0]: body} if many else body
        bodies = item.value if isinstance(item.value, list) else [item.value]
        if not bodies or not all(isinstance(b, dict) for b in bodies):
            self.error(item.pos, f'"{where}" must be a block')
            return _SKIP
        out: dict[str, Any] = {}
        for body in bodies:
            if many:
                for label, inner in body.items():
                    for part in inner if isinstance(inner, list) else [inner]:
                        if not isinstance(part, dict):
                            self.error(item.pos, f'"{where}.{label}" must be a block')
                            continue
                        out = _merge(out, {label: self.block(_dict_items(part, item.pos), name,
                                                             where)})
            else:
                out = _merge(out, self.block(_dict_items(body, item.pos), name, where))
        return out

    def free_block(self, body: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in body.items():
            if isinstance(item.value, _Invalid):
                self.problems.append(item.value.message)
            elif item.is_block:
                inner = self.free_block(item.value)
                for label in reversed(item.labels):
                    inner = {label: inner}
                out = _merge(out, {item.key: inner})
            else:
                out[item.key] = item.value
        return out

    def scalar(self, value: Any, kind: str, pos: str, where: str) -> Any:
        ok, result = _coerce(value, kind)
        if not ok:
            self.error(pos, f'"{where}": {result}')
            return _SKIP
        return result


_SKIP = object()
_KIND_NAMES = {"str": "string", "dur": "duration string", "int": "number", "float": "number",
               "bool": "bool", "list": "list", "map": "map", "any": "value"}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "map"
    return "null" if value is None else type(value).__name__


def _coerce(value: Any, kind: str) -> tuple[bool, Any]:
    """HCL1's lenient decoding: strings become numbers/bools and back when they can."""
    want = f"expected a {_KIND_NAMES[kind]}, got {_type_name(value)}"
    if kind == "any":
        return True, value
    if kind in ("str", "dur"):
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (int, float)):
            value = str(value)
        if not isinstance(value, str):
            return False, want
        return (True, value) if kind == "str" else _duration(value)
    if kind == "bool":
        if isinstance(value, str) and value in _BOOL_TEXT:
            return True, _BOOL_TEXT[value]
        return (True, value) if isinstance(value, bool) else (False, want)
    if kind in ("int", "float"):
        return _number(value, kind, want)
    if kind == "list":
        if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
            return True, value
        return False, f"expected a list of strings, got {_type_name(value)}"
    if isinstance(value, dict) and all(not isinstance(v, (dict, list)) for v in value.values()):
        return True, {str(k): _stringify(v) for k, v in value.items()}
    return False, f"expected a map of strings, got {_type_name(value)}"


def _stringify(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


def _number(value: Any, kind: str, want: str) -> tuple[bool, Any]:
    if isinstance(value, bool):
        return False, want
    if isinstance(value, str):
        try:
            value = int(value, 0) if kind == "int" else float(value)
        except ValueError:
            return False, f"cannot parse {json.dumps(value)} as a number"
    if isinstance(value, float) and kind == "int":
        if not value.is_integer():
            return False, f"expected a whole number, got {value}"
        value = int(value)
    return (True, value) if isinstance(value, (int, float)) else (False, want)


def _duration(text: str) -> tuple[bool, Any]:
    from ..helper.goformat import parse_duration

    if text == "":
        return True, text
    try:
        parse_duration(text)
    except (ValueError, Exception) as err:  # noqa: BLE001 - report any parse failure
        return False, f"invalid duration {json.dumps(text)}: {err}"
    return True, text


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
