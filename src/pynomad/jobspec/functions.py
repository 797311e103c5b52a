"""The HCL function library of Nomad's jobspec2 (numeric, string, collection).

Each function is registered with parameter types; arguments are converted the
way go-cty does before the implementation runs. Encoding, crypto, network,
time and filesystem functions live in :mod:`functions_extra`.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

from .evaluate import FuncError
from .values import (ConversionError, equal, format_number, normalize_number, to_bool,
                     to_number, to_string, type_name, unique)

REGISTRY: dict[str, "Function"] = {}


class Function:
    """A callable with cty-style parameter checking and conversion."""

    lazy = False

    def __init__(self, name: str, params: tuple[str, ...], var: str | None,
                 impl: Callable[..., Any]) -> None:
        self.name, self.params, self.var, self.impl = name, params, var, impl

    def __call__(self, *args: Any) -> Any:
        if len(args) < len(self.params) or (self.var is None and len(args) > len(self.params)):
            want = f"{len(self.params)}" + (" or more" if self.var else "")
            raise FuncError(f"Function \"{self.name}\" expects {want} argument(s); {len(args)} given")
        conv = [coerce(a, self.params[i] if i < len(self.params) else self.var, i, self)
                for i, a in enumerate(args)]
        return self.impl(*conv)


def coerce(v: Any, kind: str | None, i: int, fn: Function) -> Any:
    """Convert argument ``i`` to the parameter kind; raise FuncError if impossible."""
    if kind in (None, "any"):
        return v
    if v is None:
        if kind.endswith("?"):
            return None
        raise FuncError(f"argument {i + 1} must not be null")
    kind = kind.rstrip("?")
    try:
        if kind == "string":
            return to_string(v)
        if kind == "number":
            return to_number(v)
        if kind == "int":
            num = to_number(v)
            if not isinstance(num, int):
                raise ConversionError("a whole number is required")
            return num
        if kind == "bool":
            return to_bool(v)
    except ConversionError as err:
        raise FuncError(f"invalid value for argument {i + 1}: {err}") from None
    if kind == "list" and not isinstance(v, list):
        raise FuncError(f"invalid value for argument {i + 1}: list required, not {type_name(v)}")
    if kind == "map" and not isinstance(v, dict):
        raise FuncError(f"invalid value for argument {i + 1}: map required, not {type_name(v)}")
    return v


def register(name: str, *params: str, var: str | None = None) -> Callable:
    def deco(impl: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY[name] = Function(name, params, var, impl)
        return impl
    return deco


# ------------------------------------------------------------------- numbers


@register("abs", "number")
def _abs(x):  # noqa: ANN001, ANN202 - small implementations below follow the same pattern
    return normalize_number(abs(x))


@register("ceil", "number")
def _ceil(x):
    return x if math.isinf(x) else math.ceil(x)


@register("floor", "number")
def _floor(x):
    return x if math.isinf(x) else math.floor(x)


@register("log", "number", "number")
def _log(x, base):
    return normalize_number(math.log(x, base))


@register("pow", "number", "number")
def _pow(x, y):
    return normalize_number(float(x) ** y if isinstance(y, float) or y < 0 else x ** y)


@register("signum", "number")
def _signum(x):
    return (x > 0) - (x < 0)


@register("min", var="number")
def _min(*xs):
    if not xs:
        raise FuncError("must pass at least one number")
    return min(xs)


@register("max", var="number")
def _max(*xs):
    if not xs:
        raise FuncError("must pass at least one number")
    return max(xs)


@register("parseint", "string", "int")
def _parseint(s, base):
    if not 2 <= base <= 62:
        raise FuncError("base must be a whole number between 2 and 62 inclusive")
    try:
        return int(s, base) if base <= 36 else _parse_base62(s, base)
    except ValueError:
        raise FuncError(f"cannot parse {s!r} as a base {base} integer") from None


def _parse_base62(s: str, base: int) -> int:
    digits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    neg = s.startswith("-")
    total = 0
    for ch in s.lstrip("+-"):
        d = digits.find(ch)
        if d < 0 or d >= base:
            raise ValueError(s)
        total = total * base + d
    return -total if neg else total


# ------------------------------------------------------------------- strings


@register("upper", "string")
def _upper(s):
    return s.upper()


@register("lower", "string")
def _lower(s):
    return s.lower()


@register("title", "string")
def _title(s):
    out, sep = [], True
    for ch in s:
        out.append(ch.upper() if sep else ch)
        sep = ch.isspace() if not ch.isascii() else not (ch.isalnum() or ch == "_")
    return "".join(out)


@register("trimspace", "string")
def _trimspace(s):
    return s.strip()


@register("trim", "string", "string")
def _trim(s, cutset):
    return s.strip(cutset) if cutset else s


@register("trimprefix", "string", "string")
def _trimprefix(s, p):
    return s[len(p):] if p and s.startswith(p) else s


@register("trimsuffix", "string", "string")
def _trimsuffix(s, p):
    return s[: -len(p)] if p and s.endswith(p) else s


@register("chomp", "string")
def _chomp(s):
    return re.sub(r"(?:\r\n|\r|\n)+\Z", "", s)


@register("indent", "int", "string")
def _indent(spaces, s):
    return s.replace("\n", "\n" + " " * max(spaces, 0))


@register("strlen", "string")
def _strlen(s):
    return len(s)


@register("reverse", "string")
def _reverse(s):
    return s[::-1]


REGISTRY["strrev"] = REGISTRY["reverse"]


@register("substr", "string", "int", "int")
def _substr(s, offset, length):
    if offset < 0:
        offset = max(len(s) + offset, 0)
    if offset > len(s):
        raise FuncError("offset is past the end of the string")
    if length < 0:
        return s[offset:]
    return s[offset: offset + length]


@register("replace", "string", "string", "string")
def _replace(s, old, new):
    return s.replace(old, new)


@register("regex_replace", "string", "string", "string")
def _regex_replace(s, pattern, repl):
    try:
        rx = re.compile(_go_regex(pattern))
    except re.error as err:
        raise FuncError(f"invalid regular expression: {err}") from None
    py_repl = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: "\\g<" + (m.group(1) or m.group(2)) + ">", repl.replace("\\", "\\\\"))
    try:
        return rx.sub(py_repl, s)
    except (re.error, IndexError) as err:
        raise FuncError(str(err)) from None


def _go_regex(pattern: str) -> str:
    """Translate the few RE2 spellings that Python's re lacks."""
    return pattern.replace("(?P<", "(?P<").replace("\\z", "\\Z")


