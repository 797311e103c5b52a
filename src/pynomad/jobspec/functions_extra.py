"""More jobspec2 functions: encoding, hashing, uuids, CIDR math, time,
filesystem access (relative to the job file), and the lazy ``try``/``can``/
``convert``. YAML lives in :mod:`functions_yaml`, bcrypt and rsadecrypt in
:mod:`functions_crypto`. :func:`make_functions` builds the table for one parse.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import glob
import hashlib
import io
import ipaddress
import json
import os
import re
import urllib.parse
import uuid
from typing import Any, Callable

from ..helper.goformat import format_rfc3339_datetime, parse_duration, parse_rfc3339_datetime
from . import nodes as n
from .diagnostics import EvalError
from .evaluate import FuncError, Scope, evaluate
from .functions import REGISTRY, Function, register
from . import functions_crypto, functions_yaml  # noqa: F401 - register bcrypt, rsadecrypt, yaml*
from .values import ConversionError, convert, format_number, is_number, normalize_number


def json_encode(v: Any) -> str:
    """Encode like Go's encoding/json (sorted keys, HTML-safe escapes)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if is_number(v):
        return format_number(v)
    if isinstance(v, str):
        text = json.dumps(v, ensure_ascii=False)
        for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                        ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
            text = text.replace(ch, esc)
        return text
    if isinstance(v, list):
        return "[" + ",".join(json_encode(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(json_encode(k) + ":" + json_encode(v[k]) for k in sorted(v)) + "}"
    raise FuncError(f"cannot encode {type(v).__name__}")


def _from_json(v: Any) -> Any:
    if isinstance(v, float):
        return normalize_number(v)
    if isinstance(v, list):
        return [_from_json(x) for x in v]
    if isinstance(v, dict):
        return {k: _from_json(x) for k, x in v.items()}
    return v


@register("jsonencode", "any")
def _jsonencode(v):
    return json_encode(v)


@register("jsondecode", "string")
def _jsondecode(s):
    try:
        return _from_json(json.loads(s))
    except (ValueError, RecursionError) as err:
        raise FuncError(f"invalid JSON: {err}") from None


@register("base64encode", "string")
def _b64enc(s):
    return base64.b64encode(s.encode()).decode()


@register("base64decode", "string")
def _b64dec(s):
    try:
        return base64.b64decode(s.encode(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise FuncError("failed to decode base64 data") from None


@register("urlencode", "string")
def _urlencode(s):
    return urllib.parse.quote_plus(s, safe="")


@register("csvdecode", "string")
def _csvdecode(s):
    rows = list(csv.reader(io.StringIO(s)))
    if not rows:
        raise FuncError("missing header line")
    header = rows[0]
    out = []
    for row in rows[1:]:
        if len(row) != len(header):
            raise FuncError("wrong number of fields")
        out.append(dict(zip(header, row)))
    return out


def _hash(algo: str) -> Callable[[str], str]:
    def impl(s: str) -> str:
        return hashlib.new(algo, s.encode()).hexdigest()
    return impl


for _algo in ("md5", "sha1", "sha256", "sha512"):
    REGISTRY[_algo] = Function(_algo, ("string",), None, _hash(_algo))


@register("uuidv4")
def _uuidv4():
    return str(uuid.uuid4())


_UUID_NS = {"dns": uuid.NAMESPACE_DNS, "url": uuid.NAMESPACE_URL, "oid": uuid.NAMESPACE_OID,
            "x500": uuid.NAMESPACE_X500}


@register("uuidv5", "string", "string")
def _uuidv5(ns, name):
    try:
        space = _UUID_NS.get(ns) or uuid.UUID(ns)
    except ValueError:
        raise FuncError(f"uuidv5() doesn't support namespace {ns}") from None
    return str(uuid.uuid5(space, name))


# ---------------------------------------------------------------------- CIDR


def _network(prefix: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(prefix, strict=False)
    except ValueError as err:
        raise FuncError(f"invalid CIDR expression: {err}") from None


@register("cidrhost", "string", "int")
def _cidrhost(prefix, num):
    net = _network(prefix)
    size = net.num_addresses
    if num < 0:
        num += size
    if not 0 <= num < size:
        raise FuncError(f"prefix of {net.prefixlen} does not accommodate a host numbered {num}")
    return str(net.network_address + num)


@register("cidrnetmask", "string")
def _cidrnetmask(prefix):
    net = _network(prefix)
    if net.version != 4:
        raise FuncError("only IPv4 networks are supported")
    return str(net.netmask)


@register("cidrsubnet", "string", "int", "int")
def _cidrsubnet(prefix, newbits, num):
    net = _network(prefix)
    new_len = net.prefixlen + newbits
    if newbits < 0 or new_len > net.max_prefixlen or not 0 <= num < 2 ** newbits:
        raise FuncError("invalid newbits or netnum")
    base = int(net.network_address) + (num << (net.max_prefixlen - new_len))
    return str(ipaddress.ip_network((base, new_len)))


@register("cidrsubnets", "string", var="int")
def _cidrsubnets(prefix, *bits):
    net = _network(prefix)
    out, cur = [], int(net.network_address)
    for nb in bits:
        new_len = net.prefixlen + nb
        if nb < 1 or new_len > net.max_prefixlen:
            raise FuncError("invalid prefix extension")
        size = 1 << (net.max_prefixlen - new_len)
        cur = (cur + size - 1) // size * size
        sub = ipaddress.ip_network((cur, new_len))
        if not sub.subnet_of(net):  # type: ignore[arg-type]
            raise FuncError("not enough remaining address space")
        out.append(str(sub))
        cur += size
    return out


# ---------------------------------------------------------------------- time


def _parse_ts(s: str) -> dt.datetime:
    try:
        return parse_rfc3339_datetime(s)
    except ValueError:
        raise FuncError(f'not a valid RFC3339 timestamp: "{s}"') from None


@register("timeadd", "string", "string")
def _timeadd(ts, duration):
    try:
        ns = parse_duration(duration)
    except ValueError as err:
        raise FuncError(str(err)) from None
    return format_rfc3339_datetime(_parse_ts(ts) + dt.timedelta(microseconds=ns / 1000))


_DATE_TOKENS = re.compile(r"'[^']*'|YYYY|YY|MMMM|MMM|MM|M|DD|D|EEEE|EEE|hh|h|HH|H|AA|aa|mm|m|ss|s|ZZZZZ|ZZZZ|ZZZ|Z|[^'A-Za-z]+|[A-Za-z]")


@register("formatdate", "string", "string")
def _formatdate(spec, ts):
    t = _parse_ts(ts)
    out = []
    for tok in _DATE_TOKENS.findall(spec):
        out.append(_date_token(tok, t))
    return "".join(out)


def _date_token(tok: str, t: dt.datetime) -> str:
    if tok.startswith("'"):
        return tok[1:-1] if tok != "''" else "'"
    off = t.utcoffset() or dt.timedelta(0)
    mins = int(off.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    hh, mm = divmod(abs(mins), 60)
    table = {
        "YYYY": f"{t.year:04d}", "YY": f"{t.year % 100:02d}", "MMMM": t.strftime("%B"),
        "MMM": t.strftime("%b"), "MM": f"{t.month:02d}", "M": str(t.month), "DD": f"{t.day:02d}",
        "D": str(t.day), "EEEE": t.strftime("%A"), "EEE": t.strftime("%a"),
        "hh": f"{t.hour:02d}", "h": str(t.hour), "HH": f"{(t.hour % 12) or 12:02d}",
        "H": str((t.hour % 12) or 12), "AA": "AM" if t.hour < 12 else "PM",
        "aa": "am" if t.hour < 12 else "pm", "mm": f"{t.minute:02d}", "m": str(t.minute),
        "ss": f"{t.second:02d}", "s": str(t.second),
        "ZZZZZ": f"{sign}{hh:02d}:{mm:02d}", "ZZZZ": f"{sign}{hh:02d}{mm:02d}",
        "ZZZ": "UTC" if mins == 0 else f"{sign}{hh:02d}{mm:02d}",
        "Z": "Z" if mins == 0 else f"{sign}{hh:02d}:{mm:02d}",
    }
    if tok in table:
        return table[tok]
    if tok[:1].isalpha():
        raise FuncError(f"invalid date format verb {tok!r}")
    return tok


# ---------------------------------------------------------------- filesystem


def _fs_functions(basedir: str) -> dict[str, Callable[..., Any]]:
    def resolve(path: str) -> str:
        path = os.path.expanduser(path)
        return path if os.path.isabs(path) else os.path.join(basedir, path)

    def read(path: str, b64: bool) -> str:
        try:
            with open(resolve(path), "rb") as fh:
                data = fh.read()
        except OSError as err:
            raise FuncError(f"failed to read {path!r}: {err.strerror or err}") from None
        if b64:
            return base64.b64encode(data).decode()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise FuncError(f"contents of {path} are not valid UTF-8; use the filebase64 function") from None

    def fileset(path: str, pattern: str) -> list[str]:
        root = resolve(path)
        found = glob.glob(os.path.join(root, pattern), recursive=True)
        return sorted(os.path.relpath(p, root) for p in found if os.path.isfile(p))

    return {
        "file": Function("file", ("string",), None, lambda p: read(p, False)),
        "filebase64": Function("filebase64", ("string",), None, lambda p: read(p, True)),
        "fileexists": Function("fileexists", ("string",), None, lambda p: os.path.isfile(resolve(p))),
        "fileset": Function("fileset", ("string", "string"), None, fileset),
        "abspath": Function("abspath", ("string",), None, os.path.abspath),
        "basename": Function("basename", ("string",), None, os.path.basename),
        "dirname": Function("dirname", ("string",), None, os.path.dirname),
        "pathexpand": Function("pathexpand", ("string",), None, os.path.expanduser),
    }


def _fs_disabled(name: str) -> Function:
    def impl(*_args: Any) -> Any:
        raise FuncError("filesystem function disabled")
    return Function(name, (), "any", impl)


# ----------------------------------------------------------- lazy functions


class LazyFunction:
    """A function that receives its argument expressions unevaluated."""

    lazy = True

    def __init__(self, impl: Callable[[list[n.Expr], Scope, n.Range], Any]) -> None:
        self.impl = impl


def _try(args: list[n.Expr], scope: Scope, rng: n.Range) -> Any:
    if not args:
        raise EvalError("Invalid function arguments", "At least one argument is required.", rng)
    for a in args:
        try:
            return evaluate(a, scope)
        except EvalError:
            continue
    raise EvalError("Error in function call", 'Call to function "try" failed: no expression succeeded.', rng)


def _can(args: list[n.Expr], scope: Scope, rng: n.Range) -> Any:
    if len(args) != 1:
        raise EvalError("Invalid function arguments", "can() takes exactly one argument.", rng)
    try:
        evaluate(args[0], scope)
        return True
    except EvalError:
        return False


def _convert(args: list[n.Expr], scope: Scope, rng: n.Range) -> Any:
    from .types import parse_type

    if len(args) != 2:
        raise EvalError("Invalid function arguments", "convert() takes exactly two arguments.", rng)
    value = evaluate(args[0], scope)
    ty = parse_type(args[1])
    try:
        return convert(value, ty)
    except ConversionError as err:
        raise EvalError("Invalid function argument", f'Invalid value for "value" parameter: {err}.', args[0].rng) from None


def make_functions(basedir: str, allow_fs: bool) -> dict[str, Any]:
    """The function table for one parse (filesystem functions per allow_fs)."""
    table: dict[str, Any] = dict(REGISTRY)
    fs = _fs_functions(basedir)
    for name in fs:
        table[name] = fs[name] if allow_fs else _fs_disabled(name)
    table["try"] = LazyFunction(_try)
    table["can"] = LazyFunction(_can)
    table["convert"] = LazyFunction(_convert)
    return table
