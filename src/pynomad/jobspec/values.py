"""HCL values as plain Python data, and cty-like type conversions.

Values are ``None`` (null), ``bool``, ``int``/``float`` (numbers), ``str``,
``list`` (tuples, lists and sets) and ``dict`` (objects and maps). Conversion
follows go-cty's rules closely enough for job files: numbers and bools turn
into strings, numeric strings into numbers, ``"true"``/``"false"`` into bools.
Type constraints (for ``variable`` blocks) are tuples like ``("list", T)``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

Type = tuple  # ("string",) ("number",) ("bool",) ("any",) ("list", T) ("map", T) ...

STRING: Type = ("string",)
NUMBER: Type = ("number",)
BOOL: Type = ("bool",)
ANY: Type = ("any",)


class ConversionError(Exception):
    """A value does not fit the wanted type; the message reads like cty's."""


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def type_name(v: Any) -> str:
    """A friendly name of the value's type, as used in error messages."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if is_number(v):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "tuple"
    if isinstance(v, dict):
        return "object"
    return type(v).__name__


def normalize_number(v: int | float) -> int | float:
    """Whole floats become ints (cty numbers are exact, Go prints 5 not 5.0)."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer() and abs(v) < 2 ** 63:
        return int(v)
    return v


def format_number(v: int | float) -> str:
    """Format a number like cty does when converting it to a string."""
    v = normalize_number(v)
    if isinstance(v, int):
        return str(v)
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = format(Decimal(repr(v)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_NUM_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_number(text: str) -> int | float:
    """Parse a decimal number string; raise ConversionError if invalid."""
    s = text
    if not _NUM_RE.fullmatch(s):
        raise ConversionError("a number is required")
    try:
        dec = Decimal(s)
    except InvalidOperation:
        raise ConversionError("a number is required") from None
    if dec == dec.to_integral_value() and abs(dec) < Decimal(2) ** 63:
        return int(dec)
    return float(dec)


def to_string(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_number(v):
        return format_number(v)
    raise ConversionError("string required")


def to_number(v: Any) -> int | float:
    if is_number(v):
        return normalize_number(v)
    if isinstance(v, str):
        return parse_number(v)
    raise ConversionError("number required")


def to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v in ("true", "false"):
        return v == "true"
    if isinstance(v, str) and v in ("1", "0"):
        return v == "1"
    raise ConversionError("bool required")


def convert(v: Any, ty: Type) -> Any:
    """Convert a value to a type constraint; null stays null."""
    kind = ty[0]
    if v is None or kind == "any":
        return v
    if kind == "string":
        return to_string(v)
    if kind == "number":
        return to_number(v)
    if kind == "bool":
        return to_bool(v)
    if kind in ("list", "set"):
        if not isinstance(v, list):
            raise ConversionError(f"{kind} of {type_str(ty[1])} required")
        items = [convert(x, ty[1]) for x in v]
        if kind == "set":
            items = unique(items)
        return items
    if kind == "map":
        if not isinstance(v, dict):
            raise ConversionError(f"map of {type_str(ty[1])} required")
        return {k: convert(x, ty[1]) for k, x in v.items()}
    if kind == "object":
        return _convert_object(v, ty[1])
    if kind == "tuple":
        if not isinstance(v, list) or len(v) != len(ty[1]):
            raise ConversionError(f"tuple required with {len(ty[1])} elements")
        return [convert(x, t) for x, t in zip(v, ty[1])]
    raise ConversionError(f"unsupported type {kind}")


def _convert_object(v: Any, attrs: dict[str, Type]) -> dict:
    if not isinstance(v, dict):
        raise ConversionError("object required")
    out = {}
    for name, t in attrs.items():
        if name not in v:
            raise ConversionError(f'attribute "{name}" is required')
        out[name] = convert(v[name], t)
    return out


def type_str(ty: Type) -> str:
    kind = ty[0]
    if kind in ("list", "set", "map"):
        return f"{kind}({type_str(ty[1])})"
    if kind == "object":
        inner = ", ".join(f"{k}={type_str(t)}" for k, t in ty[1].items())
        return "object({" + inner + "})"
    if kind == "tuple":
        return "tuple([" + ", ".join(type_str(t) for t in ty[1]) + "])"
    return kind


def type_of(v: Any) -> Type:
    """The type constraint implied by a value (used when no type is given)."""
    if isinstance(v, bool):
        return BOOL
    if is_number(v):
        return NUMBER
    if isinstance(v, str):
        return STRING
    return ANY


def equal(a: Any, b: Any) -> bool:
    """HCL ``==``: no implicit conversion, so 1 != "1" and true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if type(a) is not type(b) and not (a is None or b is None):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return a == b


def unique(items: list) -> list:
    out: list = []
    for x in items:
        if not any(equal(x, y) for y in out):
            out.append(x)
    return out
