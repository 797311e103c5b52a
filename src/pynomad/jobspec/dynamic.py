"""Expansion of ``dynamic "type" { for_each, iterator, labels, content }`` blocks.

Like HCL's dynblock extension, a dynamic block turns into one real block per
element of ``for_each``; its ``content`` is evaluated with the iterator
variable (``<iterator>.key`` / ``<iterator>.value``) in scope. Nested dynamic
blocks inside ``content`` expand when that body is decoded.
"""

from __future__ import annotations

from . import nodes as n
from .diagnostics import Diags, EvalError
from .evaluate import Scope, evaluate
from .values import ConversionError, to_string

ScopedBlock = tuple[n.Block, Scope]


def expand_blocks(body: n.Body, scope: Scope, wanted: set[str], diags: Diags) -> list[ScopedBlock]:
    """Return the body's blocks with dynamic blocks of ``wanted`` types expanded."""
    out: list[ScopedBlock] = []
    for block in body.blocks:
        if block.type == "dynamic" and len(block.labels) == 1 and block.labels[0] in wanted:
            out.extend(_expand_one(block, scope, diags))
        else:
            out.append((block, scope))
    return out


def _expand_one(block: n.Block, scope: Scope, diags: Diags) -> list[ScopedBlock]:
    body = block.body
    allowed = {"for_each", "iterator", "labels"}
    for attr in body.attributes:
        if attr.name not in allowed:
            diags.error("Unsupported argument", f'An argument named "{attr.name}" is not expected here.', attr.name_rng)
    contents = [b for b in body.blocks if b.type == "content"]
    for extra in [b for b in body.blocks if b.type != "content"]:
        diags.error("Unsupported block type", f'Blocks of type "{extra.type}" are not expected here.', extra.type_rng)
    if len(contents) != 1:
        diags.error("Missing content block" if not contents else "Duplicate content block",
                    "A dynamic block must have exactly one nested block of type \"content\".", block.def_rng)
        return []
    for_each = body.attr("for_each")
    if for_each is None:
        diags.error("Missing required argument", 'The argument "for_each" is required, but no definition was found.', block.def_rng)
        return []
    iterator = block.labels[0]
    it_attr = body.attr("iterator")
    if it_attr is not None:
        expr = it_attr.expr
        if isinstance(expr, n.Traversal) and not expr.steps:
            iterator = expr.root
        else:
            diags.error("Invalid dynamic iterator name", "Dynamic iterator must be a single variable name.", expr.rng)
            return []
    try:
        coll = evaluate(for_each.expr, scope)
    except EvalError as err:
        diags.append(err.diag)
        return []
    if isinstance(coll, dict):
        pairs = [(k, coll[k]) for k in sorted(coll)]
    elif isinstance(coll, list):
        pairs = list(enumerate(coll))
    else:
        diags.error("Invalid dynamic for_each value", "Cannot use a value of this type in for_each. An iterable collection is required.", for_each.expr.rng)
        return []
    out: list[ScopedBlock] = []
    content = contents[0]
    for key, value in pairs:
        inner = scope.child({iterator: {"key": key, "value": value}})
        labels = _labels(body.attr("labels"), inner, diags)
        if labels is None:
            return out
        new = n.Block(block.labels[0], labels, content.body, block.type_rng,
                      [block.label_rngs[0]] * len(labels), block.rng)
        out.append((new, inner))
    return out


def _labels(attr: n.Attribute | None, scope: Scope, diags: Diags) -> list[str] | None:
    if attr is None:
        return []
    try:
        value = evaluate(attr.expr, scope)
        if not isinstance(value, list):
            raise ConversionError("list of string required")
        return [to_string(v) for v in value]
    except EvalError as err:
        diags.append(err.diag)
    except ConversionError as err:
        diags.error("Invalid dynamic block label", f"Cannot use this value as a dynamic block label: {err}.", attr.expr.rng)
    return None
