"""Expression evaluator for the :mod:`nodes` tree.

A :class:`Scope` holds variables (``var``, ``local``, iterator names) and
functions. Like Nomad's jobspec2, a reference to an unknown root variable
(``node.*``, ``attr.*``, ``meta.*``, ``NOMAD_*``, ``env[...]``) evaluates to its
own source text wrapped in ``${...}`` so runtime interpolation is preserved.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from . import nodes as n
from .diagnostics import EvalError
from .values import (ConversionError, equal, normalize_number, to_bool, to_number,
                     to_string, type_name)


class FuncError(Exception):
    """Raised by a function implementation; message is shown to the user."""


class Scope:
    """Evaluation context: variables, functions and the undefined-name policy."""

    def __init__(self, variables: dict[str, Any] | None = None,
                 functions: dict[str, Callable[..., Any]] | None = None,
                 src: str | None = None, literal_undefined: bool = False,
                 parent: "Scope | None" = None) -> None:
        self.variables = variables
        self.functions = functions
        self.src = src
        self.literal_undefined = literal_undefined
        self.parent = parent

    def child(self, extra: dict[str, Any]) -> "Scope":
        return Scope(dict(extra), self.functions, self.src, self.literal_undefined, self)

    def lookup(self, name: str) -> tuple[bool, Any]:
        scope: Scope | None = self
        while scope is not None:
            if scope.variables is not None and name in scope.variables:
                return True, scope.variables[name]
            scope = scope.parent
        return False, None

    @property
    def allows_variables(self) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if scope.variables is not None:
                return True
            scope = scope.parent
        return False


NO_CONTEXT = Scope()


def evaluate(expr: n.Expr, scope: Scope) -> Any:
    """Evaluate an expression; raise EvalError with a source range on failure."""
    method = _DISPATCH.get(type(expr))
    if method is None:
        raise EvalError("Unsupported expression", type(expr).__name__, expr.rng)
    try:
        return method(expr, scope)
    except RecursionError:
        raise EvalError("Expression too complex", "The expression is nested too deeply.", expr.rng) from None


def _literal(e: n.Literal, scope: Scope) -> Any:
    return e.value


def _parens(e: n.Parens, scope: Scope) -> Any:
    return evaluate(e.inner, scope)


def _template(e: n.TemplateExpr, scope: Scope) -> Any:
    if len(e.parts) == 1 and isinstance(e.parts[0], n.Expr):
        return evaluate(e.parts[0], scope)  # "${x}" keeps x's type
    return _render(e.parts, scope)


def _render(parts: list[Any], scope: Scope) -> str:
    out: list[str] = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, n.TemplateIf):
            cond = _need_bool(evaluate(p.cond, scope), p.cond.rng, "condition")
            out.append(_render(p.then if cond else p.other, scope))
        elif isinstance(p, n.TemplateFor):
            for key, value in _iterate(evaluate(p.coll, scope), p.coll.rng):
                names = {p.value_var: value}
                if p.key_var:
                    names[p.key_var] = key
                out.append(_render(p.body, scope.child(names)))
        else:
            out.append(_interp_string(evaluate(p, scope), p.rng))
    return "".join(out)


def _interp_string(v: Any, rng: n.Range) -> str:
    if v is None:
        raise EvalError("Invalid template interpolation value",
                        "The expression result is null. Cannot include a null value in a string template.", rng)
    try:
        return to_string(v)
    except ConversionError as err:
        raise EvalError("Invalid template interpolation value",
                        f"Cannot include the given value in a string template: {err}.", rng) from None


def _traversal(e: n.Traversal, scope: Scope) -> Any:
    if not scope.allows_variables:
        raise EvalError("Variables not allowed", "Variables may not be used here.", e.rng)
    found, value = scope.lookup(e.root)
    if not found:
        if scope.literal_undefined:
            return undefined_text(scope.src or "", e.rng)
        raise EvalError("Unknown variable", f'There is no variable named "{e.root}".', e.rng)
    for kind, key, rng in e.steps:
        value = _step(value, kind, key, rng)
    return value


def undefined_text(src: str, rng: n.Range) -> str:
    """Rebuild ``${...}`` around an unknown reference, the way Nomad does."""
    start, end = rng.start, rng.end
    if not (0 <= start <= end <= len(src)):
        return "${?}"
    v = src[start:end]
    i = start - 1
    bracketed = False
    while i >= 1:
        if src[i] == "{" and src[i - 1] == "$":
            bracketed = True
            v = src[i - 1:start] + v
            break
        if src[i] != " ":
            break
        i -= 1
    if not bracketed:
        return "${" + v + "}"
    for j in range(end + 1, len(src)):
        if src[j] == "}":
            v += src[end:j]
        elif src[j] != " ":
            v += "}"
            break
    return v


def _step(value: Any, kind: str, key: Any, rng: n.Range) -> Any:
    if kind == "attr":
        if isinstance(value, dict):
            if key not in value:
                raise EvalError("Unsupported attribute", f'This object does not have an attribute named "{key}".', rng)
            return value[key]
        if value is None:
            raise EvalError("Attempt to get attribute from null value", "This value is null, so it does not have any attributes.", rng)
        raise EvalError("Unsupported attribute", f"Can't access attributes on a primitive-typed value ({type_name(value)}).", rng)
    return _index(value, key, rng)


def _index(value: Any, key: Any, rng: n.Range) -> Any:
    if value is None:
        raise EvalError("Attempt to index null value", "This value is null, so it does not have any indices.", rng)
    if isinstance(value, list):
        try:
            k = to_number(key)
        except ConversionError:
            raise EvalError("Invalid index", "The given key does not identify an element in this collection value: a number is required.", rng) from None
        if not isinstance(k, int) or not 0 <= k < len(value):
            raise EvalError("Invalid index", "The given key does not identify an element in this collection value.", rng)
        return value[k]
    if isinstance(value, dict):
        try:
            k = to_string(key)
        except ConversionError:
            raise EvalError("Invalid index", "The given key does not identify an element in this collection value: string required.", rng) from None
        if k not in value:
            raise EvalError("Invalid index", "The given key does not identify an element in this collection value.", rng)
        return value[k]
    raise EvalError("Invalid index", f"This value does not have any indices ({type_name(value)}).", rng)


def _get_attr(e: n.GetAttr, scope: Scope) -> Any:
    return _step(evaluate(e.source, scope), "attr", e.name, e.rng)


def _index_expr(e: n.Index, scope: Scope) -> Any:
    return _index(evaluate(e.source, scope), evaluate(e.key, scope), e.rng)


def _splat(e: n.Splat, scope: Scope) -> Any:
    source = evaluate(e.source, scope)
    if source is None:
        return []
    items = source if isinstance(source, list) else [source]
    out = []
    for item in items:
        for kind, key, rng in e.steps:
            k = key if kind == "attr" else evaluate(key, scope)
            item = _step(item, kind, k, rng)
        out.append(item)
    return out


def _call(e: n.FunctionCall, scope: Scope) -> Any:
    if scope.functions is None:
        raise EvalError("Function calls not allowed", "Functions may not be called here.", e.rng)
    fn = scope.functions.get(e.name)
    if fn is None:
        raise EvalError("Call to unknown function", f'There is no function named "{e.name}".', e.name_rng)
    if getattr(fn, "lazy", False):
        return fn.impl(e.args, scope, e.rng)
    args = [evaluate(a, scope) for a in e.args]
    if e.expand_final:
        if not args or not isinstance(args[-1], list):
            raise EvalError("Invalid expanding argument value", "The expanding argument (indicated by ...) must be of a tuple, list, or set type.", e.rng)
        args = args[:-1] + list(args[-1])
    try:
        return fn(*args)
    except EvalError:
        raise
    except RecursionError:
        raise EvalError("Error in function call", f'Call to function "{e.name}" failed: value is nested too deeply.', e.rng) from None
    except Exception as err:  # noqa: BLE001 - any failure of a function is the user's input error
        raise EvalError("Error in function call", f'Call to function "{e.name}" failed: {err}.', e.rng) from None


def _conditional(e: n.Conditional, scope: Scope) -> Any:
    cond = _need_bool(evaluate(e.cond, scope), e.cond.rng, "condition")
    return evaluate(e.then if cond else e.other, scope)


def _need_bool(v: Any, rng: n.Range, what: str) -> bool:
    if v is None:
        raise EvalError(f"Invalid {what} result", f"The {what} value is null.", rng)
    try:
        return to_bool(v)
    except ConversionError:
        raise EvalError(f"Invalid {what} result", f"The {what} value must be a boolean, not {type_name(v)}.", rng) from None


def _number_operand(v: Any, rng: n.Range) -> int | float:
    try:
        if v is None:
            raise ConversionError("number required")
        return to_number(v)
    except ConversionError:
        raise EvalError("Invalid operand", f"Unsuitable value for operand: a number is required, not {type_name(v)}.", rng) from None


def _arith(op: str, a: int | float, b: int | float, rng: n.Range) -> Any:
    if op == "+":
        r = a + b
    elif op == "-":
        r = a - b
    elif op == "*":
        r = a * b
    elif op == "/":
        if b == 0:
            if a == 0:
                raise EvalError("Operation failed", "Error during operation: can't divide zero by zero.", rng)
            return math.inf if a > 0 else -math.inf
        r = a / b if not (isinstance(a, int) and isinstance(b, int) and a % b == 0) else a // b
    else:
        if b == 0:
            raise EvalError("Operation failed", "Error during operation: can't use modulo with zero.", rng)
        r = math.fmod(a, b) if isinstance(a, float) or isinstance(b, float) else _int_mod(a, b)
    return normalize_number(r)


def _int_mod(a: int, b: int) -> int:
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _binary(e: n.BinaryOp, scope: Scope) -> Any:
    op = e.op
    if op in ("&&", "||"):
        left = _need_bool(evaluate(e.left, scope), e.left.rng, "operand")
        if op == "&&" and not left:
            return False
        if op == "||" and left:
            return True
        return _need_bool(evaluate(e.right, scope), e.right.rng, "operand")
    a, b = evaluate(e.left, scope), evaluate(e.right, scope)
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    x, y = _number_operand(a, e.left.rng), _number_operand(b, e.right.rng)
    if op in ("<", ">", "<=", ">="):
        return {"<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]
    return _arith(op, x, y, e.rng)


def _unary(e: n.UnaryOp, scope: Scope) -> Any:
    v = evaluate(e.operand, scope)
    if e.op == "!":
        return not _need_bool(v, e.operand.rng, "operand")
    return normalize_number(-_number_operand(v, e.operand.rng))


def _tuple(e: n.TupleCons, scope: Scope) -> Any:
    return [evaluate(x, scope) for x in e.items]


def _object_key(k: Any, rng: n.Range) -> str:
    if k is None:
        raise EvalError("Null value as key", "Can't use a null value as a key.", rng)
    try:
        return to_string(k)
    except ConversionError:
        raise EvalError("Incorrect key type", f"Can't use this value as a key: {type_name(k)}.", rng) from None


def _object(e: n.ObjectCons, scope: Scope) -> Any:
    out: dict[str, Any] = {}
    for kexpr, vexpr in e.items:
        out[_object_key(evaluate(kexpr, scope), kexpr.rng)] = evaluate(vexpr, scope)
    return out


def _iterate(coll: Any, rng: n.Range) -> list[tuple[Any, Any]]:
    if isinstance(coll, list):
        return list(enumerate(coll))
    if isinstance(coll, dict):
        return [(k, coll[k]) for k in sorted(coll)]
    if coll is None:
        raise EvalError("Iteration over null value", "A null value cannot be used as the collection in a 'for' expression.", rng)
    raise EvalError("Iteration over non-iterable value", f"A value of type {type_name(coll)} cannot be used as the collection in a 'for' expression.", rng)


def _for(e: n.ForExpr, scope: Scope) -> Any:
    pairs = _iterate(evaluate(e.coll, scope), e.coll.rng)
    result_list: list[Any] = []
    result_obj: dict[str, Any] = {}
    for key, value in pairs:
        names = {e.value_var: value}
        if e.key_var:
            names[e.key_var] = key
        inner = scope.child(names)
        if e.cond is not None and not _need_bool(evaluate(e.cond, inner), e.cond.rng, "'for' condition"):
            continue
        if e.key_expr is None:
            result_list.append(evaluate(e.value_expr, inner))
            continue
        k = _object_key(evaluate(e.key_expr, inner), e.key_expr.rng)
        v = evaluate(e.value_expr, inner)
        if e.group:
            result_obj.setdefault(k, []).append(v)
        elif k in result_obj:
            raise EvalError("Duplicate object key", f'Two different items produced the key "{k}" in this \'for\' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.', e.key_expr.rng)
        else:
            result_obj[k] = v
    return result_list if e.key_expr is None else result_obj


_DISPATCH: dict[type, Callable[[Any, Scope], Any]] = {
    n.Literal: _literal,
    n.Parens: _parens,
    n.TemplateExpr: _template,
    n.Traversal: _traversal,
    n.GetAttr: _get_attr,
    n.Index: _index_expr,
    n.Splat: _splat,
    n.FunctionCall: _call,
    n.Conditional: _conditional,
    n.BinaryOp: _binary,
    n.UnaryOp: _unary,
    n.TupleCons: _tuple,
    n.ObjectCons: _object,
    n.ForExpr: _for,
}
