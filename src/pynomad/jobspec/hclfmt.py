"""Canonical HCL formatting, following the rules of hclwrite's formatter (``nomad fmt``).

1. tokens are re-spaced: one space between tokens, none inside ``[]``/``()``, around
   ``.``, before ``,``, between a function name and ``(``, after a unary ``-``/``!``;
2. each line is indented two spaces per open bracket level (a line opening several
   brackets counts once, as hclwrite does);
3. in a run of consecutive lines that assign (``key = value``), the ``=`` signs are
   aligned, and so are trailing comments in a run of lines that have one.

Quoted strings (with their ``${...}`` parts) and heredocs are kept byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PUNCT = ("...", "==", "!=", "<=", ">=", "&&", "||", "=>", "{", "}", "[", "]", "(", ")",
          ",", ".", "=", ":", "?", "+", "-", "*", "/", "%", "<", ">", "!")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEREDOC = re.compile(r"<<(-?)([A-Za-z_][A-Za-z0-9_\-]*)[ \t]*\n")
_OPEN, _CLOSE = "{[(", "}])"
_OPERATORS = {"==", "!=", "<=", ">=", "&&", "||", "=>", "=", ":", "?", "+", "-", "*", "/", "%",
              "<", ">", "!", ",", "(", "[", "{"}


class FormatError(ValueError):
    """The text cannot be tokenized (an unterminated string, heredoc or comment)."""


@dataclass
class Token:
    kind: str  # ident number string heredoc punct comment newline
    text: str


def format_hcl(src: str) -> str:
    """Return ``src`` in canonical layout (same tokens, canonical spaces and indents)."""
    lines = _split_lines(tokenize(src))
    out = [_Line(tokens) for tokens in lines]
    _indent(out)
    _align(out)
    text = "\n".join(line.render() for line in out)
    return text


# ---------------------------------------------------------------- tokenizer


def tokenize(src: str) -> list[Token]:
    """Split HCL source into tokens; strings, heredocs and comments stay whole."""
    tokens: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c == "\n":
            tokens.append(Token("newline", "\n"))
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#" or src.startswith("//", i):
            end = src.find("\n", i)
            end = n if end < 0 else end
            tokens.append(Token("comment", src[i:end].rstrip()))
            i = end
        elif src.startswith("/*", i):
            end = src.find("*/", i + 2)
            if end < 0:
                raise FormatError("unterminated comment")
            tokens.append(Token("comment", src[i:end + 2]))
            i = end + 2
        elif c == '"':
            end = _string_end(src, i)
            tokens.append(Token("string", src[i:end]))
            i = end
        elif src.startswith("<<", i) and _HEREDOC.match(src, i):
            end = _heredoc_end(src, i)
            tokens.append(Token("heredoc", src[i:end]))
            i = end
        else:
            i = _simple_token(src, i, tokens)
    return tokens


def _simple_token(src: str, i: int, tokens: list[Token]) -> int:
    for kind, pattern in (("ident", _IDENT), ("number", _NUMBER)):
        m = pattern.match(src, i)
        if m:
            tokens.append(Token(kind, m.group(0)))
            return m.end()
    for p in _PUNCT:
        if src.startswith(p, i):
            tokens.append(Token("punct", p))
            return i + len(p)
    tokens.append(Token("punct", src[i]))
    return i + 1


def _string_end(src: str, i: int) -> int:
    """Index after the closing quote of the template string starting at ``src[i]``."""
    j, depth = i + 1, 0
    while j < len(src):
        c = src[j]
        if c == "\\":
            j += 2
            continue
        if c == "\n" and depth == 0:
            break
        if depth == 0 and c == '"':
            return j + 1
        if src.startswith(("${", "%{"), j) and not src.startswith(("$${", "%%{"), j - 1):
            depth += 1
            j += 2
            continue
        if depth and c == "}":
            depth -= 1
        elif depth and c == '"':
            j = _string_end(src, j)
            continue
        j += 1
    raise FormatError("unterminated string")


def _heredoc_end(src: str, i: int) -> int:
    m = _HEREDOC.match(src, i)
    assert m is not None
    marker = m.group(2)
    j = m.end()
    while j <= len(src):
        end = src.find("\n", j)
        line = src[j:] if end < 0 else src[j:end]
        if line.strip() == marker:
            return j + len(line)
        if end < 0:
            break
        j = end + 1
    raise FormatError(f"unterminated heredoc {marker}")


def _split_lines(tokens: list[Token]) -> list[list[Token]]:
    lines: list[list[Token]] = [[]]
    for tok in tokens:
        if tok.kind == "newline":
            lines.append([])
        else:
            lines[-1].append(tok)
    return lines


# ------------------------------------------------------------------ layout


def _bracket_change(tok: Token) -> int:
    if tok.kind != "punct":
        return 0
    return 1 if tok.text in _OPEN else -1 if tok.text in _CLOSE else 0


class _Line:
    """One output line: indentation, code tokens, an optional trailing comment."""

    def __init__(self, tokens: list[Token]):
        self.comment = tokens[-1].text if tokens and tokens[-1].kind == "comment" else None
        self.code = tokens[:-1] if self.comment is not None else tokens
        self.indent = 0
        self.assign_at = _assign_index(self.code)
        self.lead_pad = 0     # extra spaces before "="
        self.comment_pad = 1  # spaces before a trailing comment

    def net_brackets(self) -> int:
        return sum(_bracket_change(t) for t in self.code)

    def lead_text(self) -> str:
        end = self.assign_at if self.assign_at is not None else len(self.code)
        return " " * self.indent + _join(self.code[:end])

    def code_text(self) -> str:
        if self.assign_at is None:
            return " " * self.indent + _join(self.code)
        rest = _join(self.code[self.assign_at:])
        return self.lead_text() + " " * (1 + self.lead_pad) + rest

    def render(self) -> str:
        if not self.code and self.comment is None:
            return ""
        if not self.code:
            return " " * self.indent + (self.comment or "")
        text = self.code_text()
        if self.comment is not None:
            text += " " * self.comment_pad + self.comment
        return text


def _assign_index(code: list[Token]) -> int | None:
    """Position of the first ``=`` when its right-hand side is complete on this line.

    As hclwrite: a value opening a multi-line bracket (``args = [``) is not an
    assignment cell, so it is not aligned and it ends the run of aligned lines.
    """
    for i, tok in enumerate(code):
        if i > 0 and tok.kind == "punct" and tok.text == "=":
            net = 0
            for t in code[i:]:
                if t.kind == "heredoc":
                    break
                net += _bracket_change(t)
            return i if net == 0 else None
    return None


def _indent(lines: list[_Line]) -> None:
    """hclwrite's ``formatIndent``: one level per line that opens brackets."""
    stack: list[int] = []
    for line in lines:
        if not line.code:
            line.indent = 2 * len(stack)
            continue
        net = line.net_brackets()
        if net > 0:
            line.indent = 2 * len(stack)
            stack.append(net)
            continue
        closed = -net
        while closed > 0 and stack:
            if closed >= stack[-1]:
                closed -= stack.pop()
            else:
                stack[-1] -= closed
                closed = 0
        line.indent = 2 * len(stack)


def _align(lines: list[_Line]) -> None:
    """Align ``=`` over runs of assignment lines, then comments over runs of commented lines."""
    _chains(lines, lambda ln: ln.assign_at is not None, _align_assign)
    _chains(lines, lambda ln: ln.comment is not None and bool(ln.code), _align_comments)


def _chains(lines: list[_Line], member, action) -> None:  # type: ignore[no-untyped-def]
    run: list[_Line] = []
    for line in lines + [_Line([])]:
        if member(line):
            run.append(line)
            continue
        if run:
            action(run)
        run = []


def _align_assign(run: list[_Line]) -> None:
    width = max(len(line.lead_text()) for line in run)
    for line in run:
        line.lead_pad = width - len(line.lead_text())


def _align_comments(run: list[_Line]) -> None:
    width = max(len(line.code_text()) for line in run)
    for line in run:
        line.comment_pad = width - len(line.code_text()) + 1


# ----------------------------------------------------------------- spacing


def _join(tokens: list[Token]) -> str:
    parts: list[str] = []
    for i, tok in enumerate(tokens):
        if i and _space_between(tokens[i - 2] if i > 1 else None, tokens[i - 1], tok):
            parts.append(" ")
        parts.append(tok.text)
    return "".join(parts)


def _space_between(before: Token | None, subject: Token, after: Token) -> bool:
    """hclwrite's ``spaceAfterToken``: is there a space between subject and after?"""
    s, a = subject.text if subject.kind == "punct" else None, after.text if after.kind == "punct" else None
    if a == "(" and subject.kind == "ident":
        return False
    if s == "." or a == ".":
        return False
    if a in (",", "...") or (a == "[" and (subject.kind in ("ident", "string") or s in ("]", ")"))):
        return False
    if s in ("-", "!") and _is_unary(before):
        return False
    if s in ("[", "("):
        return False
    if a in ("]", ")"):
        return False
    if s == "{" and a == "}":
        return False
    return True


def _is_unary(before: Token | None) -> bool:
    if before is None:
        return True
    return before.kind == "punct" and before.text in _OPERATORS
