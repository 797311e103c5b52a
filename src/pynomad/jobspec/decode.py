"""Generic decoding of HCL bodies into API JSON dicts, driven by :mod:`schema`.

This mirrors gohcl's behaviour as used by Nomad: unknown arguments and blocks
are errors (with "Did you mean" hints), pointer fields stay null when unset,
plain fields take their zero value, ``config``-style blocks become free-form
maps in which nested blocks are lists of objects. Struct-specific rules
(constraints, tasks, groups, the job) are hooked in by :mod:`jobdecode`.
"""

from __future__ import annotations

from typing import Any, Callable

from . import nodes as n
from .diagnostics import Diags, EvalError
from ..helper.goformat import parse_duration
from .dynamic import ScopedBlock, expand_blocks
from .evaluate import Scope, evaluate
from .schema import Field, fields
from .values import ConversionError, is_number, normalize_number, to_bool, to_number, to_string, type_name

_INT_RANGES = {
    "int": (-(2 ** 63), 2 ** 63 - 1), "int64": (-(2 ** 63), 2 ** 63 - 1),
    "int8": (-128, 127), "uint8": (0, 255), "uint64": (0, 2 ** 64 - 1),
}
_ZERO = {"str": "", "int": 0, "bool": False, "dur": 0, "uint8": 0}

Hook = Callable[["Decoder", n.Body, Scope, list[str], n.Block | None], dict]


