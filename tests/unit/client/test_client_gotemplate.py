"""The Go text/template subset: each construct, trimming, printing, errors with lines."""

import pytest

from pynomad.client.gofmt import format_float, sprintf
from pynomad.client.gotemplate import GoTemplateError, render


def r(text, data=None, **kw):
    return render("t", text, data, **kw)


@pytest.mark.parametrize("text,data,want", [
    ("plain text", None, "plain text"),
    ("a {{ .x }} b", {"x": 1}, "a 1 b"),
    ("{{ .a.b.c }}", {"a": {"b": {"c": "deep"}}}, "deep"),
    ("{{ . }}", "dot", "dot"),
    ("{{ .missing }}", {}, "<no value>"),
    ("{{ .m }}", {"m": {"b": 2, "a": [1, None]}}, "map[a:[1 <nil>] b:2]"),
    ("{{ .l }}", {"l": [1.5, "x", True]}, "[1.5 x true]"),
    ("{{ 1.0 }} {{ 2.50 }} {{ 1e6 }} {{ 0x10 }} {{ 'a' }} {{ -3 }}", None,
     "1 2.5 1e+06 16 97 -3"),
    ('{{ "a\\tb" }}|{{ `raw\\n` }}', None, "a\tb|raw\\n"),
    ("{{ true }} {{ false }}", None, "true false"),
])
def test_values_print_like_go(text, data, want):
    assert r(text, data) == want


def test_trim_markers():
    assert r("a  {{- 1 -}}  \n b") == "a1b"
    assert r("a {{- 1 }} b") == "a1 b"
    assert r("a {{-3}} b") == "a -3 b"            # a number, not a trim marker


def test_comments():
    assert r("a{{/* note */}}b") == "ab"
    assert r("a  {{- /* note */ -}}  b") == "ab"


def test_custom_delimiters():
    assert r("[[ .x ]] {{ .x }}", {"x": 1}, left="[[", right="]]") == "1 {{ .x }}"
    assert r("<%- .x -%>", {"x": 2}, left="<%", right="%>") == "2"


def test_if_else_if_else():
    t = "{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}"
    assert r(t, {"a": 1}) == "A"
    assert r(t, {"b": "x"}) == "B"
    assert r(t, {"a": 0, "b": ""}) == "C"


@pytest.mark.parametrize("value,want", [
    (0, "F"), (1, "T"), ("", "F"), ("x", "T"), ([], "F"), ([0], "T"), ({}, "F"),
    ({"a": 1}, "T"), (None, "F"), (0.0, "F"), (False, "F"),
])
def test_truthiness(value, want):
    assert r("{{ if .v }}T{{ else }}F{{ end }}", {"v": value}) == want


def test_range_lists_maps_and_else():
    assert r("{{ range .l }}<{{ . }}>{{ end }}", {"l": ["a", "b"]}) == "<a><b>"
    assert r("{{ range $i, $v := .l }}{{ $i }}={{ $v }} {{ end }}", {"l": ["a", "b"]}) \
        == "0=a 1=b "
    assert r("{{ range $k, $v := .m }}{{ $k }}{{ $v }}{{ end }}", {"m": {"b": 2, "a": 1}}) \
        == "a1b2"
    assert r("{{ range $v := .m }}{{ $v }}{{ end }}", {"m": {"b": 2, "a": 1}}) == "12"
    assert r("{{ range .l }}x{{ else }}empty{{ end }}", {"l": []}) == "empty"
    assert r("{{ range .nope }}x{{ else }}none{{ end }}", {}) == "none"


def test_range_break_continue():
    t = ("{{ range .l }}{{ if eq . 2 }}{{ continue }}{{ end }}"
         "{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}")
    assert r(t, {"l": [1, 2, 3, 4, 5]}) == "13"


def test_with_else():
    assert r("{{ with .a }}{{ .b }}{{ end }}", {"a": {"b": "hi"}}) == "hi"
    assert r("{{ with .a }}x{{ else }}no{{ end }}", {"a": ""}) == "no"
    assert r("{{ with $x := .a }}{{ $x }}{{ end }}", {"a": 3}) == "3"


def test_variables_scope_and_assign():
    assert r("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}") == "2"
    assert r("{{ with .a }}{{ $.b }}{{ end }}", {"a": 1, "b": "root"}) == "root"
    assert r("{{ $m := .m }}{{ $m.k }}", {"m": {"k": "v"}}) == "v"


def test_pipelines_and_parens():
    assert r('{{ "abc" | printf "%s!" }}') == "abc!"
    assert r("{{ (index .l 0).x }}", {"l": [{"x": "y"}]}) == "y"
    assert r('{{ printf "%s-%s" "a" ("b" | printf "%s") }}') == "a-b"


def test_define_template_block():
    t = ('{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" 5 }}'
         '{{ block "b" "z" }}<{{ . }}>{{ end }}')
    assert r(t) == "[5]<z>"


