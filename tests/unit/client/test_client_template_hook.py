"""The template hook renders env lookups, honors perms and env templates, rejects escapes."""

import os

import pytest

from pynomad.client.taskenv import TaskEnv
from pynomad.client.template_hook import TemplateError, render_templates


def test_renders_env_lookups_with_perms(tmp_path):
    env = TaskEnv(env={"NOMAD_ALLOC_ID": "abc"})
    extra = render_templates([{"EmbeddedTmpl": 'id={{ env "NOMAD_ALLOC_ID" }}\n',
                               "DestPath": "local/out.sh", "Perms": "755"}], str(tmp_path), env)
    out = tmp_path / "local" / "out.sh"
    assert out.read_text() == "id=abc\n"
    assert oct(os.stat(out).st_mode & 0o777) == "0o755"
    assert extra == {}


def test_env_templates_add_variables(tmp_path):
    extra = render_templates([{"EmbeddedTmpl": "A=1\nB = \"two\"\n", "DestPath": "secrets/x.env",
                               "Envvars": True}], str(tmp_path), TaskEnv())
    assert extra == {"A": "1", "B": "two"}


def test_unsupported_actions_and_escapes_are_errors(tmp_path):
    with pytest.raises(TemplateError, match="unsupported"):
        render_templates([{"EmbeddedTmpl": '{{ key "x" }}', "DestPath": "local/a"}],
                         str(tmp_path), TaskEnv())
    with pytest.raises(TemplateError, match="escapes"):
        render_templates([{"EmbeddedTmpl": "x", "DestPath": "../../etc/x"}], str(tmp_path),
                         TaskEnv())