@register("split", "string", "string")
def _split(sep, s):
    if sep == "":
        return list(s)
    return s.split(sep)


@register("join", "string", var="list")
def _join(sep, *lists):
    if not lists:
        raise FuncError("at least one list is required")
    items = []
    for lst in lists:
        for x in lst:
            if x is None:
                raise FuncError("element must not be null")
            items.append(to_string(x))
    return sep.join(items)


_FMT = re.compile(r"%([-+# 0]*)(\[\d+\])?(\*|\d+)?(?:\.(\d+))?([a-zA-Z%])")


@register("format", "string", var="any")
def _format(fmt, *args):
    return go_format(fmt, list(args))


def go_format(fmt: str, args: list[Any]) -> str:
    """A subset of Go's fmt verbs, as used by cty's format()."""
    out: list[str] = []
    pos = 0
    argi = 0
    for m in _FMT.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flags, idx, width, prec, verb = m.groups()
        if verb == "%":
            out.append("%")
            continue
        if idx:
            argi = int(idx[1:-1]) - 1
        if argi >= len(args) or argi < 0:
            raise FuncError(f"not enough arguments for %{verb} at {m.start()}")
        out.append(_format_one(args[argi], flags, width, prec, verb))
        argi += 1
    out.append(fmt[pos:])
    return "".join(out)


def _format_one(v: Any, flags: str, width: str | None, prec: str | None, verb: str) -> str:
    from .functions_extra import json_encode

    if verb in "vs":
        text = json_encode(v) if (verb == "v" and "#" in flags) or isinstance(v, (list, dict)) else (
            "null" if v is None else to_string(v))
        if prec:
            text = text[: int(prec)]
    elif verb == "q":
        text = json_encode(to_string(v))
    elif verb == "t":
        text = "true" if to_bool(v) else "false"
    elif verb in "dboxXc":
        num = to_number(v)
        if not isinstance(num, int):
            raise FuncError(f"%{verb} requires an integer")
        text = {"d": str, "b": lambda x: format(x, "b"), "o": lambda x: format(x, "o"),
                "x": lambda x: format(x, "x"), "X": lambda x: format(x, "X"), "c": chr}[verb](num)
        if "+" in flags and num >= 0 and verb == "d":
            text = "+" + text
    elif verb in "feEgG":
        num = float(to_number(v))
        spec = ("+" if "+" in flags else "") + (f".{prec}" if prec else (".6" if verb in "feE" else "")) + verb
        text = format(num, spec) if verb not in "gG" or prec else format_number(num)
    else:
        raise FuncError(f"unsupported format verb %{verb}")
    if width and width != "*":
        w = int(width)
        if "-" in flags:
            text = text.ljust(w)
        elif "0" in flags and verb not in "sqvt":
            sign = text[0] if text and text[0] in "+-" else ""
            text = sign + text[len(sign):].rjust(w - len(sign), "0")
        else:
            text = text.rjust(w)
    return text


