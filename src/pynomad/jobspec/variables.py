"""Input variables and locals, following jobspec2's types.variables.go.

Values come, lowest to highest priority, from the ``default``, ``NOMAD_VAR_*``
environment variables, var files (HCL or JSON) and the ``variables``
argument. Variables typed ``string``/``number`` (or untyped) take the raw
string; other types parse it as an HCL expression.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import nodes as n
from .diagnostics import Diags, EvalError, JobspecError
from .evaluate import NO_CONTEXT, Scope, evaluate
from .types import parse_type
from .values import NUMBER, STRING, ConversionError, Type, convert, type_of

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass
class Validation:
    condition: n.Expr
    message: str
    rng: n.Range


@dataclass
class Variable:
    name: str
    rng: n.Range
    type: Type | None = None
    values: list[tuple[str, Any, n.Range | None]] = field(default_factory=list)
    validations: list[Validation] = field(default_factory=list)


def _const(expr: n.Expr, diags: Diags) -> tuple[bool, Any]:
    """Evaluate without variables or functions (hcl's nil EvalContext)."""
    try:
        return True, evaluate(expr, NO_CONTEXT)
    except EvalError as err:
        diags.append(err.diag)
        return False, None


def _convert(var: Variable, value: Any, summary: str, what: str, rng: n.Range | None, diags: Diags) -> Any:
    if var.type is None:
        return value
    try:
        return convert(value, var.type)
    except ConversionError as err:
        diags.error(summary, f"{what} is not compatible with the variable's type constraint: {err}.", rng)
        return None


def declare_block(block: n.Block, variables: dict[str, Variable], diags: Diags) -> None:
    """A ``variable "name" { type, default, description, validation {} }`` block."""
    name = block.labels[0]
    if name in variables:
        diags.error("Duplicate variable", f"Duplicate {name} variable definition found.", block.def_rng)
        return
    body = block.body
    for attr in body.attributes:
        if attr.name not in ("description", "default", "type"):
            diags.error("Unsupported argument", f'An argument named "{attr.name}" is not expected here.', attr.name_rng)
    for b in body.blocks:
        if b.type != "validation":
            diags.error("Unsupported block type", f'Blocks of type "{b.type}" are not expected here.', b.type_rng)
    if not _IDENT.match(name):
        diags.error("Invalid variable name", "A name must start with a letter or underscore and may contain only "
                    "letters, digits, underscores, and dashes.", block.label_rngs[0])
    var = Variable(name, block.def_rng)
    type_attr = body.attr("type")
    if type_attr is not None:
        try:
            var.type = parse_type(type_attr.expr)
        except EvalError as err:
            diags.append(err.diag)
            return
    default = body.attr("default")
    if default is not None:
        ok, value = _const(default.expr, diags)
        if not ok:
            return
        value = _convert(var, value, "Invalid default value for variable", "This default value",
                         default.expr.rng, diags)
        var.values.append(("default", value, default.expr.rng))
        if var.type is None:
            var.type = type_of(value)
    for b in body.blocks:
        if b.type == "validation":
            v = _validation(name, b, diags)
            if v is not None:
                var.validations.append(v)
    variables[name] = var


def declare_attr(attr: n.Attribute, variables: dict[str, Variable], diags: Diags) -> None:
    """One argument of a ``variables { name = default }`` block."""
    if attr.name in variables:
        diags.error("Duplicate variable", f"Duplicate {attr.name} variable definition found.", attr.name_rng)
        return
    ok, value = _const(attr.expr, diags)
    if ok:
        variables[attr.name] = Variable(attr.name, attr.rng, type_of(value), [("default", value, attr.expr.rng)])


def _validation(var_name: str, block: n.Block, diags: Diags) -> Validation | None:
    body = block.body
    cond, msg_attr = body.attr("condition"), body.attr("error_message")
    for attr in body.attributes:
        if attr.name not in ("condition", "error_message"):
            diags.error("Unsupported argument", f'An argument named "{attr.name}" is not expected here.', attr.name_rng)
    for name, attr in (("condition", cond), ("error_message", msg_attr)):
        if attr is None:
            diags.error("Missing required argument", f'The argument "{name}" is required, but no definition was found.',
                        block.def_rng)
    if cond is None or msg_attr is None:
        return None
    refs = _traversals(cond.expr)
    good = 0
    for ref in refs:
        if ref.root == "var" and ref.steps and ref.steps[0][0] == "attr" and ref.steps[0][1] == var_name:
            good += 1
        else:
            diags.error("Invalid reference in variable validation",
                        f'The condition for variable "{var_name}" can only refer to the variable itself, using var.{var_name}.',
                        ref.rng)
    if good < 1:
        diags.error("Invalid variable validation condition",
                    f'The condition for variable "{var_name}" must refer to var.{var_name} in order to test incoming values.',
                    cond.expr.rng)
    ok, message = _const(msg_attr.expr, diags)
    if not ok:
        return None
    message = "" if message is None else str(message)
    if message == "":
        diags.error("Invalid validation error message", "An empty string is not a valid nor useful error message.",
                    msg_attr.expr.rng)
    elif not _looks_like_sentences(message):
        diags.error("Invalid validation error message",
                    "Validation error message must be at least one full sentence starting with an uppercase letter "
                    "( if the alphabet permits it ) and ending with a period or question mark.", msg_attr.expr.rng)
    return Validation(cond.expr, message, block.def_rng)


def _looks_like_sentences(s: str) -> bool:
    first, last = s[0], s[-1]
    if first.isalpha() and not first.isupper():
        return False
    return last in ".?!"


def _traversals(expr: Any) -> list[n.Traversal]:
    """All variable references in an expression (excluding iterator names is not needed here)."""
    out: list[n.Traversal] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, n.Traversal):
            out.append(node)
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
        elif isinstance(node, n.Node):
            stack.extend(v for v in vars(node).values() if isinstance(v, (n.Node, list, tuple)))
    return out


