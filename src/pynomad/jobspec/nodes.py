"""Syntax tree for HCL2 native syntax, with source ranges.

The tree is produced by :mod:`pynomad.jobspec.syntax` from python-hcl2's Lark
parse tree and consumed by the evaluator and the job decoder. Every node keeps
a :class:`Range` so diagnostics can name ``file:line,col``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Range:
    """A span of source text: 1-based lines and columns, 0-based offsets."""

    filename: str
    line: int
    col: int
    end_line: int
    end_col: int
    start: int = 0
    end: int = 0

    def __str__(self) -> str:
        if self.end_line == self.line:
            if self.end_col > self.col:
                return f"{self.filename}:{self.line},{self.col}-{self.end_col}"
            return f"{self.filename}:{self.line},{self.col}"
        return f"{self.filename}:{self.line},{self.col}-{self.end_line},{self.end_col}"

    def to(self, other: "Range") -> "Range":
        """Return the range from the start of self to the end of other."""
        return Range(self.filename, self.line, self.col, other.end_line,
                     other.end_col, self.start, other.end)


NO_RANGE = Range("<unknown>", 0, 0, 0, 0)


class Node:
    """Base class of every syntax node."""

    rng: Range


# ---------------------------------------------------------------- structure


@dataclass
class Attribute(Node):
    name: str
    expr: "Expr"
    name_rng: Range
    rng: Range


@dataclass
class Block(Node):
    type: str
    labels: list[str]
    body: "Body"
    type_rng: Range
    label_rngs: list[Range]
    rng: Range

    @property
    def def_rng(self) -> Range:
        """The block header: type and labels."""
        last = self.label_rngs[-1] if self.label_rngs else self.type_rng
        return self.type_rng.to(last)


@dataclass
class Body(Node):
    attributes: list[Attribute]
    blocks: list[Block]
    rng: Range
    # names hidden by an enclosing decoder (see decode.py); never reported
    hidden: frozenset[str] = field(default_factory=frozenset)

    def attr(self, name: str) -> Attribute | None:
        for a in self.attributes:
            if a.name == name:
                return a
        return None


# -------------------------------------------------------------- expressions


class Expr(Node):
    """Base class of expressions."""


@dataclass
class Literal(Expr):
    value: Any
    rng: Range


@dataclass
class TemplateExpr(Expr):
    """A string template; parts are str (literal) or Expr / directives."""

    parts: list[Any]
    rng: Range


@dataclass
class TemplateIf(Node):
    cond: Expr
    then: list[Any]
    other: list[Any]
    rng: Range


@dataclass
class TemplateFor(Node):
    key_var: str | None
    value_var: str
    coll: Expr
    body: list[Any]
    rng: Range


@dataclass
class Traversal(Expr):
    """A variable reference with static attribute/index steps."""

    root: str
    steps: list[tuple[str, Any, Range]]  # ("attr", name) or ("index", key)
    rng: Range


@dataclass
class GetAttr(Expr):
    source: Expr
    name: str
    rng: Range


@dataclass
class Index(Expr):
    source: Expr
    key: Expr
    rng: Range


@dataclass
class Splat(Expr):
    """``source[*].rest`` or ``source.*.rest``; rest is applied per element."""

    source: Expr
    steps: list[tuple[str, Any, Range]]
    rng: Range


@dataclass
class FunctionCall(Expr):
    name: str
    args: list[Expr]
    expand_final: bool
    name_rng: Range
    rng: Range


@dataclass
class Conditional(Expr):
    cond: Expr
    then: Expr
    other: Expr
    rng: Range


@dataclass
class BinaryOp(Expr):
    op: str
    left: Expr
    right: Expr
    rng: Range


@dataclass
class UnaryOp(Expr):
    op: str
    operand: Expr
    rng: Range


@dataclass
class TupleCons(Expr):
    items: list[Expr]
    rng: Range


@dataclass
class ObjectCons(Expr):
    items: list[tuple[Expr, Expr]]
    rng: Range


@dataclass
class ForExpr(Expr):
    key_var: str | None
    value_var: str
    coll: Expr
    key_expr: Expr | None  # set for object results
    value_expr: Expr
    cond: Expr | None
    group: bool
    rng: Range


@dataclass
class Parens(Expr):
    inner: Expr
    rng: Range
