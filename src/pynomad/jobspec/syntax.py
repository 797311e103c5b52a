"""HCL2 native syntax → :mod:`nodes` tree, using python-hcl2's Lark grammar.

python-hcl2 gives a Lark parse tree with positions; this module turns it into
our own small syntax tree (blocks, attributes, expressions) and converts Lark
syntax errors into :class:`JobspecError` with ``file:line,col``. Heredoc
bodies are templates that python-hcl2 keeps as one token; they are parsed by
:mod:`pynomad.jobspec.heredoc`.
"""

from __future__ import annotations

import re
from typing import Any

from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import nodes as n
from .diagnostics import Diags, Diagnostic, JobspecError

_NL = "new_line_or_comment"


def _lark_parser() -> Any:
    from hcl2.parser import parser  # imported lazily: builds the Lark tables once

    return parser()


def parse_body(src: str, filename: str) -> n.Body:
    """Parse a whole HCL file into a Body; raise JobspecError on bad syntax."""
    tree = _parse_tree(src, filename, 0)
    conv = Converter(filename, src)
    body = conv.body(tree.children[0])
    conv.diags.raise_if_any()
    return body


def parse_expression(text: str, filename: str, line: int = 1, col: int = 1,
                     offset: int = 0, src: str | None = None) -> n.Expr:
    """Parse one expression that starts at (line, col, offset) in a file."""
    if col < 3:
        prefix, shift, line = "a=", col - 3, 1
    else:
        prefix, shift = "\n" * (line - 1) + " " * (col - 3) + "a=", 0
    full = prefix + text
    delta = offset - len(prefix)
    tree = _parse_tree(full, filename, delta, col_shift=shift)
    conv = Converter(filename, src if src is not None else full, delta, shift)
    body = tree.children[0]
    attrs = [c for c in body.children if isinstance(c, Tree) and c.data != _NL]
    if len(attrs) != 1 or attrs[0].data != "attribute":
        raise JobspecError(Diagnostic("Invalid expression", "Expected exactly one expression.",
                                      n.Range(filename, line, col, line, col)))
    expr = conv.expr(attrs[0].children[-1])
    conv.diags.raise_if_any()
    return expr


def _parse_tree(src: str, filename: str, delta: int, col_shift: int = 0) -> Tree:
    try:
        return _lark_parser().parse(src + "\n")
    except UnexpectedInput as err:
        raise JobspecError(_syntax_diag(err, src, filename, col_shift)) from None
    except (LarkError, RecursionError, ValueError) as err:
        raise JobspecError(Diagnostic("Invalid syntax", str(err).splitlines()[0] if str(err) else "",
                                      n.Range(filename, 1, 1, 1, 1))) from None


def _syntax_diag(err: UnexpectedInput, src: str, filename: str, shift: int) -> Diagnostic:
    line = getattr(err, "line", None) or 1
    col = getattr(err, "column", None) or 1
    if isinstance(err, UnexpectedEOF) or line < 1:
        lines = src.split("\n")
        line, col = len(lines), len(lines[-1]) + 1
        detail = "The file ended before the expected closing bracket or value."
    elif isinstance(err, UnexpectedCharacters):
        detail = f"This character is not used within the language: {src[err.pos_in_stream]!r}." \
            if err.pos_in_stream < len(src) else "Unexpected character."
    elif isinstance(err, UnexpectedToken):
        tok = str(err.token).strip() or repr(str(err.token))
        detail = f"Unexpected {tok!r} here." if err.token.type != "$END" else \
            "The file ended before the expected closing bracket or value."
    else:
        detail = "Invalid syntax."
    if line == 1:
        col += shift
    return Diagnostic("Invalid syntax", detail, n.Range(filename, line, max(col, 1), line, max(col, 1)))


