"""HCL2 semantics: variables, locals, expressions, functions, templates, dynamic."""

from __future__ import annotations

from pathlib import Path

import pytest

from pynomad.jobspec import JobspecError, parse_job, parse_job_file

from .conftest import job, task


def parse(src: str, **kw) -> dict:
    kw.setdefault("env", {})
    return parse_job(src, "vars.nomad.hcl", **kw)


VARS = '''
variable "region" {
  type = string
  default = "global"
}
variable "count" {
  type = number
  default = 1
}
variable "dcs" {
  type = list(string)
  default = ["dc1"]
}
variable "flag" {
  type = bool
  default = false
}
job "j" {
  region = var.region
  datacenters = var.dcs
  meta {
    flag = var.flag
  }
  group "g" {
    count = var.count
  }
}
'''


def test_variable_defaults() -> None:
    j = parse(VARS)
    assert (j["Region"], j["Datacenters"], j["Meta"], j["TaskGroups"][0]["Count"]) == ("global", ["dc1"], {"flag": "false"}, 1)


def test_variable_precedence_env_file_args(tmp_path: Path) -> None:
    hcl_file = tmp_path / "a.vars.hcl"
    hcl_file.write_text('count = 3\ndcs = ["f1", "f2"]\n')
    json_file = tmp_path / "b.json"
    json_file.write_text('{"flag": true}')
    env = {"NOMAD_VAR_region": "from-env", "NOMAD_VAR_count": "2", "NOMAD_VAR_dcs": '["e1"]', "OTHER": "x"}
    j = parse(VARS, env=env, var_files=[str(hcl_file), str(json_file)], variables={"region": "from-arg"})
    assert j["Region"] == "from-arg"
    assert j["TaskGroups"][0]["Count"] == 3
    assert j["Datacenters"] == ["f1", "f2"]
    assert j["Meta"] == {"flag": "true"}
    j = parse(VARS, env=env)
    assert (j["Region"], j["TaskGroups"][0]["Count"], j["Datacenters"]) == ("from-env", 2, ["e1"])


def test_undefined_variable_values_strict_and_lenient(tmp_path: Path) -> None:
    with pytest.raises(JobspecError, match='Undefined -var variable'):
        parse(VARS, variables={"nope": "1"})
    assert parse(VARS, variables={"nope": "1"}, strict=False)["Region"] == "global"
    f = tmp_path / "x.hcl"
    f.write_text('nope = 1\n')
    with pytest.raises(JobspecError, match="Undefined variable"):
        parse(VARS, var_files=[str(f)])
    assert parse(VARS, var_files=[str(f)], strict=False)["Region"] == "global"


def test_var_file_with_declaration_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "x.hcl"
    f.write_text('variable "a" {}\n')
    with pytest.raises(JobspecError, match="Variable declaration in a .var file"):
        parse(VARS, var_files=[str(f)])


def test_bad_variable_value_type() -> None:
    with pytest.raises(JobspecError, match="not compatible with the variable's type constraint"):
        parse(VARS, variables={"count": "many"})
    with pytest.raises(JobspecError, match="not compatible"):
        parse('variable "a" {\n type = number\n default = "x"\n}\njob "j" {}')


def test_variable_validation() -> None:
    src = '''
variable "port" {
  type = number
  default = 80
  validation {
    condition = var.port > 1024
    error_message = "The port must be above 1024."
  }
}
job "j" {}
'''
    with pytest.raises(JobspecError, match="The port must be above 1024"):
        parse(src)
    assert parse(src, variables={"port": "8080"})["ID"] == "j"


def test_variables_block_and_untyped_variable() -> None:
    j = parse('variables {\n a = "x"\n n = 2\n}\nvariable "u" {}\njob "j" {\n region = "${var.a}${var.n}${var.u}"\n}',
              variables={"u": "!"})
    assert j["Region"] == "x2!"


