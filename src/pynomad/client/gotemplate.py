"""A subset of Go's text/template: lexer, parser to a small node tree, evaluator.

    tmpl = Template("name", funcs, left="{{", right="}}", missing_key_error=False)
    tmpl.parse(text)            # GoTemplateError "template: name:LINE: ..." on bad syntax
    out = tmpl.execute(data)    # GoTemplateError "template: name:LINE:COL: executing ..."

Supported: text and actions with `{{- ` / ` -}}` trimming and custom delimiters,
comments, pipelines, variables (`:=`, `=`, `$`), fields on dicts and objects, method
calls on objects (`go_methods`), `if`/`else if`/`else`, `range` (lists; dicts in key
order; `$i, $v :=`; `else`; `break`/`continue`), `with`/`else with`/`else`,
`define`/`template`/`block`, and the builtins (`and or not eq ne lt le gt ge len index
print printf println slice html js urlquery`) with Go's truthiness and printing (see
gofmt). Functions are plain callables; `and`/`or` short-circuit as in Go 1.18+.
Python stands in for Go values as described in gofmt. Pure: no I/O.
"""

from __future__ import annotations

import html as _html
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable

from .gofmt import MISSING, go_type, sorted_keys, sprint, sprint_value, sprintf, sprintln
from .gotemplate_parse import (Action, Branch, Chain, Command, Field, GoTemplateError, Ident,
                               Lexer, Lit, Loop, Node, Parser, Pipe, TemplateCall, Text, Var,
                               line_of)

__all__ = ["GoTemplateError", "RenderBlocked", "Template", "render", "truth", "BUILTINS"]


class RenderBlocked(Exception):
    """Raised by a function whose data is not there yet: aborts the render unwrapped."""


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