# ------------------------------------------------------------------- values


def _from_string(var: Variable, raw: str, filename: str, diags: Diags) -> tuple[bool, Any, n.Range | None]:
    if var.type in (None, STRING, NUMBER):
        return True, raw, None
    from .syntax import parse_expression

    try:
        expr = parse_expression(raw, filename)
    except JobspecError as err:
        diags.extend(err.diagnostics)
        return False, None, None
    ok, value = _const(expr, diags)
    return ok, value, expr.rng


def collect_env(variables: dict[str, Variable], env: dict[str, str], diags: Diags) -> None:
    for key in sorted(env):
        if not key.startswith("NOMAD_VAR_"):
            continue
        name = key[len("NOMAD_VAR_"):]
        var = variables.get(name)
        if var is None:
            continue
        ok, value, rng = _from_string(var, env[key], f"<value for var.{name} from env>", diags)
        if ok:
            value = _convert(var, value, "Invalid value for variable", f"The value for {name}", rng, diags)
            var.values.append(("env", value, rng))


def collect_args(variables: dict[str, Variable], args: dict[str, str], strict: bool, diags: Diags) -> None:
    for name, raw in args.items():
        var = variables.get(name)
        if var is None:
            if strict:
                diags.error("Undefined -var variable",
                            f'A "{name}" variable was passed in the command line but was not found in known variables. '
                            f'To declare variable "{name}", place this block in your job file')
            continue
        ok, value, rng = _from_string(var, str(raw), f"<value for var.{name} from arguments>", diags)
        if ok:
            value = _convert(var, value, "Invalid argument value for -var variable",
                             f"The received arg value for {name}", rng, diags)
            var.values.append(("cmd", value, rng))


