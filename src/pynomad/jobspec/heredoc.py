"""Template assembly and heredoc parsing.

``assemble`` turns a flat list of literal strings and directive markers into
template parts (str, expressions, :class:`nodes.TemplateIf`,
:class:`nodes.TemplateFor`), applying ``~`` strip markers. ``parse_heredoc``
handles ``<<EOT`` / ``<<-EOT`` bodies (flush indentation like HCL), finding
``${...}`` and ``%{...}`` sequences and parsing their expressions in place.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from . import nodes as n
from .diagnostics import Diags

if TYPE_CHECKING:
    from .syntax import Converter

Flat = list[Any]  # str | (kind, strip_l, strip_r, payload, range)


def assemble(flat: Flat, rng: n.Range, diags: Diags) -> list[Any]:
    """Build nested template parts from literals and directive markers."""
    items = _apply_strips(flat)
    parts, pos, end = _parse_seq(items, 0, rng, diags, ())
    if end is not None:
        diags.error("Unexpected template directive", f"The {end[0]} directive has no opening.", end[4])
    return _merge_literals(parts)


def _apply_strips(flat: Flat) -> Flat:
    items = list(flat)
    for i, item in enumerate(items):
        if isinstance(item, str):
            continue
        if item[1] and i > 0 and isinstance(items[i - 1], str):
            items[i - 1] = items[i - 1].rstrip()
        if item[2] and i + 1 < len(items) and isinstance(items[i + 1], str):
            items[i + 1] = items[i + 1].lstrip()
    return items


def _parse_seq(items: Flat, pos: int, rng: n.Range, diags: Diags,
               stops: tuple[str, ...]) -> tuple[list[Any], int, Any]:
    """Parse until one of ``stops``; return (parts, next position, stop item)."""
    parts: list[Any] = []
    while pos < len(items):
        item = items[pos]
        pos += 1
        if isinstance(item, str):
            parts.append(item)
            continue
        kind = item[0]
        if kind == "interp":
            parts.append(item[3])
        elif kind == "if":
            then, pos, stop = _parse_seq(items, pos, rng, diags, ("else", "endif"))
            other: list[Any] = []
            if stop is not None and stop[0] == "else":
                other, pos, stop = _parse_seq(items, pos, rng, diags, ("endif",))
            if stop is None:
                diags.error("Unterminated template directive", "Missing %{ endif } for this if.", item[4])
            parts.append(n.TemplateIf(item[3], _merge_literals(then), _merge_literals(other), item[4]))
        elif kind == "for":
            body, pos, stop = _parse_seq(items, pos, rng, diags, ("endfor",))
            if stop is None:
                diags.error("Unterminated template directive", "Missing %{ endfor } for this for.", item[4])
            idents, coll = item[3]
            key_var, value_var = (idents[0], idents[1]) if len(idents) == 2 else (None, idents[0])
            parts.append(n.TemplateFor(key_var, value_var, coll, _merge_literals(body), item[4]))
        elif kind in stops:
            return parts, pos, item
        else:
            diags.error("Unexpected template directive", f"The {kind} directive is not expected here.",
                        item[4])
    return parts, pos, None


def _merge_literals(parts: list[Any]) -> list[Any]:
    out: list[Any] = []
    for p in parts:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        elif not (isinstance(p, str) and p == ""):
            out.append(p)
    return out


# ------------------------------------------------------------------ heredocs


def parse_heredoc(token: str, rng: n.Range, conv: "Converter") -> n.TemplateExpr:
    """Parse a python-hcl2 heredoc token into a template expression."""
    first_nl = token.index("\n")
    header = token[:first_nl].rstrip("\r")
    flush = header.startswith("<<-")
    body_end = token.rstrip("\n").rstrip("\r").rfind("\n")
    start = first_nl + 1
    content = token[start: body_end + 1] if body_end >= start else ""
    text, origin = _flush(content, start) if flush else (content, list(range(start, start + len(content))))
    origin.append(origin[-1] + 1 if origin else start)
    flat = _scan(text, origin, token, rng, conv)
    return n.TemplateExpr(assemble(flat, rng, conv.diags), rng)


def scan_fragment(text: str, at: n.Range, conv: "Converter") -> Flat:
    """Scan a piece of a quoted string that starts at ``at`` for sequences."""
    return _scan(text, list(range(len(text) + 1)), text, at, conv)


def _flush(content: str, base: int) -> tuple[str, list[int]]:
    """Remove the common leading whitespace like HCL's ``<<-`` heredocs."""
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
        keep_nl = True
    else:
        keep_nl = False
    indents = []
    for line in lines:
        stripped = line.lstrip()
        if stripped == "":
            continue  # blank lines don't count and are left alone
        indents.append(len(line) - len(stripped))
    min_spaces = min(indents) if indents else 0
    out: list[str] = []
    origin: list[int] = []
    pos = base
    for idx, line in enumerate(lines):
        cut = 0 if line.strip() == "" else min_spaces
        out.append(line[cut:])
        origin.extend(range(pos + cut, pos + len(line)))
        pos += len(line)
        if idx < len(lines) - 1 or keep_nl:
            out.append("\n")
            origin.append(pos)
            pos += 1
    return "".join(out), origin