# -- builtins ---------------------------------------------------------------------------
def truth(v: Any) -> bool:
    """Go's template truth: false, 0, nil, empty string/slice/map are false."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, (bool, int, float, str, list, tuple, dict)):
        return bool(v)
    return True


def _basic(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if v is None or v is MISSING:
        return "nil"
    return ""


def _eq(a: Any, *bs: Any) -> bool:
    if not bs:
        raise GoTemplateError("missing argument for comparison")
    ka = _basic(a)
    if not ka:
        raise GoTemplateError("invalid type for comparison")
    for b in bs:
        kb = _basic(b)
        if not kb:
            raise GoTemplateError("invalid type for comparison")
        if ka != kb and "nil" not in (ka, kb):
            raise GoTemplateError("incompatible types for comparison")
        if (a in (None, MISSING)) == (b in (None, MISSING)) and a == b or \
                a in (None, MISSING) and b in (None, MISSING):
            return True
    return False


def _lt(a: Any, b: Any) -> bool:
    ka, kb = _basic(a), _basic(b)
    if ka in ("", "bool", "nil") or kb in ("", "bool", "nil"):
        raise GoTemplateError("invalid type for comparison")
    if ka != kb:
        raise GoTemplateError("incompatible types for comparison")
    return a < b


def _len(v: Any) -> int:
    if isinstance(v, (str, list, tuple, dict)):
        return len(v.encode() if isinstance(v, str) else v)
    raise GoTemplateError(f"len of type {go_type(v)}")


def _index(item: Any, *keys: Any) -> Any:
    for k in keys:
        if isinstance(item, dict):
            item = item.get(k, MISSING)
        elif isinstance(item, (list, tuple, str)):
            if not isinstance(k, int) or isinstance(k, bool):
                raise GoTemplateError(f"cannot index slice/array with type {go_type(k)}")
            if not 0 <= k < len(item):
                raise GoTemplateError(f"index out of range: {k}")
            item = item[k] if not isinstance(item, str) else item.encode()[k]
        elif item is None or item is MISSING:
            raise GoTemplateError("index of untyped nil")
        else:
            raise GoTemplateError(f"can't index item of type {go_type(item)}")
    return item


def _slice(item: Any, *idx: int) -> Any:
    if not isinstance(item, (str, list, tuple)):
        raise GoTemplateError(f"can't slice item of type {go_type(item)}")
    if len(idx) > 3 or (len(idx) == 3 and isinstance(item, str)):
        raise GoTemplateError("too many slice indexes")
    n = len(item)
    bounds = list(idx) + [None] * (2 - len(idx[:2]))
    lo, hi = bounds[0] or 0, n if bounds[1] is None else bounds[1]
    if not 0 <= lo <= hi <= n:
        raise GoTemplateError(f"index out of range: {hi if hi > n else lo}")
    return item[lo:hi]


def _js(*args: Any) -> str:
    s = sprint(*args)
    out = []
    for ch in s:
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=":
            out.append(f"\\u{ord(ch):04X}")
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _html_escape(*args: Any) -> str:
    return _html.escape(sprint(*args), quote=True).replace("&#x27;", "&#39;") \
        .replace("&quot;", "&#34;").replace("\0", "\uFFFD")


BUILTINS: dict[str, Callable[..., Any]] = {
    "not": lambda v: not truth(v), "eq": _eq, "ne": lambda a, b: not _eq(a, b),
    "lt": _lt, "le": lambda a, b: _lt(a, b) or _eq(a, b), "gt": lambda a, b: not (_lt(a, b) or _eq(a, b)),
    "ge": lambda a, b: not _lt(a, b), "len": _len, "index": _index, "slice": _slice,
    "print": sprint, "println": sprintln, "printf": sprintf, "html": _html_escape, "js": _js,
    "urlquery": lambda *a: urllib.parse.quote_plus(sprint(*a)),
    "and": lambda *a: a, "or": lambda *a: a,      # short-circuit: handled by the evaluator
    "call": lambda fn, *a: fn(*a),
}


# -- evaluator --------------------------------------------------------------------------
_NOFINAL = object()


@dataclass
class Template:
    name: str
    funcs: dict[str, Callable[..., Any]] = field(default_factory=dict)
    left: str = "{{"
    right: str = "}}"
    missing_key_error: bool = False
    text: str = ""
    root: list[Node] = field(default_factory=list)
    defs: dict[str, list[Node]] = field(default_factory=dict)

    def parse(self, text: str) -> "Template":
        self.text = text
        toks = Lexer(self.name, text, self.left or "{{", self.right or "}}").lex()
        self.root, self.defs = Parser(self.name, text, toks, {**BUILTINS, **self.funcs}).parse()
        return self

    def execute(self, data: Any = None) -> str:
        out: list[str] = []
        _Exec(self, out, data).walk_list(data, self.root)
        return "".join(out)


class _Exec:
    def __init__(self, tmpl: Template, out: list[str], data: Any, depth: int = 0):
        self.t, self.out, self.depth = tmpl, out, depth
        self.vars: list[tuple[str, Any]] = [("$", data)]
        self.node: Node | None = None

    def error(self, msg: str, node: Node | None = None) -> GoTemplateError:
        node = node or self.node
        if node is None:
            return GoTemplateError(f"template: {self.t.name}: {msg}")
        text = self.t.text
        line = line_of(text, node.pos)
        col = node.pos - (text.rfind("\n", 0, node.pos) + 1)
        src = node.src if isinstance(node, Command) else text[node.pos:node.pos + 40].split("}")[0]
        return GoTemplateError(f"template: {self.t.name}:{line}:{col}: executing "
                               f"\"{self.t.name}\" at <{src.strip()}>: {msg}")

    def walk_list(self, dot: Any, nodes: list[Node]) -> None:
        for n in nodes:
            self.walk(dot, n)

    def walk(self, dot: Any, node: Node) -> None:
        if isinstance(node, Text):
            self.out.append(node.text)
        elif isinstance(node, Action):
            val = self.pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.out.append(sprint_value(val))
        elif isinstance(node, Branch):
            mark = len(self.vars)
            try:
                if node.kind == "range":
                    self.walk_range(dot, node)
                else:
                    val = self.pipeline(dot, node.pipe)
                    if truth(val):
                        self.walk_list(val if node.kind == "with" else dot, node.body)
                    elif node.else_body is not None:
                        self.walk_list(dot, node.else_body)
            finally:
                del self.vars[mark:]
        elif isinstance(node, Loop):
            raise _Break() if node.kind == "break" else _Continue()
        elif isinstance(node, TemplateCall):
            body = self.t.defs.get(node.name)
            if body is None:
                raise self.error(f"no such template \"{node.name}\"", node)
            if self.depth > 100:
                raise self.error("exceeded maximum template depth (100)", node)
            new_dot = self.pipeline(dot, node.pipe) if node.pipe else None
            sub = _Exec(self.t, self.out, new_dot, self.depth + 1)
            sub.walk_list(new_dot, body)

    def walk_range(self, dot: Any, node: Branch) -> None:
        val = self.pipeline(dot, node.pipe)
        if isinstance(val, dict):
            items = [(k, val[k]) for k in sorted_keys(val)]
        elif isinstance(val, (list, tuple)):
            items = list(enumerate(val))
        elif val is None or val is MISSING:
            items = []
        elif isinstance(val, int) and not isinstance(val, bool):
            items = [(i, i) for i in range(val)]
        else:
            raise self.error(f"range can't iterate over {sprint_value(val)}", node.pipe.cmds[0])
        decl = node.pipe.decl
        mark = len(self.vars)
        for k, v in items:
            if decl:
                self._set_top(1, v)
                if len(decl) > 1:
                    self._set_top(2, k)
            try:
                self.walk_list(v, node.body)
            except _Continue:
                pass
            except _Break:
                break
            finally:
                del self.vars[mark:]
        if not items and node.else_body is not None:
            self.walk_list(dot, node.else_body)

    def _set_top(self, n: int, value: Any) -> None:
        name, _ = self.vars[-n]
        self.vars[-n] = (name, value)

    def pipeline(self, dot: Any, pipe: Pipe) -> Any:
        value: Any = _NOFINAL
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.assign:
                for i in range(len(self.vars) - 1, -1, -1):
                    if self.vars[i][0] == name:
                        self.vars[i] = (name, value)
                        break
            else:
                self.vars.append((name, value))
        return value

    def command(self, dot: Any, cmd: Command, final: Any) -> Any:
        first = cmd.args[0]
        self.node = cmd
        if isinstance(first, Field):
            return self.field_chain(dot, dot, first.names, cmd.args, final, cmd)
        if isinstance(first, Var):
            value = self.lookup(first.name)
            if not first.names:
                self.not_a_function(cmd, final)
                return value
            return self.field_chain(dot, value, first.names, cmd.args, final, cmd)
        if isinstance(first, Ident):
            return self.call(dot, first.name, cmd.args, final, cmd)
        if isinstance(first, Chain):
            if not first.names:
                self.not_a_function(cmd, final)
            value = self.pipeline(dot, first.node) if isinstance(first.node, Pipe) \
                else self.arg(dot, first.node)
            if not first.names:
                return value
            return self.field_chain(dot, value, first.names, cmd.args, final, cmd)
        self.not_a_function(cmd, final)
        assert isinstance(first, Lit)
        if first.kind == "nil":
            raise self.error("nil is not a command", cmd)
        return dot if first.kind == "dot" else first.value

    def not_a_function(self, cmd: Command, final: Any) -> None:
        if len(cmd.args) > 1 or final is not _NOFINAL:
            raise self.error(f"can't give argument to non-function {cmd.args[0] and cmd.src.split()[0]}", cmd)

    def lookup(self, name: str) -> Any:
        for n, v in reversed(self.vars):
            if n == name:
                return v
        raise self.error(f"undefined variable: {name}")

    def arg(self, dot: Any, node: Node) -> Any:
        if isinstance(node, Lit):
            return dot if node.kind == "dot" else node.value
        if isinstance(node, Field):
            return self.field_chain(dot, dot, node.names, [node], _NOFINAL, node)
        if isinstance(node, Var):
            value = self.lookup(node.name)
            return self.field_chain(dot, value, node.names, [node], _NOFINAL, node) \
                if node.names else value
        if isinstance(node, Ident):
            return self.call(dot, node.name, [node], _NOFINAL, node)
        if isinstance(node, Chain):
            value = self.pipeline(dot, node.node) if isinstance(node.node, Pipe) \
                else self.arg(dot, node.node)
            return self.field_chain(dot, value, node.names, [node], _NOFINAL, node) \
                if node.names else value
        raise self.error(f"can't handle {node!r}", node)

    def field_chain(self, dot: Any, recv: Any, names: list[str], args: list[Node],
                    final: Any, node: Node) -> Any:
        for name in names[:-1]:
            recv = self.field(dot, recv, name, [args[0]], _NOFINAL, node)
        return self.field(dot, recv, names[-1], args, final, node)

    def field(self, dot: Any, recv: Any, name: str, args: list[Node], final: Any,
              node: Node) -> Any:
        has_args = len(args) > 1 or final is not _NOFINAL
        if recv is MISSING:
            if self.t.missing_key_error:
                raise self.error(f"nil data; no entry for key \"{name}\"", node)
            return MISSING
        methods = getattr(type(recv), "go_methods", ())
        if name in methods:
            call_args = [self.arg(dot, a) for a in args[1:]]
            if final is not _NOFINAL:
                call_args.append(final)
            try:
                return getattr(recv, name)(*call_args)
            except GoTemplateError:
                raise
            except Exception as e:  # noqa: BLE001 - reported like Go's "error calling"
                raise self.error(f"error calling {name}: {e}", node) from None
        if has_args:
            raise self.error(f"{name} is not a method but has arguments", node)
        if isinstance(recv, dict):
            if name in recv:
                return recv[name]
            if self.t.missing_key_error:
                raise self.error(f"map has no entry for key \"{name}\"", node)
            return MISSING
        if recv is None:
            raise self.error(f"nil pointer evaluating interface {{}}.{name}", node)
        fields = getattr(type(recv), "go_fields", ())
        if name in fields:
            return getattr(recv, name)
        raise self.error(f"can't evaluate field {name} in type {go_type(recv)}", node)

    def call(self, dot: Any, name: str, args: list[Node], final: Any, node: Node) -> Any:
        fn = self.t.funcs.get(name) or BUILTINS.get(name)
        if fn is None:
            raise self.error(f"\"{name}\" is not a defined function", node)
        if name in ("and", "or") and (self.t.funcs.get(name) is None):
            rest = args[1:]
            if not rest and final is _NOFINAL:
                raise self.error(f"wrong number of args for {name}: want at least 1 got 0", node)
            val: Any = None
            for a in rest:
                val = self.arg(dot, a)
                if truth(val) != (name == "and"):
                    return val
            if final is not _NOFINAL:
                val = final
            return val
        call_args = [self.arg(dot, a) for a in args[1:]]
        if final is not _NOFINAL:
            call_args.append(final)
        try:
            return fn(*call_args)
        except RenderBlocked:
            raise
        except GoTemplateError as e:
            if str(e).startswith("template:"):
                raise
            raise self.error(f"error calling {name}: {e}", node) from None
        except TypeError as e:
            raise self.error(f"wrong number of args for {name}: {e}", node) from None
        except Exception as e:  # noqa: BLE001 - a function's failure fails the render
            raise self.error(f"error calling {name}: {e}", node) from None


def render(name: str, text: str, data: Any = None, funcs: dict[str, Callable] | None = None,
           left: str = "{{", right: str = "}}", missing_key_error: bool = False) -> str:
    """Parse and execute in one go."""
    return Template(name, dict(funcs or {}), left, right, missing_key_error).parse(text) \
        .execute(data)