def test_locals_in_any_order() -> None:
    j = parse('''
locals {
  full = "${local.base}-${var.env}"
}
locals {
  base = upper("svc")
}
variable "env" {
  default = "prod"
}
job "j" {
  name = local.full
}
''')
    assert j["Name"] == "SVC-prod" and j["ID"] == "j"


def test_locals_cycle_is_an_error() -> None:
    with pytest.raises(JobspecError):
        parse('locals {\n a = local.b\n b = local.a\n}\njob "j" {}')


def test_runtime_interpolations_stay_literal() -> None:
    t = task('''
      config {
        a = "${node.unique.name}"
        b = "${ attr.kernel.name }"
        c = "x-${meta.rack}-y"
        d = "${NOMAD_ALLOC_DIR}/data"
        e = "${env["HOME"]}"
        f = "$${escaped}"
        g = "${node.class}${node.datacenter}"
      }
    ''')
    assert t["Config"] == {"a": "${node.unique.name}", "b": "${ attr.kernel.name }", "c": "x-${meta.rack}-y",
                           "d": "${NOMAD_ALLOC_DIR}/data", "e": '${env["HOME"]}', "f": "${escaped}",
                           "g": "${node.class}${node.datacenter}"}


@pytest.mark.parametrize("expr, want", [
    ('upper("a")', "A"), ('lower("AB")', "ab"), ('format("%s-%03d", "x", 7)', "x-007"),
    ('join(",", ["a", "b"])', "a,b"), ('split(",", "a,b")', ["a", "b"]), ("concat([1], [2, 3])", [1, 2, 3]),
    ('length("abc")', 3), ("length([1, 2])", 2), ('lookup({a = 1}, "b", 5)', 5),
    ("merge({a = 1}, {b = 2})", {"a": 1, "b": 2}), ('coalesce(null, "x")', "x"), ("min(3, 1, 2)", 1),
    ("max(3, 1, 2)", 3), ("abs(-4)", 4), ("ceil(1.2)", 2), ("floor(1.8)", 1), ('replace("a-b", "-", "_")', "a_b"),
    ('trimspace("  x ")', "x"), ('jsonencode({b = [1, true], a = "<"})', '{"a":"\\u003c","b":[1,true]}'),
    ('jsondecode("{\\"a\\": [1, 2.5]}")', {"a": [1, 2.5]}), ("range(3)", [0, 1, 2]), ("range(1, 7, 2)", [1, 3, 5]),
    ('element(["a", "b"], 3)', "b"), ('keys({b = 1, a = 2})', ["a", "b"]), ("values({b = 1, a = 2})", [2, 1]),
    ('contains(["a"], "a")', True), ('substr("hello", 1, 3)', "ell"), ('base64encode("hi")', "aGk="),
    ('base64decode("aGk=")', "hi"), ('regex_replace("a1b2", "[0-9]", "#")', "a#b#"), ("10 / 4", 2.5),
    ("7 % 3", 1), ('"5" + 1', 6), ('1 == "1"', False), ("!true || 2 > 1", True), ('true ? "y" : "n"', "y"),
    ("[for s in [\"a\", \"b\"] : upper(s) if s != \"b\"]", ["A"]), ("{for k, v in {a = 1} : v => k}", {"1": "a"}),
    ("[{n = 1}, {n = 2}][*].n", [1, 2]), ('title("hello world")', "Hello World"), ('chomp("x\\n\\n")', "x"),
    ('formatlist("%s!", ["a", "b"])', ["a!", "b!"]), ('try(var.missing, "fallback")', "fallback"),
    ("can(var.missing)", False), ('convert("5", number)', 5), ('sha256("")', "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ('cidrsubnet("10.0.0.0/8", 8, 2)', "10.2.0.0/16"), ('cidrhost("10.0.0.0/24", 5)', "10.0.0.5"),
    ('flatten([[1], [2, [3]]])', [1, 2, 3]), ('distinct([1, 1, 2])', [1, 2]), ('reverse("abc")', "cba"),
    ('zipmap(["a"], [1])', {"a": 1}), ('parseint("ff", 16)', 255), ('indent(2, "a\\nb")', "a\n  b"),
    ('setproduct(["a"], [1, 2])', [["a", 1], ["a", 2]]), ('"%{ if true }yes%{ else }no%{ endif }"', "yes"),
    ('"%{ for x in [1, 2] }[${x}]%{ endfor }"', "[1][2]"), ('upper(["a", "b"]...)', None),
])
def test_expressions_and_functions(expr: str, want) -> None:
    src = f'locals {{\n  v = {expr}\n}}\njob "j" {{\n meta = {{ v = jsonencode(local.v) }}\n}}'
    if want is None:
        with pytest.raises(JobspecError):
            parse(src)
        return
    import json
    got = json.loads(parse(src)["Meta"]["v"])
    assert got == want


def test_uuidv4_is_random() -> None:
    a = job('meta {\n id = uuidv4()\n}')["Meta"]["id"]
    assert len(a) == 36 and a.count("-") == 4


def test_heredocs() -> None:
    t = task('''
      template {
        destination = "local/a"
        data = <<EOT
first ${upper("x")}
  second {{ key "k" }}
EOT
      }
      template {
        destination = "local/b"
        data = <<-EOT
          a
            b
          %{~ for n in ["x", "y"] }
          ${n}
          %{~ endfor }
          EOT
      }
    ''')
    a, b = t["Templates"]
    assert a["EmbeddedTmpl"] == 'first X\n  second {{ key "k" }}\n'
    assert b["EmbeddedTmpl"] == "a\n  b\nx\ny\n"


def test_dynamic_blocks() -> None:
    j = job('''
      dynamic "constraint" {
        for_each = ["a", "b"]
        iterator = c
        content {
          attribute = "$${meta.${c.value}}"
          value = c.key
        }
      }
      group "g" {
        task "t" {
          dynamic "artifact" {
            for_each = { x = "https://x", y = "https://y" }
            content {
              source = artifact.value
              destination = "local/${artifact.key}"
            }
          }
        }
      }
    ''')
    assert [(c["LTarget"], c["RTarget"]) for c in j["Constraints"]] == [("${meta.a}", "0"), ("${meta.b}", "1")]
    arts = j["TaskGroups"][0]["Tasks"][0]["Artifacts"]
    assert [(a["GetterSource"], a["RelativeDest"]) for a in arts] == [("https://x", "local/x"), ("https://y", "local/y")]


def test_dynamic_labels_for_groups() -> None:
    j = job('''
      dynamic "group" {
        for_each = ["web", "api"]
        labels = [group.value]
        content {
          count = group.key + 1
          task "t" {
            driver = "raw_exec"
          }
        }
      }
    ''')
    assert [(g["Name"], g["Count"]) for g in j["TaskGroups"]] == [("web", 1), ("api", 2)]


def test_file_function_relative_to_job_file(tmp_path: Path) -> None:
    (tmp_path / "script.sh").write_text("echo hi\n")
    jf = tmp_path / "job.nomad.hcl"
    jf.write_text('job "j" {\n group "g" {\n task "t" {\n template {\n data = file("script.sh")\n'
                  ' destination = "local/s.sh"\n }\n }\n }\n}\n')
    t = parse_job_file(str(jf), env={})["TaskGroups"][0]["Tasks"][0]
    assert t["Templates"][0]["EmbeddedTmpl"] == "echo hi\n"
    with pytest.raises(JobspecError, match="filesystem function disabled"):
        parse_job_file(str(jf), env={}, allow_fs=False)


def test_template_wrap_keeps_type() -> None:
    j = job('priority = "${50 + 1}"\ngroup "g" {\n count = "${2}"\n}')
    assert j["Priority"] == 51 and j["TaskGroups"][0]["Count"] == 2


def test_number_and_bool_conversions() -> None:
    j = job('priority = "70"\nall_at_once = "true"\ndatacenters = [1, 2]')
    assert (j["Priority"], j["AllAtOnce"], j["Datacenters"]) == (70, True, ["1", "2"])
    with pytest.raises(JobspecError, match="whole number"):
        job("priority = 1.5")