class Decoder:
    """Decodes bodies into dicts; collects diagnostics instead of stopping."""

    def __init__(self, diags: Diags) -> None:
        self.diags = diags
        self.hooks: dict[str, Hook] = {}

    # ---------------------------------------------------------------- values
    def value(self, expr: n.Expr, scope: Scope) -> tuple[bool, Any]:
        try:
            return True, evaluate(expr, scope)
        except EvalError as err:
            self.diags.append(err.diag)
            return False, None

    def unsuitable(self, detail: str, expr: n.Expr) -> None:
        self.diags.error("Unsuitable value type", f"Unsuitable value: {detail}", expr.rng)

    def scalar(self, kind: str, expr: n.Expr, scope: Scope) -> Any:
        """Decode one attribute of a scalar/list kind; None when unset or invalid."""
        ok, v = self.value(expr, scope)
        if not ok or v is None:
            return None
        base = kind.lstrip("*")
        try:
            if base == "str":
                return to_string(v)
            if base == "bool":
                return to_bool(v)
            if base == "dur":
                return self.duration(v, expr)
            if base == "[str]":
                if not isinstance(v, list):
                    raise ConversionError(f"list of string required, but have {type_name(v)}")
                if any(x is None for x in v):
                    raise ConversionError("element must not be null")
                return [to_string(x) for x in v]
            return self.integer(base, to_number(v), expr)
        except ConversionError as err:
            self.unsuitable(str(err), expr)
            return None

    def integer(self, base: str, num: int | float, expr: n.Expr) -> int | None:
        lo, hi = _INT_RANGES[base]
        if not isinstance(num, int) or not lo <= num <= hi:
            self.unsuitable(f"value must be a whole number, between {lo} and {hi}", expr)
            return None
        return num

    def duration(self, v: Any, expr: n.Expr) -> int | None:
        if isinstance(v, str):
            try:
                return parse_duration(v)
            except ValueError as err:
                self.diags.error("Unsuitable value type", f"Unsuitable duration value: {err}", expr.rng)
                return None
        if is_number(v):
            return self.integer("int64", normalize_number(v), expr)
        self.unsuitable(f"expected a string but found {type_name(v)}", expr)
        return None

    def string_map(self, body: n.Body, scope: Scope, list_values: bool = False) -> dict:
        """A ``meta``-style block: every argument becomes a string (or list)."""
        out: dict[str, Any] = {}
        for attr in body.attributes:
            v = self.scalar("[str]" if list_values else "str", attr.expr, scope)
            if v is not None:
                out[attr.name] = v
        for b in body.blocks:
            self.diags.error("Unsupported block type", f'Blocks of type "{b.type}" are not expected here.',
                             b.type_rng)
        return dict(sorted(out.items()))

    def expr_map(self, expr: n.Expr, scope: Scope) -> dict | None:
        """``meta = {...}`` / ``env = {...}`` written as an argument."""
        ok, v = self.value(expr, scope)
        if not ok or v is None:
            return None
        if not isinstance(v, dict):
            self.unsuitable(f"map of string required, but have {type_name(v)}", expr)
            return None
        try:
            return {k: to_string(v[k]) for k in sorted(v)}
        except ConversionError as err:
            self.unsuitable(str(err), expr)
            return None

    def free_form(self, body: n.Body, scope: Scope) -> dict:
        """A ``config``-style block; blocks become lists of objects, like Nomad."""
        out: dict[str, Any] = {}
        for attr in body.attributes:
            ok, v = self.value(attr.expr, scope)
            if isinstance(attr.expr, n.ObjectCons):
                v = [v]
            out[attr.name] = plain(v)
        for name, blocks in _by_type(body.blocks).items():
            out[name] = [self.free_form_block(b, scope) for b in blocks]
        return dict(sorted(out.items()))

    def free_form_block(self, block: n.Block, scope: Scope) -> dict:
        v: dict = self.free_form(block.body, scope)
        for label in reversed(block.labels):
            v = {label: [v]}
        return v

    # ---------------------------------------------------------------- structs
    def struct(self, name: str, body: n.Body, scope: Scope, labels: list[str] | None = None,
               block: n.Block | None = None, skip: frozenset[str] = frozenset()) -> dict:
        """Decode a body into the struct ``name`` (JSON field order)."""
        hook = self.hooks.get(name)
        if hook is not None:
            return hook(self, body, scope, labels or [], block)
        return self.plain_struct(name, body, scope, labels or [], block, skip)

    def plain_struct(self, name: str, body: n.Body, scope: Scope, labels: list[str],
                     block: n.Block | None, skip: frozenset[str] = frozenset(),
                     extra: dict[str, tuple[str, Callable[[list[ScopedBlock]], Any]]] | None = None) -> dict:
        schema = fields(name)
        attrs = {f.hcl: f for f in schema if f.hcl and not f.is_block}
        blocks_by = {f.hcl: f for f in schema if f.hcl and f.is_block}
        extra = extra or {}
        self.check_attributes(body, attrs, set(blocks_by) | set(extra), skip)
        scoped = expand_blocks(body, scope, set(blocks_by) | set(extra), self.diags)
        grouped = self.check_blocks(scoped, blocks_by, set(attrs), skip | set(extra))
        out: dict[str, Any] = {}
        for f in schema:
            value = self.field_value(f, body, scope, grouped, labels, block)
            if value is _OMIT:
                continue
            out[f.json] = value
        for hcl_name, (json_name, fn) in extra.items():
            result = fn([sb for sb in scoped if sb[0].type == hcl_name])
            if json_name:
                out[json_name] = result
        return out

    def field_value(self, f: Field, body: n.Body, scope: Scope, grouped: dict[str, list[ScopedBlock]],
                    labels: list[str], block: n.Block | None) -> Any:
        kind = f.kind
        if kind.startswith("="):
            return {"=null": None, "=false": False, "=0": 0, '=""': ""}[kind]
        if kind == "label":
            return labels[0] if labels else ""
        if f.is_block:
            return self.block_field(f, grouped.get(f.hcl or "", []))
        attr = body.attr(f.hcl or "")
        if attr is None:
            return None if "*" in kind or kind.startswith("[") else _ZERO[kind]
        value = self.scalar(kind, attr.expr, scope)
        if value is None and "*" not in kind and not kind.startswith("["):
            return _ZERO[kind]
        return value

    def block_field(self, f: Field, blocks: list[ScopedBlock]) -> Any:
        kind = f.kind.lstrip("?")
        if not blocks:
            return _OMIT if f.kind.startswith("?") else None
        if kind == "{str}" or kind == "{[str]}":
            b, sc = blocks[0]
            return self.string_map(b.body, sc, list_values=kind == "{[str]}")
        if kind == "{any}":
            b, sc = blocks[0]
            return self.free_form(b.body, sc)
        struct = f.struct
        if kind.startswith("["):
            return [self.struct(struct, b.body, sc, b.labels, b) for b, sc in blocks]
        if kind.startswith("{"):
            out = {}
            for b, sc in blocks:
                out[b.labels[0] if b.labels else ""] = self.struct(struct, b.body, sc, b.labels, b)
            return dict(sorted(out.items()))
        b, sc = blocks[0]
        return self.struct(struct, b.body, sc, b.labels, b)

    # ------------------------------------------------------------- validation
    def check_attributes(self, body: n.Body, attrs: dict[str, Field], block_names: set[str],
                         skip: frozenset[str]) -> None:
        for attr in body.attributes:
            if attr.name in attrs or attr.name in skip:
                continue
            detail = f'An argument named "{attr.name}" is not expected here.'
            if attr.name in block_names:
                detail += f' Did you mean to define a block of type "{attr.name}"?'
            else:
                detail += suggest(attr.name, list(attrs))
            self.diags.error("Unsupported argument", detail, attr.name_rng)

    def check_blocks(self, scoped: list[ScopedBlock], blocks_by: dict[str, Field], attr_names: set[str],
                     skip: frozenset[str]) -> dict[str, list[ScopedBlock]]:
        grouped: dict[str, list[ScopedBlock]] = {}
        for b, sc in scoped:
            if b.type in skip:
                continue
            f = blocks_by.get(b.type)
            if f is None:
                detail = f'Blocks of type "{b.type}" are not expected here.'
                if b.type in attr_names:
                    detail += (f' Did you mean to define argument "{b.type}"? If so, use the equals sign '
                               "to assign it a value.")
                else:
                    detail += suggest(b.type, list(blocks_by))
                self.diags.error("Unsupported block type", detail, b.type_rng)
                continue
            if not self.check_labels(b, f):
                continue
            prev = grouped.get(b.type)
            kind = f.kind.lstrip("?")
            multi = kind.startswith("[") or (kind.startswith("{") and bool(f.struct))
            if prev and not multi:
                self.diags.error(f"Duplicate {b.type} block",
                                 f"Only one {b.type} block is allowed. Another was defined at {prev[0][0].def_rng}.",
                                 b.def_rng)
                continue
            grouped.setdefault(b.type, []).append((b, sc))
        return grouped

    def check_labels(self, b: n.Block, f: Field) -> bool:
        want = 1 if f.struct and any(x.kind == "label" for x in fields(f.struct)) else 0
        if f.kind.startswith("{") and f.struct:
            want = 1
        return check_label_count(b, want, self.diags)