class Converter:
    """Walks python-hcl2's Lark tree and builds :mod:`nodes` objects."""

    def __init__(self, filename: str, src: str, delta: int = 0, col_shift: int = 0):
        self.filename = filename
        self.src = src
        self.delta = delta
        self.col_shift = col_shift
        self.diags = Diags()

    # ------------------------------------------------------------ positions
    def rng(self, item: Any) -> n.Range:
        if isinstance(item, Token):
            line, col = item.line or 1, item.column or 1
            eline, ecol = item.end_line or line, item.end_column or col
            start, end = item.start_pos or 0, item.end_pos or 0
            if isinstance(item.value, str) and item.value and item.value[0] in "\n \t" and item.type != "STRING_CHARS":
                stripped = item.value.lstrip()
                skipped = item.value[: len(item.value) - len(stripped)]
                line += skipped.count("\n")
                col = len(skipped) - skipped.rfind("\n") if "\n" in skipped else col + len(skipped)
                start += len(skipped)
        else:
            meta = item.meta
            if getattr(meta, "empty", True):
                return n.Range(self.filename, 1, 1, 1, 1)
            line, col, eline, ecol = meta.line, meta.column, meta.end_line, meta.end_column
            start, end = meta.start_pos, meta.end_pos
        if line == 1:
            col += self.col_shift
        if eline == 1:
            ecol += self.col_shift
        return n.Range(self.filename, line, col, eline, ecol, start + self.delta, end + self.delta)

    # ------------------------------------------------------------ structure
    def body(self, tree: Tree) -> n.Body:
        attrs: list[n.Attribute] = []
        blocks: list[n.Block] = []
        seen: dict[str, n.Attribute] = {}
        for child in tree.children:
            if not isinstance(child, Tree) or child.data == _NL:
                continue
            if child.data == "attribute":
                attr = self.attribute(child)
                if attr.name in seen:
                    self.diags.error("Attribute redefined",
                                     f'The argument "{attr.name}" was already set at '
                                     f"{seen[attr.name].name_rng}. Each argument may be set only once.",
                                     attr.name_rng)
                    continue
                seen[attr.name] = attr
                attrs.append(attr)
            elif child.data == "block":
                blocks.append(self.block(child))
        return n.Body(attrs, blocks, self.rng(tree))

    def name_of(self, item: Any) -> str:
        if isinstance(item, Token):
            return str(item)
        return str(item.children[0])

    def attribute(self, tree: Tree) -> n.Attribute:
        name_item = tree.children[0]
        expr = self.expr(tree.children[-1])
        name_rng = self.rng(name_item)
        return n.Attribute(self.name_of(name_item), expr, name_rng, name_rng.to(expr.rng))

    def block(self, tree: Tree) -> n.Block:
        parts = [c for c in tree.children if isinstance(c, Tree) and c.data != _NL]
        body_tree = parts[-1]
        head = parts[:-1]
        labels, label_rngs = [], []
        for item in head[1:]:
            label_rngs.append(self.rng(item))
            if item.data == "string":
                tmpl = self.string(item)
                if any(not isinstance(p, str) for p in tmpl.parts):
                    self.diags.error("Invalid block label", "Template sequences are not allowed in block labels.",
                                     tmpl.rng)
                labels.append("".join(p for p in tmpl.parts if isinstance(p, str)))
            else:
                labels.append(self.name_of(item))
        return n.Block(self.name_of(head[0]), labels, self.body(body_tree), self.rng(head[0]),
                       label_rngs, self.rng(tree))

    # ----------------------------------------------------------- expressions
    def expr(self, item: Any) -> n.Expr:
        if isinstance(item, Token):
            return self.token_expr(item)
        method = getattr(self, "x_" + item.data, None)
        if method is None:
            raise JobspecError(Diagnostic("Unsupported expression", f"{item.data} is not supported.",
                                          self.rng(item)))
        return method(item)

    def token_expr(self, tok: Token) -> n.Expr:
        r = self.rng(tok)
        if tok.type in ("INT_LITERAL", "FLOAT_LITERAL"):
            return n.Literal(_number(str(tok), r), r)
        if tok.type in ("HEREDOC_TEMPLATE", "HEREDOC_TEMPLATE_TRIM"):
            from .heredoc import parse_heredoc

            return parse_heredoc(str(tok), r, self)
        if tok.type == "TEMPLATE_STRING":
            return n.TemplateExpr([_unescape(str(tok)[2:-2], r, self.diags)], r)
        if tok.type in ("TRUE", "FALSE", "NULL"):
            return n.Literal({"true": True, "false": False, "null": None}[str(tok)], r)
        return n.Traversal(str(tok), [], r)

    def subtrees(self, tree: Tree) -> list[Tree]:
        return [c for c in tree.children if isinstance(c, Tree) and c.data != _NL]

    def x_expr_term(self, tree: Tree) -> n.Expr:
        kids = [c for c in tree.children if not (isinstance(c, Tree) and c.data == _NL)]
        if len(kids) == 3 and isinstance(kids[0], Token) and kids[0].type == "LPAR":
            return n.Parens(self.expr(kids[1]), self.rng(tree))
        return self.expr(kids[0])

    def x_int_lit(self, tree: Tree) -> n.Expr:
        return self.token_expr(tree.children[0])

    x_float_lit = x_int_lit
    x_heredoc_template = x_int_lit
    x_heredoc_template_trim = x_int_lit
    x_template_string = x_int_lit

    def x_literal_value(self, tree: Tree) -> n.Expr:
        return self.token_expr(tree.children[0])

    def x_identifier(self, tree: Tree) -> n.Expr:
        return n.Traversal(str(tree.children[0]), [], self.rng(tree))

    x_keyword = x_identifier

    def x_string(self, tree: Tree) -> n.Expr:
        return self.string(tree)

    def x_conditional(self, tree: Tree) -> n.Expr:
        c, t, f = self.subtrees(tree)
        cond, other = self.expr(c), self.expr(f)
        return n.Conditional(cond, self.expr(t), other, cond.rng.to(other.rng))

    def x_binary_op(self, tree: Tree) -> n.Expr:
        left, term = self.subtrees(tree)[:2]
        op_tree, right = self.subtrees(term)[:2]
        op = str(op_tree.children[0]).strip()
        lhs, rhs = self.expr(left), self.expr(right)
        return n.BinaryOp(op, lhs, rhs, lhs.rng.to(rhs.rng))

    def x_unary_op(self, tree: Tree) -> n.Expr:
        op = str(tree.children[0]).strip()
        operand = self.expr(tree.children[1])
        if op == "-" and isinstance(operand, n.Literal) and _is_num(operand.value):
            return n.Literal(-operand.value, self.rng(tree))
        return n.UnaryOp(op, operand, self.rng(tree))

    def x_tuple(self, tree: Tree) -> n.Expr:
        return n.TupleCons([self.expr(c) for c in self.subtrees(tree)], self.rng(tree))

    def x_object(self, tree: Tree) -> n.Expr:
        items = []
        for elem in self.subtrees(tree):
            key_tree, value_tree = self.subtrees(elem)[:2]
            key_item = self.subtrees(key_tree)[0] if self.subtrees(key_tree) else key_tree.children[0]
            key = self.expr(key_item)
            if isinstance(key, n.Traversal) and not key.steps:
                key = n.Literal(key.root, key.rng)
            items.append((key, self.expr(value_tree)))
        return n.ObjectCons(items, self.rng(tree))

    def x_function_call(self, tree: Tree) -> n.Expr:
        names = [c for c in tree.children if isinstance(c, Tree) and c.data == "identifier"]
        name = "::".join(str(c.children[0]) for c in names)
        args: list[n.Expr] = []
        expand = False
        for c in tree.children:
            if isinstance(c, Tree) and c.data == "arguments":
                for a in c.children:
                    if isinstance(a, Token):
                        expand = expand or a.type == "ELLIPSIS"
                    elif a.data != _NL:
                        args.append(self.expr(a))
        return n.FunctionCall(name, args, expand, self.rng(names[0]), self.rng(tree))

    def x_get_attr_expr_term(self, tree: Tree) -> n.Expr:
        base = self.expr(tree.children[0])
        step = self.step(tree.children[1])
        return self.extend(base, step, self.rng(tree))

    def x_index_expr_term(self, tree: Tree) -> n.Expr:
        base = self.expr(tree.children[0])
        step = self.step(tree.children[1])
        return self.extend(base, step, self.rng(tree))

    def extend(self, base: n.Expr, step: tuple[str, Any, n.Range], r: n.Range) -> n.Expr:
        kind, key, _ = step
        if isinstance(base, n.Traversal) and (kind == "attr" or _static(key) is not None):
            static = step if kind == "attr" else ("index", _static(key)[0], step[2])
            return n.Traversal(base.root, base.steps + [static], r)
        if kind == "attr":
            return n.GetAttr(base, key, r)
        return n.Index(base, key, r)

    def step(self, tree: Tree) -> tuple[str, Any, n.Range]:
        r = self.rng(tree)
        if tree.data == "get_attr":
            return ("attr", self.name_of(self.subtrees(tree)[0]), r)
        if tree.data == "short_index":
            return ("index", n.Literal(_number(str(tree.children[1]), r), r), r)
        return ("index", self.expr(self.subtrees(tree)[0]), r)

    def splat_steps(self, tree: Tree) -> list[tuple[str, Any, n.Range]]:
        return [self.step(c) for c in self.subtrees(tree)]

    def x_attr_splat_expr_term(self, tree: Tree) -> n.Expr:
        return n.Splat(self.expr(tree.children[0]), self.splat_steps(tree.children[1]), self.rng(tree))

    x_full_splat_expr_term = x_attr_splat_expr_term

    def for_parts(self, tree: Tree) -> tuple[str | None, str, n.Expr, n.Expr | None]:
        intro = next(c for c in self.subtrees(tree) if c.data == "for_intro")
        idents = [str(c.children[0]) for c in self.subtrees(intro) if c.data == "identifier"]
        coll = self.subtrees(intro)[len(idents)]
        cond_tree = next((c for c in self.subtrees(tree) if c.data == "for_cond"), None)
        cond = self.expr(self.subtrees(cond_tree)[0]) if cond_tree is not None else None
        key_var, value_var = (idents[0], idents[1]) if len(idents) == 2 else (None, idents[0])
        return key_var, value_var, self.expr(coll), cond

    def x_for_tuple_expr(self, tree: Tree) -> n.Expr:
        key_var, value_var, coll, cond = self.for_parts(tree)
        value = [c for c in self.subtrees(tree) if c.data not in ("for_intro", "for_cond")][0]
        return n.ForExpr(key_var, value_var, coll, None, self.expr(value), cond, False, self.rng(tree))

    def x_for_object_expr(self, tree: Tree) -> n.Expr:
        key_var, value_var, coll, cond = self.for_parts(tree)
        exprs = [c for c in self.subtrees(tree) if c.data not in ("for_intro", "for_cond")]
        group = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in tree.children)
        return n.ForExpr(key_var, value_var, coll, self.expr(exprs[0]), self.expr(exprs[1]), cond,
                         group, self.rng(tree))

    # -------------------------------------------------------------- templates
    def string(self, tree: Tree) -> n.TemplateExpr:
        flat: list[Any] = []
        for part in tree.children:
            if not isinstance(part, Tree):
                continue
            inner = part.children[0]
            if isinstance(inner, Token) and inner.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                flat.extend(self.escaped_part(inner))
            elif isinstance(inner, Token):
                flat.append(self.literal_part(inner))
            else:
                flat.append(self.directive_part(inner))
        from .heredoc import assemble

        return n.TemplateExpr(assemble(flat, self.rng(tree), self.diags), self.rng(tree))

    def literal_part(self, tok: Token) -> str:
        return _unescape(str(tok), self.rng(tok), self.diags)

    def escaped_part(self, tok: Token) -> list[Any]:
        """``$${...}`` / ``%%{...}``: python-hcl2 lexes up to the first ``}``,
        which may hide a real interpolation (``"$${a.${b}}"``); rescan it."""
        from .heredoc import scan_fragment

        text, r = str(tok), self.rng(tok)
        rest = text[3:]
        head = text[1:3]
        if "${" not in rest and "%{" not in rest:
            return [head + _unescape(rest, r, self.diags)]
        at = n.Range(r.filename, r.line, r.col + 3, r.line, r.col + 3, r.start + 3, r.start + 3)
        parts = scan_fragment(rest, at, self)
        return [head] + [_unescape(p, r, self.diags) if isinstance(p, str) else p for p in parts]

    def directive_part(self, tree: Tree) -> tuple:
        """Return a flat directive marker: (kind, strip_left, strip_right, payload, range)."""
        toks = [c for c in tree.children if isinstance(c, Token)]
        strip_l = len(toks) > 1 and toks[1].type == "STRIP_MARKER"
        strip_r = len(toks) > 1 and toks[-2].type == "STRIP_MARKER"
        r = self.rng(tree)
        if tree.data == "interpolation":
            return ("interp", False, False, self.expr(self.subtrees(tree)[0]), r)
        if tree.data == "template_if_start":
            return ("if", strip_l, strip_r, self.expr(self.subtrees(tree)[0]), r)
        if tree.data == "template_for_start":
            subs = self.subtrees(tree)
            idents = [str(c.children[0]) for c in subs if c.data == "identifier"]
            return ("for", strip_l, strip_r, (idents, self.expr(subs[len(idents)])), r)
        kind = {"template_else": "else", "template_endif": "endif", "template_endfor": "endfor"}[tree.data]
        return (kind, strip_l, strip_r, None, r)


