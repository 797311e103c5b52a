"""The jobspec2 ``yamlencode`` and ``yamldecode`` functions.

Nomad takes both from go-cty-yaml (v1.0.3), whose output and type mapping
this module follows:

* ``yamlencode`` writes one block-style document the way go-cty-yaml's
  libyaml-derived emitter does: strings double-quoted (a literal ``|`` block
  when they hold a newline and a block is allowed), numbers, bools and null
  plain, empty collections as ``[]``/``{}``, map keys sorted, lines of quoted
  text folded past column 80, a lone plain scalar closed by ``...``.
* ``yamldecode`` reads exactly one document from PyYAML's event stream and
  resolves scalars with go-cty-yaml's rules (YAML 1.1 booleans such as
  ``yes``/``off``, integers in decimal/``0o``/``0x``, timestamps turned into
  RFC 3339 strings, ``!!binary`` kept as base64, ``<<`` merge keys); maps
  become objects and sequences tuples. Aliases are allowed, cyclic ones and
  unknown tags are errors.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from typing import Any

import yaml

from ..helper.goformat import quote as go_quote
from .evaluate import FuncError
from .functions import register
from .values import ConversionError, format_number, is_number, parse_number

# ------------------------------------------------------------------ encoding

_BEST_INDENT = 2
_BEST_WIDTH = 80
_SIMPLE_KEY_MAX = 128  # bytes, as libyaml counts

_PLAIN, _DOUBLE, _LITERAL = "plain", "double", "literal"
_BREAKS = "\r\n\x85\u2028\u2029"
_ESCAPES = {0x00: "0", 0x07: "a", 0x08: "b", 0x09: "t", 0x0A: "n", 0x0B: "v", 0x0C: "f",
            0x0D: "r", 0x1B: "e", 0x22: '"', 0x5C: "\\", 0x85: "N", 0xA0: "_",
            0x2028: "L", 0x2029: "P"}


def _printable(ch: str) -> bool:
    """libyaml's is_printable (4-byte UTF-8 characters are not)."""
    c = ord(ch)
    return (c == 0x0A or 0x20 <= c <= 0x7E or 0xA0 <= c <= 0xD7FF
            or (0xE000 <= c <= 0xFFFD and c != 0xFEFF))


def _block_allowed(text: str) -> bool:
    """Whether libyaml's analysis permits a block (literal) scalar for text."""
    if not text or text[-1] == " ":
        return False
    for i, ch in enumerate(text):
        if not _printable(ch):
            return False
        if ch == " " and i + 1 < len(text) and text[i + 1] in _BREAKS:
            return False
    return True


