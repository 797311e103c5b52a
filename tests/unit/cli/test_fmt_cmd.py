"""``nomad fmt``: canonical layout, -check/-write/-list/-recursive and stdin."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pynomad.jobspec.hclfmt import format_hcl

JOB_IN = '''  job    "job1"   {
  type          = "service"
  datacenters = [   "dc1"  ]
  group "group1"   {
    count = 1
    task "task1" {
      driver   = "exec"
      config   {
            command = "/bin/sleep"
            args = [
          "-c",  "x"
            ]
      }
      resources {
            cpu    = 1000 # cpu
          memory = 512 # mem
       }
}
}
}
'''
JOB_OUT = '''job "job1" {
  type        = "service"
  datacenters = ["dc1"]
  group "group1" {
    count = 1
    task "task1" {
      driver = "exec"
      config {
        command = "/bin/sleep"
        args = [
          "-c", "x"
        ]
      }
      resources {
        cpu    = 1000 # cpu
        memory = 512  # mem
      }
    }
  }
}
'''
AGENT_IN = 'server {\n    enabled = true\n  bootstrap_expect = 1\n}\n\nclient {\n  enabled = true\n}\n'
AGENT_OUT = 'server {\n  enabled          = true\n  bootstrap_expect = 1\n}\n\nclient {\n  enabled = true\n}\n'


@pytest.mark.parametrize("before, after", [
    (JOB_IN, JOB_OUT), (AGENT_IN, AGENT_OUT),
    ('a=1\nbbb  =  "x"\n', 'a   = 1\nbbb = "x"\n'),
    ('x = [ 1,2 , -3 ]\ny = f( a ,b )\nz = a.b [0]\n', 'x = [1, 2, -3]\ny = f(a, b)\nz = a.b[0]\n'),
    ('m = {\na = 1\nbb = "${var.x}  y"\n}\n', 'm = {\n  a  = 1\n  bb = "${var.x}  y"\n}\n'),
    ('t {\n  data = <<EOF\n  keep   this\nEOF\n    x = 1\n}\n', 't {\n  data = <<EOF\n  keep   this\nEOF\n  x    = 1\n}\n'),
    ('c = a ? b : !d\n', 'c = a ? b : !d\n'),
])
def test_format(before: str, after: str) -> None:
    assert format_hcl(before) == after
    assert format_hcl(after) == after


def test_fmt_writes_and_lists(run_cli, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "job.nomad").write_text(JOB_IN)
    (tmp_path / "ok.hcl").write_text(AGENT_OUT)
    (tmp_path / "other.txt").write_text("x   =  1\n")
    monkeypatch.chdir(tmp_path)
    assert run_cli("fmt") == (0, "job.nomad\n", "")
    assert (tmp_path / "job.nomad").read_text() == JOB_OUT
    assert (tmp_path / "other.txt").read_text() == "x   =  1\n"


def test_fmt_check_exits_1_and_writes_nothing(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "a.hcl"
    path.write_text(AGENT_IN)
    code, out, _ = run_cli("fmt", "-check", str(path))
    assert code == 1 and out == f"{path}\n" and path.read_text() == AGENT_IN
    path.write_text(AGENT_OUT)
    assert run_cli("fmt", "-check", str(path)) == (0, "", "")


def test_fmt_write_false_prints(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "a.hcl"
    path.write_text(AGENT_IN)
    code, out, _ = run_cli("fmt", "-write=false", "-list=false", str(path))
    assert code == 0 and out == AGENT_OUT + "\n" and path.read_text() == AGENT_IN


def test_fmt_recursive(run_cli, tmp_path: Path) -> None:
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.hcl").write_text(AGENT_IN)
    assert run_cli("fmt", str(tmp_path)) == (0, "", "")
    assert (sub / "a.hcl").read_text() == AGENT_IN
    code, out, _ = run_cli("fmt", "-recursive", str(tmp_path))
    assert code == 0 and out == f"{sub / 'a.hcl'}\n" and (sub / "a.hcl").read_text() == AGENT_OUT


def test_fmt_stdin(run_cli, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(AGENT_IN))
    assert run_cli("fmt", "-") == (0, AGENT_OUT + "\n", "")


def test_fmt_errors(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.hcl"
    bad.write_text("a = \n")
    code, _, err = run_cli("fmt", str(bad))
    assert code == 1 and f"{bad}:1," in err and bad.read_text() == "a = \n"
    code, _, err = run_cli("fmt", str(tmp_path / "missing.hcl"))
    assert code == 1 and "No file or directory at" in err
    txt = tmp_path / "x.txt"
    txt.write_text("")
    code, _, err = run_cli("fmt", str(txt))
    assert code == 1 and "Only .nomad and .hcl files can be processed using nomad fmt" in err