_OMIT = object()


def check_label_count(b: n.Block, want: int, diags: Diags, label_name: str = "name") -> bool:
    if len(b.labels) == want:
        return True
    if len(b.labels) < want:
        diags.error(f"Missing {label_name} for {b.type}",
                    f"All {b.type} blocks must have {want} labels ({label_name}).", b.def_rng)
    elif want == 0:
        diags.error(f"Extraneous label for {b.type}", f"No labels are expected for {b.type} blocks.",
                    b.label_rngs[0])
    else:
        diags.error(f"Extraneous label for {b.type}",
                    f"Only {want} labels ({label_name}) are expected for {b.type} blocks.", b.label_rngs[want])
    return False


def _by_type(blocks: list[n.Block]) -> dict[str, list[n.Block]]:
    out: dict[str, list[n.Block]] = {}
    for b in blocks:
        out.setdefault(b.type, []).append(b)
    return out


def plain(v: Any) -> Any:
    """Free-form values as Go would print them: whole numbers as ints, sorted maps."""
    if isinstance(v, dict):
        return {k: plain(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if is_number(v):
        return normalize_number(v)
    return v


def suggest(name: str, candidates: list[str]) -> str:
    """HCL's "Did you mean" hint for a misspelt name (edit distance < 3)."""
    best, best_d = "", 3
    for c in candidates:
        d = _levenshtein(name, c)
        if d < best_d:
            best, best_d = c, d
    return f' Did you mean "{best}"?' if best else ""


def _levenshtein(a: str, b: str) -> int:
    if abs(len(a) - len(b)) >= 3:
        return 3
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