@register("formatlist", "string", var="any")
def _formatlist(fmt, *args):
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise FuncError("all list arguments must have the same length")
    n = lengths.pop() if lengths else 1
    return [go_format(fmt, [a[i] if isinstance(a, list) else a for a in args]) for i in range(n)]


# --------------------------------------------------------------- collections


@register("length", "any")
def _length(v):
    if isinstance(v, (str, list, dict)):
        return len(v)
    raise FuncError(f"argument must be a string, a collection type, or a structural type, not {type_name(v)}")


@register("concat", var="list")
def _concat(*lists):
    out: list = []
    for lst in lists:
        out.extend(lst)
    return out


@register("lookup", "map", "string", var="any")
def _lookup(m, key, *default):
    if len(default) > 1:
        raise FuncError("lookup() takes at most three arguments")
    if key in m:
        return m[key]
    if default:
        return default[0]
    raise FuncError(f'lookup failed to find key "{key}"')


@register("merge", var="any")
def _merge(*maps):
    out: dict = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise FuncError(f"arguments must be maps or objects, got {type_name(m)}")
        out.update(m)
    return out


@register("coalesce", var="any")
def _coalesce(*vals):
    for v in vals:
        if v is not None:
            return v
    raise FuncError("no non-null arguments")


@register("coalescelist", var="list")
def _coalescelist(*lists):
    for lst in lists:
        if lst:
            return lst
    raise FuncError("no non-empty lists")


@register("compact", "list")
def _compact(lst):
    return [to_string(x) for x in lst if x is not None and x != ""]


@register("contains", "list", "any")
def _contains(lst, v):
    return any(equal(x, v) for x in lst)


@register("distinct", "list")
def _distinct(lst):
    return unique(lst)


@register("element", "list", "int")
def _element(lst, idx):
    if not lst:
        raise FuncError("cannot use element function with an empty list")
    if idx < 0:
        raise FuncError("cannot use element function with a negative index")
    return lst[idx % len(lst)]


@register("flatten", "list")
def _flatten(lst):
    out: list = []
    for x in lst:
        out.extend(_flatten(x) if isinstance(x, list) else [x])
    return out


@register("index", "list", "any")
def _index(lst, v):
    for i, x in enumerate(lst):
        if equal(x, v):
            return i
    raise FuncError("item not found")


@register("keys", "any")
def _keys(m):
    if not isinstance(m, dict):
        raise FuncError("must have map or object type")
    return sorted(m)


@register("values", "any")
def _values(m):
    if not isinstance(m, dict):
        raise FuncError("must have map or object type")
    return [m[k] for k in sorted(m)]


@register("range", var="number")
def _range(*args):
    if not 1 <= len(args) <= 3:
        raise FuncError("must have one, two, or three arguments")
    start, step = 0, None
    if len(args) == 1:
        limit = args[0]
    else:
        start, limit = args[0], args[1]
        step = args[2] if len(args) == 3 else None
    if step is None:
        step = 1 if limit >= start else -1
    if step == 0:
        raise FuncError("step must not be zero")
    if (step > 0 and limit < start) or (step < 0 and limit > start):
        raise FuncError("step must be " + ("negative" if step > 0 else "positive") + " for this range")
    out, x = [], start
    while (x < limit) if step > 0 else (x > limit):
        if len(out) >= 1024:
            raise FuncError("more than 1024 values were generated; either decrease the difference between start and limit or use a smaller step")
        out.append(normalize_number(x))
        x += step
    return out


@register("slice", "list", "int", "int")
def _slice(lst, start, end):
    if start < 0 or end > len(lst) or start > end:
        raise FuncError("invalid slice indices")
    return lst[start:end]


@register("sort", "list")
def _sort(lst):
    try:
        return sorted(to_string(x) for x in lst)
    except ConversionError as err:
        raise FuncError(str(err)) from None


@register("chunklist", "list", "int")
def _chunklist(lst, size):
    if size < 0:
        raise FuncError("the size argument must be positive")
    if size == 0:
        return [lst]
    return [lst[i:i + size] for i in range(0, len(lst), size)]


@register("setunion", var="list")
def _setunion(*lists):
    return unique([x for lst in lists for x in lst])


@register("setintersection", "list", var="list")
def _setintersection(first, *rest):
    return [x for x in unique(first) if all(any(equal(x, y) for y in r) for r in rest)]


@register("setproduct", var="list")
def _setproduct(*lists):
    out: list = [[]]
    for lst in lists:
        out = [prev + [x] for prev in out for x in lst]
    return out if lists else []


@register("zipmap", "list", "list")
def _zipmap(keys, vals):
    if len(keys) != len(vals):
        raise FuncError("number of keys and values must match")
    return {to_string(k): v for k, v in zip(keys, vals)}