def _position(token: str, k: int, rng: n.Range) -> tuple[int, int, int]:
    """Line, column and file offset of character k of the heredoc token."""
    before = token[:k]
    nls = before.count("\n")
    if nls:
        col = k - before.rfind("\n")
    else:
        col = rng.col + k
    return rng.line + nls, col, rng.start + k


_DIRECTIVE = re.compile(r"\s*(if|else|endif|for|endfor)\b")
_FOR_HEAD = re.compile(r"\s*for\s+([A-Za-z_][\w-]*)\s*(?:,\s*([A-Za-z_][\w-]*)\s*)?in\s")


def _scan(text: str, origin: list[int], token: str, rng: n.Range, conv: "Converter") -> Flat:
    flat: Flat = []
    buf: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i) or text.startswith("%%{", i):
            buf.append(text[i + 1: i + 3])
            i += 3
            continue
        if not (text.startswith("${", i) or text.startswith("%{", i)):
            buf.append(text[i])
            i += 1
            continue
        close = match_brace(text, i + 2)
        here = _position(token, origin[i], rng)
        r = n.Range(rng.filename, here[0], here[1], here[0], here[1], here[2], here[2])
        if close < 0:
            conv.diags.error("Unterminated template string", "No closing marker was found for this sequence.", r)
            break
        flat.append("".join(buf))
        buf = []
        flat.append(_directive(text, i, close, origin, token, rng, r, conv))
        i = close + 1
    flat.append("".join(buf))
    return flat


def _directive(text: str, i: int, close: int, origin: list[int], token: str, rng: n.Range,
               r: n.Range, conv: "Converter") -> tuple:
    start, end = i + 2, close
    strip_l = text[start: start + 1] == "~"
    strip_r = end > start and text[end - 1] == "~"
    start += strip_l
    end -= strip_r

    def expr_at(s: int, e: int) -> n.Expr:
        from .syntax import parse_expression

        line, col, off = _position(token, origin[s], rng)
        return parse_expression(text[s:e], rng.filename, line, col, off, conv.src)

    if text[i] == "$":
        return ("interp", strip_l, strip_r, expr_at(start, end), r)
    inner = text[start:end]
    m = _DIRECTIVE.match(inner)
    if not m:
        conv.diags.error("Invalid template directive", "Expected if, else, endif, for or endfor.", r)
        return ("interp", False, False, n.Literal("", r), r)
    kind = m.group(1)
    if kind == "if":
        return ("if", strip_l, strip_r, expr_at(start + m.end(), end), r)
    if kind == "for":
        fm = _FOR_HEAD.match(inner)
        if not fm:
            conv.diags.error("Invalid for directive", "Expected: for NAME in EXPR.", r)
            return ("interp", False, False, n.Literal("", r), r)
        idents = [g for g in fm.groups() if g]
        return ("for", strip_l, strip_r, (idents, expr_at(start + fm.end(), end)), r)
    return (kind, strip_l, strip_r, None, r)


def match_brace(text: str, i: int) -> int:
    """Index of the ``}`` closing a sequence whose body starts at i, or -1."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i + 1)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


def _skip_string(text: str, i: int) -> int:
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"' or c == "\n":
            return i + 1
        if text.startswith("${", i) or text.startswith("%{", i):
            j = match_brace(text, i + 2)
            if j < 0:
                return len(text)
            i = j + 1
            continue
        i += 1
    return i
