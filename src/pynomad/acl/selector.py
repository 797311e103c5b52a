"""Binding-rule selectors: the boolean expression language of HashiCorp's go-bexpr, as Nomad
evaluates it over a login's claims (`{"value": {...}, "list": {...}}`).

    engineering in list.roles
    value.owner == "alice" and not (value.team is empty)
    "/value/email" matches "@example\\.com$"

Grammar (go-bexpr's): `or` binds looser than `and`, `not` prefixes; a match is
`<selector> ==|!=|contains|not contains|matches|not matches <value>`,
`<selector> is [not] empty` or `<value> [not] in <selector>`. A selector is a dotted path
(`value.owner`, `list.groups.0`, `value["dotted.key"]`), a quoted JSON pointer
(`"/value/owner"`) or an inline list (`["a", "b"]`); a value is a quoted string, a number
or a bare word. A path that does not resolve makes the whole selector fail to match.

Pure logic: `parse_selector` raises `SelectorError` for bad syntax; `selector_matches`
never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


class SelectorError(ValueError):
    """A selector that does not parse; the message is one line."""


class _EvalError(Exception):
    """A selector that cannot be evaluated against this data (it then does not match)."""


@dataclass(frozen=True)
class Selector:
    path: tuple[str, ...] = ()
    inline: tuple[str, ...] | None = None   # ["a", "b"]: a literal list

    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Match:
    selector: Selector
    op: str                 # == != in notin empty notempty matches notmatches
    value: str | None = None


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class BinOp:
    op: str                 # and | or
    left: Any
    right: Any


_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<op>==|!=|\(|\)|\[|\]|,)
  | (?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)
  | (?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?![A-Za-z_]))
  | (?P<word>[a-zA-Z][a-zA-Z0-9_/]*)
  | (?P<dot>\.)
  | (?P<idx>[0-9]+)
""", re.VERBOSE)


def _tokenize(text: str) -> list[tuple[str, str, bool]]:
    """(kind, text, preceded-by-space) triples."""
    out, pos, space = [], 0, False
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            if ch in "\"`":
                raise SelectorError("Unterminated string literal")
            raise SelectorError(f"unexpected character {ch!r} at position {pos}")
        kind = m.lastgroup or ""
        if kind == "ws":
            space = True
        else:
            out.append((kind, m.group(), space))
            space = False
        pos = m.end()
    return out


def _unquote(lit: str) -> str:
    if lit.startswith("`"):
        return lit[1:-1]
    body = lit[1:-1]
    try:
        return body.encode("latin-1", "backslashreplace").decode("unicode_escape") \
            if "\\" in body else body
    except UnicodeDecodeError:
        raise SelectorError(f"invalid string literal {lit}") from None


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.i = 0

    # -- token helpers ----------------------------------------------------------------
    def peek(self, k: int = 0) -> tuple[str, str, bool] | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def word(self, k: int = 0) -> str:
        t = self.peek(k)
        return t[1] if t is not None and t[0] == "word" else ""

    def take(self) -> tuple[str, str, bool]:
        tok = self.peek()
        if tok is None:
            raise SelectorError("unexpected end of selector")
        self.i += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.peek()
        if tok is None or tok[1] != text:
            raise SelectorError(f"expected {text!r}" + (f" near {tok[1]!r}" if tok else ""))
        self.i += 1

    # -- grammar ----------------------------------------------------------------------
    def parse(self):
        if not self.toks:
            raise SelectorError("empty selector")
        expr = self.or_expr()
        if self.peek() is not None:
            raise SelectorError(f"unexpected {self.peek()[1]!r}")
        return expr

    def or_expr(self):
        left = self.and_expr()
        if self.word() == "or":
            self.take()
            return BinOp("or", left, self.or_expr())
        return left

    def and_expr(self):
        left = self.not_expr()
        if self.word() == "and":
            self.take()
            return BinOp("and", left, self.and_expr())
        return left

    def not_expr(self):
        if self.word() == "not" and self.peek(1) is not None and self.peek(1)[2]:
            self.take()
            inner = self.not_expr()
            return inner.operand if isinstance(inner, Not) else Not(inner)
        return self.group()

    def group(self):
        tok = self.peek()
        if tok is not None and tok[1] == "(":
            self.take()
            expr = self.or_expr()
            if self.peek() is None or self.peek()[1] != ")":
                raise SelectorError("Unmatched parentheses")
            self.take()
            return expr
        return self.match()

    def match(self):
        start = self.i
        first = self.operand()
        op = self.operator()
        if op in ("in", "notin"):
            if first[0] == "inline":
                raise SelectorError("an inline list cannot be matched against")
            selector = self.operand()
            if selector[0] not in ("selector", "inline"):
                raise SelectorError("Invalid selector")
            return Match(selector[1], op, first[2])
        if first[0] != "selector":
            self.i = start
            raise SelectorError(f"invalid selector near {self.peek()[1]!r}")
        if op in ("empty", "notempty"):
            return Match(first[1], op)
        value = self.operand()
        if value[0] == "inline":
            raise SelectorError("invalid value")
        if op in ("contains", "notcontains"):
            return Match(first[1], "in" if op == "contains" else "notin", value[2])
        return Match(first[1], op, value[2])

    def operator(self) -> str:
        tok = self.peek()
        if tok is None:
            raise SelectorError("missing operator")
        if tok[1] in ("==", "!="):
            self.take()
            return tok[1]
        words = [self.word(k) for k in range(3)]
        table = [(("is", "not", "empty"), "notempty"), (("is", "empty"), "empty"),
                 (("not", "in"), "notin"), (("in",), "in"),
                 (("not", "contains"), "notcontains"), (("contains",), "contains"),
                 (("not", "matches"), "notmatches"), (("matches",), "matches")]
        for seq, name in table:
            if tuple(words[:len(seq)]) == seq:
                self.i += len(seq)
                return name
        raise SelectorError(f"invalid operator {tok[1]!r}")

    def operand(self) -> tuple[str, Selector | None, str]:
        """("selector", Selector, text) | ("inline", Selector, "") | ("literal", None, text)."""
        kind, text, _ = self.take()
        if kind == "num":
            return ("literal", None, text)
        if kind == "str":
            value = _unquote(text)
            if text.startswith('"') and value.startswith("/"):
                parts = tuple(p.replace("~1", "/").replace("~0", "~")
                              for p in value[1:].split("/"))
                return ("selector", Selector(parts), value)
            return ("literal", None, value)
        if kind == "word":
            sel = self.path_rest(text)
            return ("selector", sel, sel.text())
        if text == "[":
            items = [self.string()]
            while self.peek() is not None and self.peek()[1] == ",":
                self.take()
                items.append(self.string())
            self.expect("]")
            return ("inline", Selector(inline=tuple(items)), "")
        raise SelectorError(f"unexpected {text!r}")

    def string(self) -> str:
        kind, text, _ = self.take()
        if kind != "str":
            raise SelectorError("inline lists hold quoted strings")
        return _unquote(text)

    def path_rest(self, first: str) -> Selector:
        parts = [first]
        while True:
            tok = self.peek()
            if tok is None or tok[2]:
                break
            if tok[0] == "dot":
                self.take()
                kind, text, space = self.take()
                if space or kind not in ("word", "idx", "num"):
                    raise SelectorError(f"invalid selector segment near {text!r}")
                parts.append(text)
            elif tok[1] == "[":
                self.take()
                parts.append(self.string())
                self.expect("]")
            else:
                break
        return Selector(tuple(parts))


