"""Lexer and parser of the Go text/template subset (see gotemplate): source text to a
small node tree. Errors are `template: NAME:LINE: msg` like Go's. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


class GoTemplateError(Exception):
    pass


# -- lexer ----------------------------------------------------------------------------
KEYWORDS = {"block", "break", "continue", "define", "else", "end", "if", "range", "nil",
            "template", "with", "true", "false"}
SPACE = " \t\r\n"


@dataclass
class Tok:
    typ: str        # text ldelim rdelim space field var ident kw str num char bool nil
    val: Any        # ( ) | , := = eof
    pos: int


class Lexer:
    def __init__(self, name: str, text: str, left: str, right: str):
        self.name, self.text, self.left, self.right = name, text, left, right
        self.toks: list[Tok] = []
        self.pos = 0
        self.paren = 0

    def error(self, pos: int, msg: str) -> GoTemplateError:
        return GoTemplateError(f"template: {self.name}:{line_of(self.text, pos)}: {msg}")

    def lex(self) -> list[Tok]:
        text, left = self.text, self.left
        trim_next = False
        while True:
            i = text.find(left, self.pos)
            end = len(text) if i < 0 else i
            chunk = text[self.pos:end]
            if trim_next:
                chunk = chunk.lstrip(SPACE)
            trim = i >= 0 and text.startswith("-", i + len(left)) \
                and text[i + len(left) + 1:i + len(left) + 2] in tuple(SPACE)
            if trim:
                chunk = chunk.rstrip(SPACE)
            if chunk:
                self.toks.append(Tok("text", chunk, self.pos))
            if i < 0:
                self.toks.append(Tok("eof", None, len(text)))
                return self.toks
            self.pos = i + len(left) + (2 if trim else 0)
            trim_next = self._action(i)

    def _right_at(self, p: int) -> tuple[bool, int]:
        """(is the right delimiter here, length incl. a ` -` trim marker or -1 if none)."""
        t = self.text
        if t[p:p + 1] in tuple(SPACE) and t.startswith("-" + self.right, p + 1):
            return True, len(self.right) + 2
        if t.startswith(self.right, p):
            return True, -1
        return False, 0

    def _action(self, start: int) -> bool:
        """Lex one action from self.pos; returns whether it trims the following text."""
        t = self.text
        if t.startswith("/*", self.pos):                        # comment
            j = t.find("*/", self.pos + 2)
            if j < 0:
                raise self.error(start, "unclosed comment")
            ok, n = self._right_at(j + 2)
            if not ok:
                raise self.error(start, "comment ends before closing delimiter")
            self.pos = j + 2 + (n if n > 0 else len(self.right))
            return n > 0
        self.toks.append(Tok("ldelim", None, start))
        self.paren = 0
        while True:
            p = self.pos
            if p >= len(t):
                raise self.error(start, "unclosed action")
            if self.paren == 0:
                ok, n = self._right_at(p)
                if ok:
                    self.toks.append(Tok("rdelim", None, p))
                    self.pos = p + (n if n > 0 else len(self.right))
                    return n > 0
            c = t[p]
            if c in SPACE:
                j = p
                while j < len(t) and t[j] in SPACE and not (self.paren == 0 and self._right_at(j)[1] > 0):
                    j += 1
                if j == p:      # " -}}" handled above
                    j = p + 1
                self.toks.append(Tok("space", None, p))
                self.pos = j
            elif t.startswith(":=", p):
                self._emit(":=", ":=", 2)
            elif c in "=|,":
                self._emit(c, c, 1)
            elif c == "(":
                self.paren += 1
                self._emit("(", c, 1)
            elif c == ")":
                self.paren -= 1
                if self.paren < 0:
                    raise self.error(p, "unexpected right paren")
                self._emit(")", c, 1)
            elif c == '"':
                self._quoted(p)
            elif c == "`":
                j = t.find("`", p + 1)
                if j < 0:
                    raise self.error(p, "unterminated raw quoted string")
                self.toks.append(Tok("str", t[p + 1:j], p))
                self.pos = j + 1
            elif c == "'":
                self._char(p)
            elif c == "$" or c == "." and not t[p + 1:p + 2].isdigit():
                j = p + 1
                while j < len(t) and (t[j].isalnum() or t[j] == "_"):
                    j += 1
                name = t[p:j]
                if c == "$":
                    self.toks.append(Tok("var", name, p))
                else:
                    self.toks.append(Tok("field" if len(name) > 1 else "dot", name[1:], p))
                self.pos = j
            elif c.isdigit() or c in "+-." and t[p + 1:p + 2].isdigit() or \
                    c in "+-" and t[p + 1:p + 2] == ".":
                self._number(p)
            elif c.isalpha() or c == "_":
                j = p
                while j < len(t) and (t[j].isalnum() or t[j] == "_"):
                    j += 1
                word = t[p:j]
                typ = ("bool" if word in ("true", "false") else "nil" if word == "nil"
                       else "kw" if word in KEYWORDS else "ident")
                self.toks.append(Tok(typ, word == "true" if typ == "bool" else word, p))
                self.pos = j
            else:
                raise self.error(p, f"unrecognized character in action: {c!r}")

    def _emit(self, typ: str, val: Any, n: int) -> None:
        self.toks.append(Tok(typ, val, self.pos))
        self.pos += n

    def _quoted(self, p: int) -> None:
        t = self.text
        j = p + 1
        while j < len(t) and t[j] != '"':
            if t[j] == "\\":
                j += 1
            if j < len(t) and t[j] == "\n":
                raise self.error(p, "unterminated quoted string")
            j += 1
        if j >= len(t):
            raise self.error(p, "unterminated quoted string")
        self.toks.append(Tok("str", unquote(t[p + 1:j], lambda m: self.error(p, m)), p))
        self.pos = j + 1

    def _char(self, p: int) -> None:
        t = self.text
        j = p + 1
        while j < len(t) and t[j] != "'":
            j += 2 if t[j] == "\\" else 1
        s = unquote(t[p + 1:j], lambda m: self.error(p, m))
        if j >= len(t) or len(s) != 1:
            raise self.error(p, "malformed character constant")
        self.toks.append(Tok("num", ord(s), p))
        self.pos = j + 1

    def _number(self, p: int) -> None:
        t = self.text
        j = p + 1 if t[p] in "+-" else p
        while j < len(t) and (t[j].isalnum() or t[j] in "._" or
                              t[j] in "+-" and t[j - 1] in "eEpP" and not
                              t[p:j].lower().startswith(("0x", "-0x", "+0x"))):
            j += 1
        s = t[p:j]
        self.toks.append(Tok("num", parse_number(s, lambda m: self.error(p, m)), p))
        self.pos = j


def parse_number(s: str, err: Callable[[str], Exception]) -> int | float:
    clean = s.replace("_", "")
    body = clean.lstrip("+-")
    try:
        if body[:2].lower() in ("0x", "0o", "0b") and "." not in body and "p" not in body.lower():
            return int(clean, 0)
        if any(c in body for c in ".eE") and not body[:2].lower() == "0x":
            return float(clean)
        if len(body) > 1 and body[0] == "0":
            return int(clean, 8)
        return int(clean)
    except ValueError:
        raise err(f"bad number syntax: {s!r}") from None


_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a",
        "b": "\b", "f": "\f", "v": "\v"}


def unquote(s: str, err: Callable[[str], Exception]) -> str:
    """Go's strconv.Unquote of the inside of a quoted string."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = s[i + 1:i + 2]
        if e in _ESC:
            out.append(_ESC[e])
            i += 2
        elif e in ("x", "u", "U"):
            n = {"x": 2, "u": 4, "U": 8}[e]
            try:
                out.append(chr(int(s[i + 2:i + 2 + n], 16)))
            except ValueError:
                raise err("invalid syntax") from None
            i += 2 + n
        elif e in "01234567" and e:
            out.append(chr(int(s[i + 1:i + 4], 8)))
            i += 4
        else:
            raise err(f"invalid syntax: unknown escape sequence \\{e}")
    return "".join(out)


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


