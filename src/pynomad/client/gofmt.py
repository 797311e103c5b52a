"""Go's `fmt` as the template engine needs it: `%v` printing of values, `Sprint`,
`Sprintln` and `Sprintf` with Go's verbs and its error notation (`%!d(string=x)`).

Python values stand for Go values: None is nil, bool/int/float/str the basic kinds,
list a slice, dict a map (printed with sorted keys, as Go does). An object may define
`go_string()` (Go's `String()` method) and `go_type()` (its `%T` name). Pure functions.
"""

from __future__ import annotations

import decimal
import math
import re
from typing import Any

from ..helper.goformat import quote as go_quote


class Missing:
    """Go's invalid reflect.Value: a missing map key or field; prints `<no value>`."""

    _instance: "Missing | None" = None

    def __new__(cls) -> "Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<no value>"


MISSING = Missing()


def go_type(v: Any) -> str:
    """Go's `%T` of a value."""
    if hasattr(v, "go_type"):
        return v.go_type()
    if v is None or v is MISSING:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    return type(v).__name__


def format_float(f: float, verb: str = "g", prec: int = -1) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64) (Go's %v of a float64) or 'e'/'f' with prec."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if verb == "f":
        return f"{f:.{6 if prec < 0 else prec}f}"
    if verb == "e":
        if prec < 0:
            sign, digits, exp = _shortest(f)
            mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
            return _exp(sign + mant, exp + len(digits) - 1)
        s = f"{f:.{prec}e}"
        mant, _, e = s.partition("e")
        return _exp(mant, int(e))
    if prec >= 0:          # %.Ng: Python's %g matches Go's except the exponent width
        s = f"{f:.{prec}g}"
        if "e" in s:
            mant, _, e = s.partition("e")
            return _exp(mant, int(e))
        return s
    sign, digits, exp = _shortest(f)
    x = len(digits) + exp - 1               # decimal exponent of the first digit
    if x < -4 or x >= 6:                    # Go: shortest %g switches to %e at 1e+06
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return _exp(sign + mant, x)
    if exp >= 0:
        return sign + digits + "0" * exp
    point = len(digits) + exp
    if point > 0:
        return sign + digits[:point] + "." + digits[point:]
    return sign + "0." + "0" * (-point) + digits


def _shortest(f: float) -> tuple[str, str, int]:
    """(sign, significant digits without trailing zeros, exponent) of repr(f)."""
    t = decimal.Decimal(repr(f)).as_tuple()
    digits = "".join(map(str, t.digits)) or "0"
    exp = int(t.exponent)
    stripped = digits.rstrip("0") or "0"
    exp += len(digits) - len(stripped)
    return ("-" if t.sign else ""), stripped, exp


def _exp(mant: str, e: int) -> str:
    return f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"


def sprint_value(v: Any, top: bool = True) -> str:
    """Go's `%v` (the template engine prints action results with it)."""
    if hasattr(v, "go_string"):
        return v.go_string()
    if v is MISSING:
        return "<no value>"
    if v is None:
        return "<no value>" if top else "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, (int, str)):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return "[" + " ".join(str(b) for b in v) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(sprint_value(x, False) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{sprint_value(k, False)}:{sprint_value(v[k], False)}"
                                 for k in sorted_keys(v)) + "]"
    return str(v)


def sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError:
        return sorted(d, key=str)


def sprint(*args: Any) -> str:
    """fmt.Sprint: spaces between operands when neither side is a string."""
    out = []
    for i, a in enumerate(args):
        if i > 0 and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(sprint_value(a, False))
    return "".join(out)


def sprintln(*args: Any) -> str:
    return " ".join(sprint_value(a, False) for a in args) + "\n"


_VERB = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])")


def sprintf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf for the verbs templates use: v s d q f e g t x X o b c T %."""
    out: list[str] = []
    pos = 0
    used = 0
    for m in _VERB.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, width, prec, verb = m.group(1), m.group(2), m.group(3), m.group(4)
        if verb == "%":
            out.append("%")
            continue
        if width == "*":
            width = str(args[used]) if used < len(args) else ""
            used += 1
        if prec == "*":
            prec = str(args[used]) if used < len(args) else ""
            used += 1
        if used >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        arg = args[used]
        used += 1
        p = -1 if prec is None else int(prec or 0)
        body = _format_one(verb, flags, p, arg)
        if width and width.isdigit() and len(body) < int(width):
            n = int(width)
            if "-" in flags:
                body = body.ljust(n)
            elif "0" in flags and verb in "dfegxXob" and not isinstance(arg, str):
                sign = body[0] if body[:1] in "+-" else ""
                body = sign + body[len(sign):].rjust(n - len(sign), "0")
            else:
                body = body.rjust(n)
        out.append(body)
    out.append(fmt[pos:])
    if used < len(args):
        extra = ", ".join(f"{go_type(a)}={sprint_value(a, False)}" for a in args[used:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _bad(verb: str, arg: Any) -> str:
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(arg)}={sprint_value(arg, False)})"


def _format_one(verb: str, flags: str, prec: int, arg: Any) -> str:
    if verb == "T":
        return go_type(arg)
    if verb == "v":
        if isinstance(arg, float) and prec >= 0:
            return format_float(arg, "g", prec)
        s = sprint_value(arg, False)
        return ("+" + s) if "+" in flags and isinstance(arg, (int, float)) \
            and not isinstance(arg, bool) and arg >= 0 else s
    if verb == "s":
        s = arg.go_string() if hasattr(arg, "go_string") else arg
        if isinstance(s, str):
            return s[:prec] if prec >= 0 else s
        if isinstance(arg, (list, dict)):
            return sprint_value(arg, False)
        return _bad(verb, arg)
    if verb == "q":
        if isinstance(arg, str):
            return go_quote(arg)
        if isinstance(arg, int) and not isinstance(arg, bool):
            return "'" + go_quote(chr(arg))[1:-1].replace("\\\"", "\"") + "'"
        return _bad(verb, arg)
    if verb == "t":
        return ("true" if arg else "false") if isinstance(arg, bool) else _bad(verb, arg)
    if isinstance(arg, bool):
        return _bad(verb, arg)
    if verb in "dxXobc" and isinstance(arg, int):
        if verb == "c":
            return chr(arg)
        base = {"d": "d", "x": "x", "X": "X", "o": "o", "b": "b"}[verb]
        s = format(arg, base)
        if "#" in flags and verb in "xXo":
            s = ("-" if arg < 0 else "") + {"x": "0x", "X": "0X", "o": "0"}[verb] + s.lstrip("-")
        if "+" in flags and arg >= 0:
            s = "+" + s
        elif " " in flags and arg >= 0:
            s = " " + s
        return s
    if verb in "xX" and isinstance(arg, str):
        s = arg.encode().hex()
        return s.upper() if verb == "X" else s
    if verb in "feEgG" and isinstance(arg, (int, float)) and not isinstance(arg, int):
        f = float(arg)
        kind = verb.lower() if verb in "eEgG" else "f"
        s = format_float(f, kind, prec if prec >= 0 or kind == "g" else 6)
        if verb in "EG":
            s = s.upper()
        if "+" in flags and f >= 0:
            s = "+" + s
        return s
    return _bad(verb, arg)