class _Emitter:
    """A port of the parts of libyaml's emitter go-cty-yaml exercises."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.indent = -1
        self.indents: list[int] = []
        self.whitespace = True
        self.indention = True
        self.open_ended = False
        self.root = self.mapping_ctx = self.simple_key_ctx = False

    # -- primitives
    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0

    def write_break(self, ch: str) -> None:
        if ch == "\n":
            self.put_break()
        else:
            self.out.append(ch)
            self.column = 0

    def write_indent(self) -> None:
        indent = max(self.indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.put_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = self.indention = True

    def indicator(self, text: str, need_ws: bool, is_ws: bool, is_indention: bool) -> None:
        if need_ws and not self.whitespace:
            self.put(" ")
        self.put(text)
        self.whitespace = is_ws
        self.indention = self.indention and is_indention
        self.open_ended = False

    def increase_indent(self, flow: bool, indentless: bool) -> None:
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = _BEST_INDENT if flow else 0
        elif not indentless:
            self.indent += _BEST_INDENT

    def pop_indent(self) -> None:
        self.indent = self.indents.pop()

    # -- document
    def document(self, v: Any) -> str:
        self.node(v, root=True, mapping=False, simple_key=False)
        self.write_indent()
        if self.open_ended:
            self.indicator("...", True, False, False)
            self.write_indent()
        return "".join(self.out)

    def node(self, v: Any, root: bool, mapping: bool, simple_key: bool) -> None:
        self.root, self.mapping_ctx, self.simple_key_ctx = root, mapping, simple_key
        if isinstance(v, list):
            self.sequence(v)
        elif isinstance(v, dict):
            self.mapping(v)
        else:
            self.scalar(v)

    def empty_flow(self, opening: str, closing: str) -> None:
        self.indicator(opening, True, True, False)
        self.indicator(closing, False, False, False)

    def sequence(self, items: list) -> None:
        if not items:
            self.empty_flow("[", "]")
            return
        self.increase_indent(False, self.mapping_ctx and not self.indention)
        for item in items:
            self.write_indent()
            self.indicator("-", True, False, True)
            self.node(item, root=False, mapping=False, simple_key=False)
        self.pop_indent()

    def mapping(self, obj: dict) -> None:
        if not obj:
            self.empty_flow("{", "}")
            return
        self.increase_indent(False, False)
        for key in sorted(obj):
            if not isinstance(key, str):
                raise FuncError(f"cannot encode map key {key!r} as YAML")
            self.write_indent()
            simple = (not any(ch in _BREAKS for ch in key)
                      and len(key.encode("utf-8", "surrogatepass")) <= _SIMPLE_KEY_MAX)
            if simple:
                self.node(key, root=False, mapping=True, simple_key=True)
                self.indicator(":", False, False, False)
            else:
                self.indicator("?", True, False, True)
                self.node(key, root=False, mapping=True, simple_key=False)
                self.write_indent()
                self.indicator(":", True, False, True)
            self.node(obj[key], root=False, mapping=True, simple_key=False)
        self.pop_indent()

    def scalar(self, v: Any) -> None:
        if v is None:
            text, style = "null", _PLAIN
        elif isinstance(v, bool):
            text, style = ("true" if v else "false"), _PLAIN
        elif is_number(v):
            text, style = format_number(v), _PLAIN
        elif isinstance(v, str):
            text = v
            style = _LITERAL if "\n" in v else _DOUBLE
            if style == _LITERAL and (self.simple_key_ctx or not _block_allowed(v)):
                style = _DOUBLE
        else:
            raise FuncError(f"can't marshal {type(v).__name__} as YAML")
        self.increase_indent(True, False)
        if style == _PLAIN:
            self.plain(text)
        elif style == _DOUBLE:
            self.double_quoted(text, allow_breaks=not self.simple_key_ctx)
        else:
            self.literal(text)
        self.pop_indent()

    # -- scalar writers
    def plain(self, text: str) -> None:
        # Only numbers, bools and null are written plain: no spaces or breaks.
        if not self.whitespace:
            self.put(" ")
        self.put(text)
        self.whitespace = self.indention = False
        if self.root:
            self.open_ended = True

    def double_quoted(self, text: str, allow_breaks: bool) -> None:
        self.indicator('"', True, False, False)
        starts_with_bom = text.startswith("\ufeff")  # libyaml then escapes every character
        spaces = False
        last = len(text) - 1
        i = 0
        while i <= last:
            ch = text[i]
            if not _printable(ch) or starts_with_bom or ch in _BREAKS or ch in '"\\':
                code = ord(ch)
                if code in _ESCAPES:
                    self.put("\\" + _ESCAPES[code])
                elif code <= 0xFF:
                    self.put(f"\\x{code:02X}")
                elif code <= 0xFFFF:
                    self.put(f"\\u{code:04X}")
                else:
                    self.put(f"\\U{code:08X}")
                spaces = False
            elif ch == " ":
                if allow_breaks and not spaces and self.column > _BEST_WIDTH and 0 < i < last:
                    self.write_indent()
                    if text[i + 1] == " ":
                        self.put("\\")
                else:
                    self.put(ch)
                spaces = True
            else:
                self.put(ch)
                spaces = False
            i += 1
        self.indicator('"', False, False, False)
        self.whitespace = self.indention = False

    def literal(self, text: str) -> None:
        self.indicator("|", True, False, False)
        if text[0] == " " or text[0] in _BREAKS:
            self.indicator(str(_BEST_INDENT), False, False, False)
        chomp = ""
        if text[-1] not in _BREAKS:
            chomp = "-"
        elif len(text) == 1 or text[-2] in _BREAKS:
            chomp = "+"
        if chomp:
            # libyaml flags "+" as open-ended, then writing the hint clears it.
            self.indicator(chomp, False, False, False)
        self.put_break()
        self.indention = self.whitespace = True
        breaks = True
        for ch in text:
            if ch in _BREAKS:
                self.write_break(ch)
                self.indention = breaks = True
            else:
                if breaks:
                    self.write_indent()
                self.put(ch)
                self.indention = breaks = False


def yaml_encode(v: Any) -> str:
    """Encode a value as go-cty-yaml does (block style, sorted keys)."""
    return _Emitter().document(v)


@register("yamlencode", "any")
def _yamlencode(v):
    return yaml_encode(v)


# ------------------------------------------------------------------ decoding

_TAG = "tag:yaml.org,2002:"
_STR, _BOOL, _INT, _FLOAT = _TAG + "str", _TAG + "bool", _TAG + "int", _TAG + "float"
_NULL, _TIMESTAMP, _BINARY = _TAG + "null", _TAG + "timestamp", _TAG + "binary"
_MAP, _SEQ = _TAG + "map", _TAG + "seq"
_RESOLVABLE = {"", _STR, _BOOL, _INT, _FLOAT, _NULL, _TIMESTAMP, _BINARY}

_HINTS = {**{c: "S" for c in "+-"}, **{c: "D" for c in "0123456789"},
          **{c: "M" for c in "yYnNtTfFoO~"}, ".": "."}
_UNPARSED = object()
_RESOLVE_MAP: dict[str, Any] = {}
for _words, _val in (("y Y yes Yes YES true True TRUE on On ON", True),
                     ("n N no No NO false False FALSE off Off OFF", False),
                     ("~ null Null NULL", None),
                     (".inf .Inf .INF +.inf +.Inf +.INF", float("inf")),
                     ("-.inf -.Inf -.INF", float("-inf"))):
    for _w in _words.split():
        _RESOLVE_MAP[_w] = _val
_RESOLVE_MAP[""] = None

_INT_RE = re.compile(r"[-+]?(|0o[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_TS_RE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"(?:(?:[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2}))"
    r"|(?: ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?))?")


class _MergeKey:
    """The resolved ``<<`` key."""


_MERGE = _MergeKey()


class _YAMLError(Exception):
    pass


def _event_error(event: Any, message: str) -> _YAMLError:
    """go-cty-yaml's position prefix (0-based line, omitted on the first line)."""
    mark = getattr(event, "start_mark", None)
    if mark is None or mark.line == 0:
        return _YAMLError(message)
    return _YAMLError(f"on line {mark.line}, column {mark.column + 1}: {message}")