def parse_selector(text: str):
    """Parse a selector; SelectorError with a one-line reason when it is invalid."""
    if len(text) > 4096:
        raise SelectorError("selector longer than 4096 characters")
    return _Parser(text).parse()


# -- evaluation -------------------------------------------------------------------------
def _resolve(sel: Selector, data: Any) -> Any:
    if sel.inline is not None:
        return list(sel.inline)
    cur = data
    for part in sel.path:
        if isinstance(cur, dict):
            if part not in cur:
                raise _EvalError(f"{sel.text()} not found")
            cur = cur[part]
        elif isinstance(cur, (list, tuple)) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise _EvalError(f"{sel.text()} not found")
    return cur


def _equal(value: Any, raw: str) -> bool:
    if isinstance(value, bool):
        parsed = {"1": True, "t": True, "T": True, "true": True, "TRUE": True, "True": True,
                  "0": False, "f": False, "F": False, "false": False, "FALSE": False,
                  "False": False}.get(raw)
        if parsed is None:
            raise _EvalError(f"{raw!r} is not a boolean")
        return value is parsed
    if isinstance(value, (int, float)):
        try:
            return float(raw) == value
        except ValueError:
            raise _EvalError(f"{raw!r} is not a number") from None
    if isinstance(value, str):
        return value == raw
    raise _EvalError("cannot compare a collection with ==")


def _evaluate(node, data) -> bool:
    if isinstance(node, BinOp):
        if node.op == "and":
            return _evaluate(node.left, data) and _evaluate(node.right, data)
        return _evaluate(node.left, data) or _evaluate(node.right, data)
    if isinstance(node, Not):
        return not _evaluate(node.operand, data)
    value = _resolve(node.selector, data)
    op = node.op
    if op in ("==", "!="):
        return _equal(value, node.value) == (op == "==")
    if op in ("in", "notin"):
        if isinstance(value, dict):
            found = node.value in value
        elif isinstance(value, (list, tuple)):
            found = any(isinstance(v, (str, bool, int, float)) and _safe_equal(v, node.value)
                        for v in value)
        elif isinstance(value, str):
            found = node.value in value
        else:
            raise _EvalError("cannot use in/contains on this value")
        return found == (op == "in")
    if op in ("empty", "notempty"):
        if not isinstance(value, (str, list, tuple, dict)):
            raise _EvalError("is empty needs a string or a collection")
        return (len(value) == 0) == (op == "empty")
    if not isinstance(value, str):
        raise _EvalError("matches needs a string")
    try:
        found = re.search(node.value, value) is not None
    except re.error as err:
        raise _EvalError(f"bad regular expression: {err}") from None
    return found == (op == "matches")


def _safe_equal(value: Any, raw: str) -> bool:
    try:
        return _equal(value, raw)
    except _EvalError:
        return False


def selector_matches(selector: str, data: Any) -> bool:
    """Nomad's doesSelectorMatch: "" matches everything; an invalid selector, or one that
    cannot be evaluated against `data`, matches nothing."""
    if not selector:
        return True
    try:
        return _evaluate(parse_selector(selector), data)
    except (SelectorError, _EvalError, RecursionError):
        return False