@pytest.mark.parametrize("text,want", [
    ("{{ and 1 0 }} {{ and 1 2 }}", "0 2"),
    ('{{ or 0 "" "z" }} {{ or 0 "" }}', "z "),
    ("{{ not 0 }} {{ not 1 }}", "true false"),
    ("{{ eq 1 2 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ le 2 2 }}", "true true true true"),
    ("{{ gt 3 2 }} {{ ge 2.5 2.5 }} {{ lt \"a\" \"b\" }}", "true true true"),
    ('{{ len "héllo" }} {{ len .l }} {{ index .l 1 }} {{ index .m "a" }}', "6 3 2 A"),
    ('{{ slice "hello" 1 3 }} {{ slice .l 1 }}', "el [2 3]"),
    ("{{ html \"<a href='x'>\" }}", "&lt;a href=&#39;x&#39;&gt;"),
    ("{{ js \"it's <b>\" }}", "it\\'s \\u003Cb\\u003E"),
    ('{{ urlquery "a b&c" }}', "a+b%26c"),
    ('{{ print 1 2 "a" "b" 3 }}', "1 2ab3"),
    ('{{ println 1 "a" }}', "1 a\n"),
])
def test_builtins(text, want):
    assert r(text, {"l": [1, 2, 3], "m": {"a": "A"}}) == want


def test_and_or_short_circuit():
    assert r("{{ and 0 (index .l 9) }}", {"l": []}) == "0"
    assert r("{{ or 1 (index .l 9) }}", {"l": []}) == "1"


@pytest.mark.parametrize("fmt,args,want", [
    ("%d", (42,), "42"), ("%5d|%-5d|%05d", (1, 2, 3), "    1|2    |00003"),
    ("%x %X %o %b %#x", (255, 255, 8, 5, 255), "ff FF 10 101 0xff"),
    ("%f %.2f %e %g", (3.5, 3.14159, 1234.5, 1e7), "3.500000 3.14 1.234500e+03 1e+07"),
    ("%v %v %v", (1.0, 0.1, 123456789.0), "1 0.1 1.23456789e+08"),
    ("%t %v", (True, False), "true false"),
    ("%s %q %v", ("a", 'b"', "c"), 'a "b\\"" c'),
    ("%v", ({"b": 1, "a": [1, 2]},), "map[a:[1 2] b:1]"),
    ("%T %T %T %T", (1, 1.0, "s", True), "int float64 string bool"),
    ("%d", ("x",), "%!d(string=x)"), ("%d %s", (1,), "1 %!s(MISSING)"),
    ("%d", (1, 2), "1%!(EXTRA int=2)"), ("100%%", (), "100%"),
])
def test_printf_go_formats(fmt, args, want):
    assert sprintf(fmt, *args) == want


def test_float_formatting_matches_strconv():
    assert [format_float(f) for f in (1.0, 123456.0, 1234567.0, 0.0001, 0.00001, -2.5)] == \
        ["1", "123456", "1.234567e+06", "0.0001", "1e-05", "-2.5"]


@pytest.mark.parametrize("text,msg", [
    ("{{ if .a }}x", "template: t:1: unexpected EOF"),
    ("a\n{{ end }}", "template: t:2: unexpected {{end}}"),
    ("{{ foo }}", 'template: t:1: function "foo" not defined'),
    ("x\ny {{ $x }}", 'template: t:2: undefined variable "$x"'),
    ('{{ "open }}', "template: t:1: unterminated quoted string"),
    ("{{ }}", "template: t:1: missing value for command"),
    ("a\nb\n{{ .x ", "template: t:3: unclosed action"),
    ("{{/* x", "template: t:1: unclosed comment"),
    ("{{ else }}", "template: t:1: unexpected {{else}}"),
    ("{{ break }}", "template: t:1: {{break}} outside {{range}}"),
])
def test_parse_errors_name_the_line(text, msg):
    with pytest.raises(GoTemplateError) as err:
        r(text)
    assert str(err.value) == msg


@pytest.mark.parametrize("text,msg", [
    ("\n {{ .a.b }}", 'template: t:2:4: executing "t" at <.a.b>: '
     "nil pointer evaluating interface {}.b"),
    ("{{ index .l 5 }}", 'template: t:1:3: executing "t" at <index .l 5>: '
     "error calling index: index out of range: 5"),
    ('{{ eq 1 "a" }}', "error calling eq: incompatible types for comparison"),
    ("{{ 3 4 }}", "can't give argument to non-function 3"),
    ('{{ range "s" }}{{ end }}', "range can't iterate over s"),
    ("{{ len 3 }}", "error calling len: len of type int"),
    ('{{ template "nope" }}', 'no such template "nope"'),
])
def test_exec_errors(text, msg):
    with pytest.raises(GoTemplateError) as err:
        r(text, {"a": None, "l": [1]})
    assert msg in str(err.value)


def test_missing_key_error_option():
    assert r("{{ .q }}", {}) == "<no value>"
    with pytest.raises(GoTemplateError, match='t:2:3: .*map has no entry for key "q"'):
        r("x\n{{ .q }}", {}, missing_key_error=True)


def test_custom_functions_and_errors():
    def boom(x):
        raise ValueError("bad " + x)
    assert render("t", '{{ up "a" }}', funcs={"up": str.upper}) == "A"
    with pytest.raises(GoTemplateError, match="error calling boom: bad z"):
        render("t", '{{ boom "z" }}', funcs={"boom": boom})