# -- nodes ------------------------------------------------------------------------------
@dataclass
class Node:
    pos: int


@dataclass
class Text(Node):
    text: str


@dataclass
class Lit(Node):             # bool, number, string, nil, dot (value is None then)
    kind: str
    value: Any


@dataclass
class Field(Node):           # .A.B
    names: list[str]


@dataclass
class Var(Node):             # $x.A.B
    name: str
    names: list[str]


@dataclass
class Ident(Node):           # a function
    name: str


@dataclass
class Chain(Node):           # (pipe).A.B
    node: Node
    names: list[str]


@dataclass
class Command(Node):
    args: list[Node]
    src: str = ""


@dataclass
class Pipe(Node):
    decl: list[str]
    assign: bool
    cmds: list[Command]


@dataclass
class Action(Node):
    pipe: Pipe


@dataclass
class Branch(Node):          # if / range / with
    kind: str
    pipe: Pipe
    body: list[Node]
    else_body: list[Node] | None


@dataclass
class TemplateCall(Node):
    name: str
    pipe: Pipe | None


@dataclass
class Loop(Node):            # break / continue
    kind: str


@dataclass
class _End(Node):
    pass


@dataclass
class _Else(Node):
    chained: str = ""        # "if"/"with" for `else if` / `else with`


# -- parser -----------------------------------------------------------------------------
class Parser:
    def __init__(self, name: str, text: str, toks: list[Tok], funcs: dict[str, Any]):
        self.name, self.text, self.toks, self.funcs = name, text, toks, funcs
        self.i = 0
        self.vars = ["$"]
        self.range_depth = 0
        self.defs: dict[str, list[Node]] = {}

    def error(self, pos: int, msg: str) -> GoTemplateError:
        return GoTemplateError(f"template: {self.name}:{line_of(self.text, pos)}: {msg}")

    def next(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def peek(self) -> Tok:
        return self.toks[self.i]

    def next_ns(self) -> Tok:
        tok = self.next()
        while tok.typ == "space":
            tok = self.next()
        return tok

    def peek_ns(self) -> Tok:
        j = self.i
        while self.toks[j].typ == "space":
            j += 1
        return self.toks[j]

    def parse(self) -> tuple[list[Node], dict[str, list[Node]]]:
        root: list[Node] = []
        while self.peek().typ != "eof":
            if self.peek().typ == "ldelim" and self._peek_define():
                continue
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                raise self.error(node.pos, f"unexpected {{{{{'end' if isinstance(node, _End) else 'else'}}}}}")
            root.append(node)
        return root, self.defs

    def _peek_define(self) -> bool:
        j = self.i + 1
        while self.toks[j].typ == "space":
            j += 1
        if not (self.toks[j].typ == "kw" and self.toks[j].val == "define"):
            return False
        self.i = j + 1
        tok = self.next_ns()
        if tok.typ != "str":
            raise self.error(tok.pos, "define: expected quoted template name")
        self.expect_rdelim("define")
        saved, self.vars = self.vars, ["$"]
        body, end = self.item_list()
        self.vars = saved
        if not isinstance(end, _End):
            raise self.error(end.pos, "unexpected {{else}} in define")
        self.defs[tok.val] = body
        return True

    def expect_rdelim(self, context: str) -> None:
        tok = self.next_ns()
        if tok.typ != "rdelim":
            raise self.unexpected(tok, context)

    def unexpected(self, tok: Tok, context: str) -> GoTemplateError:
        what = {"rdelim": "}}", "eof": "EOF"}.get(tok.typ, tok.val)
        if tok.typ == "eof":
            return self.error(tok.pos, "unexpected EOF")
        return self.error(tok.pos, f"unexpected {str(what)!r} in {context}".replace("'", '"'))

    def item_list(self) -> tuple[list[Node], Node]:
        out: list[Node] = []
        while True:
            if self.peek().typ == "eof":
                raise self.error(self.peek().pos, "unexpected EOF")
            node = self.text_or_action()
            if isinstance(node, (_End, _Else)):
                return out, node
            out.append(node)

    def text_or_action(self) -> Node:
        tok = self.next()
        if tok.typ == "text":
            return Text(tok.pos, tok.val)
        if tok.typ == "ldelim":
            return self.action(tok)
        raise self.unexpected(tok, "input")

    def action(self, start: Tok) -> Node:
        tok = self.peek_ns()
        if tok.typ == "kw":
            self.next_ns()
            kw = tok.val
            if kw == "end":
                self.expect_rdelim("end")
                return _End(tok.pos)
            if kw == "else":
                nxt = self.peek_ns()
                if nxt.typ == "kw" and nxt.val in ("if", "with"):
                    return _Else(tok.pos, nxt.val)
                self.expect_rdelim("else")
                return _Else(tok.pos)
            if kw in ("if", "with"):
                return self.control(kw, tok.pos)
            if kw == "range":
                self.range_depth += 1
                try:
                    return self.control(kw, tok.pos)
                finally:
                    self.range_depth -= 1
            if kw in ("break", "continue"):
                if not self.range_depth:
                    raise self.error(tok.pos, f"{{{{{kw}}}}} outside {{{{range}}}}")
                self.expect_rdelim(kw)
                return Loop(tok.pos, kw)
            if kw in ("template", "block"):
                return self.template_call(kw, tok.pos)
            if kw == "define":
                raise self.error(tok.pos, "unexpected define: define is only allowed at top level")
        return Action(start.pos, self.pipeline("command", "rdelim"))

    def control(self, kind: str, pos: int) -> Branch:
        mark = len(self.vars)
        pipe = self.pipeline(kind, "rdelim")
        body, nxt = self.item_list()
        else_body = None
        if isinstance(nxt, _Else):
            if nxt.chained and nxt.chained == kind and kind in ("if", "with"):
                self.next_ns()    # the chained keyword; its {{end}} closes both
                else_body = [self.control(kind, nxt.pos)]
            elif nxt.chained:
                raise self.error(nxt.pos, f"expected end; found {{{{else {nxt.chained}}}}}")
            else:
                else_body, nxt = self.item_list()
                if not isinstance(nxt, _End):
                    raise self.error(nxt.pos, "expected end; found {{else}}")
        del self.vars[mark:]
        return Branch(pos, kind, pipe, body, else_body)

    def template_call(self, kw: str, pos: int) -> Node:
        tok = self.next_ns()
        if tok.typ != "str":
            raise self.unexpected(tok, f"{kw} clause")
        pipe = None
        if self.peek_ns().typ != "rdelim":
            pipe = self.pipeline(f"{kw} clause", "rdelim")
        else:
            self.next_ns()
        if kw == "block":
            saved, self.vars = self.vars, ["$"]
            body, end = self.item_list()
            self.vars = saved
            if not isinstance(end, _End):
                raise self.error(end.pos, "unexpected {{else}} in block")
            self.defs.setdefault(tok.val, body)
        return TemplateCall(pos, tok.val, pipe)

    def pipeline(self, context: str, end: str) -> Pipe:
        start = self.peek_ns().pos
        decl: list[str] = []
        assign = False
        while self.peek_ns().typ == "var":
            j = self.i
            v = self.next_ns()
            after = self.peek_ns()
            if after.typ in (":=", "="):
                self.next_ns()
                assign = after.typ == "="
                if assign and v.val not in self.vars:
                    raise self.error(v.pos, f"undefined variable \"{v.val}\"")
                decl.append(v.val)
                if not assign:
                    self.vars.append(v.val)
                break
            if after.typ == "," and context == "range" and not decl:
                self.next_ns()
                decl.append(v.val)
                self.vars.append(v.val)
                continue
            if after.typ == ",":
                raise self.error(after.pos, f"too many declarations in {context}")
            self.i = j
            break
        cmds: list[Command] = []
        while True:
            tok = self.next_ns()
            if tok.typ == end:
                if not cmds:
                    raise self.error(tok.pos, f"missing value for {context}")
                for k, c in enumerate(cmds[1:], 2):
                    if isinstance(c.args[0], Lit):
                        raise self.error(c.pos, f"non executable command in pipeline stage {k}")
                return Pipe(start, decl, assign, cmds)
            if tok.typ in ("bool", "num", "str", "nil", "dot", "field", "var", "ident", "("):
                self.i -= 1
                cmds.append(self.command())
            else:
                raise self.unexpected(tok, context)

    def command(self) -> Command:
        start = self.peek_ns().pos
        args: list[Node] = []
        while True:
            self.peek_ns()
            while self.peek().typ == "space":
                self.next()
            node = self.operand()
            if node is None:
                break
            args.append(node)
            tok = self.peek()
            if tok.typ == "space":
                continue
            if tok.typ in ("rdelim", ")"):
                break
            if tok.typ == "|":
                break
            raise self.unexpected(tok, "operand")
        if not args:
            raise self.error(start, "empty command")
        end = self.peek().pos
        if self.peek().typ == "|":
            self.next()
        return Command(start, args, self.text[start:end].strip())

    def operand(self) -> Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == "field":
            names = []
            while self.peek().typ == "field":
                names.append(self.next().val)
            if isinstance(node, Field):
                node.names += names
            elif isinstance(node, Var):
                node.names += names
            elif isinstance(node, Lit) and node.kind != "dot":
                raise self.error(node.pos, f"unexpected . after term {self.text[node.pos:self.peek().pos]!r}")
            else:
                node = Chain(node.pos, node, names)
        return node

    def term(self) -> Node | None:
        tok = self.peek()
        typ = tok.typ
        if typ == "ident":
            self.next()
            if tok.val not in self.funcs:
                raise self.error(tok.pos, f"function \"{tok.val}\" not defined")
            return Ident(tok.pos, tok.val)
        if typ in ("bool", "num", "str", "nil", "dot"):
            self.next()
            return Lit(tok.pos, typ, tok.val if typ != "nil" else None)
        if typ == "var":
            self.next()
            if tok.val not in self.vars:
                raise self.error(tok.pos, f"undefined variable \"{tok.val}\"")
            return Var(tok.pos, tok.val, [])
        if typ == "field":
            self.next()
            return Field(tok.pos, [tok.val])
        if typ == "(":
            self.next()
            pipe = self.pipeline("parenthesized pipeline", ")")
            return Chain(tok.pos, pipe, [])
        return None