def _parse_timestamp(src: str) -> str | None:
    """A YAML timestamp as an RFC 3339 string (Go's time.RFC3339 layout)."""
    m = _TS_RE.fullmatch(src)
    if not m:
        return None
    g = m.groups()
    hour, minute, sec = (g[3], g[4], g[5]) if g[3] is not None else (g[8], g[9], g[10])
    zone = g[7]
    try:
        tzinfo = dt.timezone.utc
        if zone and zone != "Z":
            hh, mm = int(zone[1:3]), int(zone[4:6])
            if hh > 24 or mm > 60:
                return None
            sign = -1 if zone[0] == "-" else 1
            tzinfo = dt.timezone(sign * dt.timedelta(hours=hh, minutes=mm))
        t = dt.datetime(int(g[0]), int(g[1]), int(g[2]), int(hour or 0), int(minute or 0),
                        int(sec or 0), tzinfo=tzinfo)
    except ValueError:
        return None
    offset = t.utcoffset() or dt.timedelta(0)
    if not offset:
        suffix = "Z"
    else:
        mins = int(offset.total_seconds() // 60)
        sign = "+" if mins >= 0 else "-"
        suffix = f"{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}{suffix}"


_GO_DIGITS = {16: re.compile("[0-9a-fA-F]+"), 10: re.compile("[0-9]+"),
              8: re.compile("[0-7]+"), 2: re.compile("[01]+")}


def _parse_go_int(text: str) -> int | None:
    """strconv.ParseInt, then ParseUint, with base 0 (0x, 0o, 0b and 0 prefixes)."""
    signed = text[:1] in ("+", "-")
    body = text[1:] if signed else text
    base, digits = 10, body
    if body[:2].lower() in ("0x", "0o", "0b"):
        base, digits = {"x": 16, "o": 8, "b": 2}[body[1].lower()], body[2:]
    elif len(body) > 1 and body[0] == "0":
        base, digits = 8, body[1:]
    if not _GO_DIGITS[base].fullmatch(digits):
        return None
    num = int(digits, base) * (-1 if text[:1] == "-" else 1)
    if -(2 ** 63) <= num < 2 ** 63 or (not signed and 0 <= num < 2 ** 64):
        return num
    return None


def _parse_number(text: str) -> Any:
    """cty.ParseNumberVal (decimal), then Go's base-0 integer parsing."""
    try:
        return parse_number(text)
    except ConversionError:
        pass
    num = _parse_go_int(text)
    if num is None:
        return _UNPARSED
    return num if num < 2 ** 63 else float(num)


def _resolve_scalar(tag: str, src: str, quoted: bool) -> Any:
    """go-cty-yaml's resolveScalar: the value an (untagged or tagged) scalar means."""
    if tag not in _RESOLVABLE:
        raise _YAMLError(f"unsupported tag {go_quote(tag)}")
    hint = _HINTS.get(src[0]) if src else "N"
    if hint and tag not in (_STR, _BINARY):
        if quoted:
            return src
        if src in _RESOLVE_MAP:
            return _RESOLVE_MAP[src]
        if tag == "" and src in (".nan", ".NaN", ".NAN"):
            raise _YAMLError("floating point NaN is not supported")
        if hint == "." and _FLOAT_RE.fullmatch(src):
            return _parse_number(src)
        if hint in "DS":
            if tag in ("", _TIMESTAMP):
                ts = _parse_timestamp(src)
                if ts is not None:
                    return ts
            if _INT_RE.fullmatch(src):
                tag = _INT
            elif _FLOAT_RE.fullmatch(src):
                tag = _FLOAT
    if tag == "" and src == "<<":
        return _MERGE
    if tag in (_STR, _BINARY):
        if tag == _BINARY:
            try:
                base64.b64decode(src.encode(), validate=True)
            except (binascii.Error, ValueError, UnicodeEncodeError):
                raise _YAMLError(f"cannot parse {go_quote(src)} as {tag}: not valid base64") from None
        return src
    if tag == _BOOL:
        if isinstance(_RESOLVE_MAP.get(src, 0), bool):
            return _RESOLVE_MAP[src]
        raise _YAMLError(f"cannot parse {go_quote(src)} as {tag}")
    if tag in (_FLOAT, _INT):
        num = _parse_number(src.replace("_", ""))
        if num is _UNPARSED:
            raise _YAMLError(f"cannot parse {go_quote(src)} as {tag}")
        return num
    if tag == _TIMESTAMP:
        ts = _parse_timestamp(src)
        if ts is None:
            raise _YAMLError(f"cannot parse {go_quote(src)} as {tag}")
        return ts
    if tag == _NULL:
        return None
    return src


def _to_string(v: Any) -> str | None:
    """cty's conversion of a resolved scalar to string (null stays null)."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return format_number(v)


def _type_name(v: Any) -> str:
    if v is None:
        return "dynamic"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "tuple"
    return "number"


class _Decoder:
    def __init__(self, events: Any) -> None:
        self.events = events
        self.pending: dict[str, int] = {}
        self.anchors: dict[str, Any] = {}

    def next(self) -> Any:
        return next(self.events)

    def begin(self, anchor: str | None) -> None:
        if anchor:
            self.pending[anchor] = self.pending.get(anchor, 0) + 1

    def complete(self, anchor: str | None, v: Any) -> None:
        if anchor:
            self.pending[anchor] -= 1
            if not self.pending[anchor]:
                del self.pending[anchor]
            self.anchors[anchor] = v

    def document(self) -> Any:
        ev = self.next()
        if not isinstance(ev, yaml.StreamStartEvent):
            raise _event_error(ev, "missing stream start token")
        ev = self.next()
        if not isinstance(ev, yaml.DocumentStartEvent):
            raise _event_error(ev, "missing start of document")
        value = self.value(self.next())
        ev = self.next()
        if not isinstance(ev, yaml.DocumentEndEvent):
            raise _event_error(ev, f"unexpected extra content ({type(ev).__name__}) after value")
        ev = self.next()
        if not isinstance(ev, yaml.StreamEndEvent):
            raise _event_error(ev, "unexpected extra content after value")
        return value

    def value(self, ev: Any) -> Any:
        if isinstance(ev, yaml.ScalarEvent):
            return self.scalar(ev)
        if isinstance(ev, yaml.AliasEvent):
            if ev.anchor in self.pending:
                raise _event_error(ev, f"cannot refer to anchor {go_quote(ev.anchor)} from inside its own definition")
            if ev.anchor not in self.anchors:
                raise _event_error(ev, f"reference to undefined anchor {go_quote(ev.anchor)}")
            return self.anchors[ev.anchor]
        if isinstance(ev, yaml.MappingStartEvent):
            return self.mapping(ev)
        if isinstance(ev, yaml.SequenceStartEvent):
            return self.sequence(ev)
        if isinstance(ev, yaml.DocumentStartEvent):
            raise _event_error(ev, "only a single document is allowed")
        if isinstance(ev, yaml.StreamEndEvent):
            raise _event_error(ev, "expecting value but found end of stream")
        raise _event_error(ev, f"unexpected parser event {type(ev).__name__}")

    def scalar(self, ev: Any) -> Any:
        self.begin(ev.anchor)
        tag = ev.tag or ""
        try:
            v = _resolve_scalar(tag, ev.value, ev.style in ("'", '"'))
        except _YAMLError as err:
            raise _event_error(ev, str(err)) from None
        if v is _MERGE:
            v = "<<"
        if not tag and not ev.implicit[0]:
            v = _to_string(v)  # an untagged quoted or block scalar is always a string
        self.complete(ev.anchor, v)
        return v

    def mapping(self, ev: Any) -> dict:
        tag = ev.tag or ""
        if tag not in ("", _MAP):
            raise _event_error(ev, f"can't interpret mapping as {tag}")
        self.begin(ev.anchor)
        out: dict[str, Any] = {}
        while True:
            key_ev = self.next()
            if isinstance(key_ev, yaml.MappingEndEvent):
                self.complete(ev.anchor, out)
                return out
            if not isinstance(key_ev, yaml.ScalarEvent):
                raise _event_error(key_ev, "only strings are allowed as mapping keys")
            key = _resolve_scalar(key_ev.tag or "", key_ev.value, key_ev.style in ("'", '"'))
            if key is _MERGE:
                merged = self.value(self.next())
                if not isinstance(merged, dict):
                    raise _event_error(key_ev, f"cannot merge {_type_name(merged)} into mapping")
                out.update(merged)
                continue
            key = _to_string(key)
            if key is None:
                raise _event_error(key_ev, "mapping key cannot be null")
            out[key] = self.value(self.next())

    def sequence(self, ev: Any) -> list:
        tag = ev.tag or ""
        if tag not in ("", _SEQ):
            raise _event_error(ev, f"can't interpret sequence as {tag}")
        self.begin(ev.anchor)
        out: list[Any] = []
        while True:
            item = self.next()
            if isinstance(item, yaml.SequenceEndEvent):
                self.complete(ev.anchor, out)
                return out
            out.append(self.value(item))


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parser_error(err: yaml.MarkedYAMLError) -> str:
    problem = err.problem or "invalid YAML syntax"
    mark, context = err.problem_mark, err.context_mark
    if mark is not None and mark.line != 0:
        if isinstance(err, yaml.scanner.ScannerError):
            return f"on line {mark.line + 1}, column 1: {problem}"
        return f"on line {mark.line}, column {mark.column + 1}: {problem}"
    if context is not None and context.line != 0:
        return f"on line {context.line}, column {context.column + 1}: {problem}"
    return problem


def yaml_decode(src: str) -> Any:
    """Decode one YAML document into jobspec values (see module docstring)."""
    try:
        return _Decoder(iter(yaml.parse(src or "\n", Loader=_Loader))).document()
    except _YAMLError as err:
        raise FuncError(str(err)) from None
    except yaml.MarkedYAMLError as err:
        raise FuncError(_parser_error(err)) from None
    except yaml.YAMLError as err:
        raise FuncError(str(err)) from None


@register("yamldecode", "string")
def _yamldecode(src):
    return yaml_decode(src)
