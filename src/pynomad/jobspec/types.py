"""Type constraint expressions of ``variable`` blocks: ``list(string)`` etc."""

from __future__ import annotations

from . import nodes as n
from .diagnostics import EvalError
from .values import ANY, BOOL, NUMBER, STRING, Type

_PRIMITIVES = {"string": STRING, "number": NUMBER, "bool": BOOL, "any": ANY}
_COLLECTIONS = ("list", "set", "map")


def parse_type(expr: n.Expr) -> Type:
    """Turn a type expression into a type tuple; raise EvalError if invalid."""
    if isinstance(expr, n.Parens):
        return parse_type(expr.inner)
    if isinstance(expr, n.Traversal) and not expr.steps:
        if expr.root in _PRIMITIVES:
            return _PRIMITIVES[expr.root]
        if expr.root in _COLLECTIONS + ("object", "tuple"):
            raise EvalError("Invalid type specification",
                            f'The {expr.root} type constructor requires one argument specifying the element type.', expr.rng)
        raise EvalError("Invalid type specification", f'The keyword "{expr.root}" is not a valid type specification.', expr.rng)
    if isinstance(expr, n.FunctionCall):
        if len(expr.args) != 1:
            raise EvalError("Invalid type specification", f"The {expr.name} type constructor requires one argument.", expr.rng)
        arg = expr.args[0]
        if expr.name in _COLLECTIONS:
            return (expr.name, parse_type(arg))
        if expr.name == "object" and isinstance(arg, n.ObjectCons):
            return ("object", {_key(k): parse_type(v) for k, v in arg.items})
        if expr.name == "tuple" and isinstance(arg, n.TupleCons):
            return ("tuple", [parse_type(x) for x in arg.items])
        if expr.name == "optional":
            return parse_type(arg)
    raise EvalError("Invalid type specification", "A type specification is either a primitive type keyword (bool, number, string) or a complex type constructor call, like list(string).", expr.rng)


def _key(expr: n.Expr) -> str:
    if isinstance(expr, n.Literal) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, n.TemplateExpr) and all(isinstance(p, str) for p in expr.parts):
        return "".join(expr.parts)
    raise EvalError("Invalid type specification", "Object type attribute names must be static strings.", expr.rng)