def collect_var_file(variables: dict[str, Variable], path: str, text: str, strict: bool, diags: Diags) -> None:
    """Assign values from one var file (HCL, or JSON when it starts with '{')."""
    if text.lstrip(" ").startswith("{"):
        _collect_json(variables, path, text, strict, diags)
        return
    from .syntax import parse_body

    body = parse_body(text, path)
    for b in body.blocks:
        diags.error("Variable declaration in a .var file" if b.type == "variable" else "Unexpected block",
                    f'A .var file is used to assign values to variables that have already been declared in job files, '
                    f'not to declare new variables. To declare variable "{b.labels[0] if b.labels else b.type}", '
                    "place this block in one of your job files.", b.type_rng)
    if diags:
        return
    for attr in body.attributes:
        var = _var_for(variables, attr.name, strict, attr.rng, diags)
        if var is None:
            continue
        ok, value = _const(attr.expr, diags)
        if ok:
            value = _convert(var, value, "Invalid value for variable", f"The value for {attr.name}", attr.expr.rng, diags)
            var.values.append(("varfile", value, attr.expr.rng))


def _collect_json(variables: dict[str, Variable], path: str, text: str, strict: bool, diags: Diags) -> None:
    try:
        data = json.loads(text)
    except ValueError as err:
        diags.error("Invalid JSON var file", f"{path}: {err}")
        return
    if not isinstance(data, dict):
        diags.error("Invalid JSON var file", f"{path}: the root value must be an object")
        return
    where = n.Range(path, 1, 1, 1, 1)
    for name, value in data.items():
        var = _var_for(variables, name, strict, where, diags)
        if var is not None:
            value = _convert(var, value, "Invalid value for variable", f"The value for {name}", where, diags)
            var.values.append(("varfile", value, where))


def _var_for(variables: dict[str, Variable], name: str, strict: bool, rng: n.Range, diags: Diags) -> Variable | None:
    var = variables.get(name)
    if var is None and strict:
        diags.error("Undefined variable",
                    f'A "{name}" variable was set but was not found in known variables. To declare variable '
                    f'"{name}", place this block in your job files', rng)
    return var


def final_values(variables: dict[str, Variable], functions: dict[str, Any], diags: Diags) -> dict[str, Any]:
    """The value of every variable (last assignment wins), validated."""
    out: dict[str, Any] = {}
    for name, var in variables.items():
        if not var.values:
            diags.error(f'Unset variable "{name}"',
                        "A used variable must be set or have a default value; see "
                        "https://www.nomadproject.io/docs/job-specification/hcl2/variables for details.", var.rng)
            out[name] = None
            continue
        source, value, rng = var.values[-1]
        out[name] = value
        _validate(var, source, value, rng, functions, diags)
    return out


def _validate(var: Variable, source: str, value: Any, rng: n.Range | None, functions: dict[str, Any],
              diags: Diags) -> None:
    scope = Scope({"var": {var.name: value}}, functions)
    for v in var.validations:
        try:
            result = evaluate(v.condition, scope)
        except EvalError as err:
            diags.append(err.diag)
            continue
        if result is None:
            diags.error("Invalid variable validation result",
                        "Validation condition expression must return either true or false, not null.", v.condition.rng)
            continue
        try:
            ok = convert(result, ("bool",))
        except ConversionError as err:
            diags.error("Invalid variable validation result", f"Invalid validation condition result value: {err}.",
                        v.condition.rng)
            continue
        if not ok:
            diags.error(f"Invalid value for {source} variable",
                        f"{v.message}\n\nThis was checked by the validation rule at {v.rng}.", rng or v.rng)


def evaluate_locals(attrs: list[n.Attribute], scope_for: Any, diags: Diags) -> dict[str, Any]:
    """Evaluate locals in any order, retrying those that depend on later ones."""
    values: dict[str, Any] = {}
    pending = list(attrs)
    while pending:
        progress = False
        failed: list[tuple[n.Attribute, EvalError]] = []
        for attr in pending:
            try:
                values[attr.name] = evaluate(attr.expr, scope_for(values))
                progress = True
            except EvalError as err:
                failed.append((attr, err))
        if not failed:
            break
        if not progress:
            diags.extend(err.diag for _, err in failed)
            break
        pending = [a for a, _ in failed]
    return values