def _static(expr: Any) -> tuple[Any] | None:
    """(value,) if expr is a literal or a template without interpolations."""
    if isinstance(expr, n.Literal):
        return (expr.value,)
    if isinstance(expr, n.TemplateExpr) and all(isinstance(p, str) for p in expr.parts):
        return ("".join(expr.parts),)
    return None


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


MAX_NUMBER_LEN = 400
"""Longest number literal accepted (cty numbers are 512-bit floats: ~155 digits)."""


def _number(text: str, r: n.Range) -> int | float:
    if len(text) > MAX_NUMBER_LEN:
        raise JobspecError(Diagnostic("Invalid number", f"A number literal may have at most "
                                      f"{MAX_NUMBER_LEN} characters.", r))
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    value = float(text)
    return int(value) if value.is_integer() and abs(value) < 2 ** 63 else value


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(text: str, r: n.Range, diags: Diags) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1: i + 2]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in ("u", "U"):
            size = 4 if nxt == "u" else 8
            digits = text[i + 2: i + 2 + size]
            if len(digits) == size and all(d in "0123456789abcdefABCDEF" for d in digits):
                try:
                    out.append(chr(int(digits, 16)))
                except (ValueError, OverflowError):
                    diags.error("Invalid escape sequence", "The \\u escape sequence is not valid.", r)
                i += 2 + size
            else:
                diags.error("Invalid escape sequence", f"The {nxt} escape requires {size} hex digits.", r)
                i += 2
        else:
            diags.error("Invalid escape sequence",
                        f"The symbol {nxt!r} is not a valid escape sequence selector.", r)
            out.append(nxt)
            i += 2
    return "".join(out)
