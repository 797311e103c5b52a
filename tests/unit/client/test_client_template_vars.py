"""consul-template functions, Nomad variables in templates, and the task runner's wiring
of Variables.Read/List through the server RPC (a fake RPC here)."""

import asyncio
import os

import pytest
from client_helpers import FakeClock, make_alloc

from pynomad.client.allocdir import AllocDir
from pynomad.client.taskenv import TaskEnv
from pynomad.client.taskrunner import TaskRunner
from pynomad.client.template_hook import (MissingVariable, RemoteVars, TemplateError, render,
                                          render_templates)
from pynomad.drivers.mock import MockDriver
from pynomad.structs import Task

VAR = {"Namespace": "default", "Path": "nomad/jobs/web", "Items": {"password": "s3cret",
                                                                    "user": "me"},
       "CreateIndex": 5, "ModifyIndex": 7, "CreateTime": 1_700_000_000_000_000_000,
       "ModifyTime": 1_700_000_000_500_000_000}


class FakeVars:
    def __init__(self, vars_):
        self.vars = {v["Path"]: v for v in vars_}
        self.reads = []

    def read(self, path):
        self.reads.append(path)
        return self.vars.get(path)

    def list(self, prefix):
        return [{k: v for k, v in var.items() if k != "Items"}
                for path, var in self.vars.items() if path.startswith(prefix)]


def rv(text, vars_=(VAR,), env=None):
    return render(text, TaskEnv(env=env or {}), name="t", vars=FakeVars(list(vars_)))


@pytest.mark.parametrize("text,want", [
    ('{{ with nomadVar "nomad/jobs/web" }}{{ .password }}{{ end }}', "s3cret"),
    ('{{ with nomadVar "nomad/jobs/web@default" }}{{ .user }}{{ end }}', "me"),
    ('{{ with nomadVar "nomad/jobs/web" }}{{ .Items.password }}{{ end }}', "s3cret"),
    ('{{ with nomadVar "nomad/jobs/web" }}{{ .Metadata.Path }}/{{ .Metadata.ModifyIndex }}'
     '{{ end }}', "nomad/jobs/web/7"),
    ('{{ (nomadVar "nomad/jobs/web").Metadata.CreateTime }}', "2023-11-14 22:13:20 +0000 UTC"),
    ('{{ with nomadVar "nomad/jobs/web" }}{{ .Keys }} {{ .Values }}{{ end }}',
     "[password user] [s3cret me]"),
    ('{{ range (nomadVar "nomad/jobs/web").Tuples }}{{ .K }}={{ .V }};{{ end }}',
     "password=s3cret;user=me;"),
    ('{{ range $k, $v := nomadVar "nomad/jobs/web" }}{{ $k }}:{{ $v.Value }} {{ end }}',
     "password:s3cret user:me "),
    ('{{ (nomadVar "nomad/jobs/web").password | toUpper }}', "S3CRET"),
    ('{{ nomadVarExists "nomad/jobs/web" }} {{ nomadVarExists "nomad/jobs/x" }}', "true false"),
    ('{{ if nomadVarExists "nomad/jobs/x" }}{{ nomadVar "nomad/jobs/x" }}{{ else }}no{{ end }}',
     "no"),
    ('{{ range nomadVarList }}{{ . }},{{ end }}', "nomad/jobs/web,"),
    ('{{ range nomadVarList "nomad/jobs" }}{{ .Path }}@{{ .Namespace }}{{ end }}',
     "nomad/jobs/web@default"),
    ('{{ range nomadVarList "other" }}x{{ else }}none{{ end }}', "none"),
])
def test_nomad_var_functions(text, want):
    assert rv(text) == want


def test_missing_variable_blocks_the_render():
    with pytest.raises(MissingVariable) as err:
        rv('{{ with nomadVar "nomad/jobs/gone" }}{{ . }}{{ end }}')
    assert err.value.path == "nomad/jobs/gone"


def test_without_a_variable_source_nomad_var_is_an_error():
    with pytest.raises(TemplateError, match="nomad variables are not available"):
        render('{{ nomadVar "a" }}', TaskEnv(), name="t")


@pytest.mark.parametrize("text,want", [
    ('{{ env "A" }}|{{ env "NOPE" }}', "1|"),
    ('{{ "Hello" | toUpper }} {{ "Hello" | toLower }} {{ "hello world" | title }}',
     "HELLO hello Hello World"),
    ('{{ "  x \\n" | trimSpace }}', "x"),
    ('{{ "a,b,c" | split "," | join "-" }}', "a-b-c"),
    ('{{ "a.b.c" | replaceAll "." "/" }}', "a/b/c"),
    ('{{ "foobar" | hasPrefix "foo" }} {{ "foobar" | hasSuffix "foo" }}', "true false"),
    ('{{ $l := "a,b" | split "," }}{{ $l | contains "b" }} {{ $l | contains "z" }}',
     "true false"),
    ('{{ "seafood" | contains "foo" }}', "true"),
    ('{{ (parseJSON "{\\"a\\": [1, 2], \\"b\\": {\\"c\\": true}}").b.c }}', "true"),
    ('{{ (parseJSON "{\\"n\\": 3}").n }}', "3"),
    ('{{ parseJSON "{\\"b\\": 1, \\"a\\": \\"<x>\\"}" | toJSON }}',
     '{"a":"\\u003cx\\u003e","b":1}'),
    ('{{ "x" | base64Encode }} {{ "eA==" | base64Decode }}', "eA== x"),
    ('{{ "abc" | sha256Hex }}', "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ('{{ "abc" | md5sum }}', "900150983cd24fb0d6963f7d28e17f72"),
    ("{{ range loop 3 }}{{ . }}{{ end }} {{ range loop 2 4 }}{{ . }}{{ end }}", "012 23"),
    ("{{ 2 | add 1 }} {{ 5 | subtract 2 }} {{ 3 | multiply 4 }} {{ 10 | divide 3 }} "
     "{{ 10 | modulo 3 }} {{ 2 | minimum 5 }} {{ 2 | maximum 5 }}", "3 3 12 3 1 2 5"),
    ('{{ 7.5 | divide 2 }}', "3.75"),
    ('{{ sprig_upper "a" }} {{ sprig_default "d" "" }} {{ sprig_join "," (sprig_list 1 2) }}',
     "A d 1,2"),
    ('{{ toYAML (parseJSON "{\\"a\\": {\\"b\\": \\"c\\"}}") }}', "a:\n  b: c"),
])
def test_consul_template_functions(text, want):
    assert rv(text, env={"A": "1"}) == want


def test_timestamp_formats():
    assert rv('{{ timestamp "unix" }}').isdigit()
    assert rv("{{ timestamp }}").endswith("Z")
    assert len(rv('{{ timestamp "2006-01-02" }}')) == 10


@pytest.mark.parametrize("fn,system", [("key", "consul"), ("service", "consul"),
                                       ("secret", "vault")])
def test_unconfigured_integrations_name_the_function(fn, system):
    with pytest.raises(TemplateError) as err:
        rv(f'\n{{{{ {fn} "x" }}}}')
    msg = str(err.value)
    assert msg.startswith("template: t:2:3: ")
    assert f"{system} is not configured" in msg and f'"{fn}"' in msg


def test_error_on_missing_key_template_option(tmp_path):
    tmpl = {"EmbeddedTmpl": "{{ with nomadVar \"nomad/jobs/web\" }}{{ .nope }}{{ end }}",
            "DestPath": "local/a"}
    render_templates([tmpl], str(tmp_path), TaskEnv(), FakeVars([VAR]))
    assert (tmp_path / "local" / "a").read_text() == "<no value>"
    with pytest.raises(TemplateError, match='template: local/a:1:.*no entry for key "nope"'):
        render_templates([dict(tmpl, ErrMissingKey=True)], str(tmp_path), TaskEnv(),
                         FakeVars([VAR]))


def test_remote_vars_runs_calls_on_the_loop_and_caches():
    calls = []

    async def read(path):
        calls.append(("read", path, asyncio.get_running_loop()))
        return VAR if path == VAR["Path"] else None

    async def list_(prefix):
        calls.append(("list", prefix, asyncio.get_running_loop()))
        return [VAR]

    async def main():
        loop = asyncio.get_running_loop()
        src = RemoteVars(loop, read, list_)
        text = ('{{ with nomadVar "nomad/jobs/web" }}{{ .password }}{{ end }}'
                '{{ (nomadVar "nomad/jobs/web").user }}{{ len nomadVarList }}')
        out = await asyncio.to_thread(render, text, TaskEnv(), name="t", vars=src)
        return out, loop
    out, loop = asyncio.run(main())
    assert out == "s3cretme1"
    assert [c[:2] for c in calls] == [("read", "nomad/jobs/web"), ("list", "")]
    assert all(c[2] is loop for c in calls)


class FakeRPC:
    """Variables.Read answers "missing" `missing_reads` times, then the variable."""

    def __init__(self, missing_reads=0):
        self.missing_reads = missing_reads
        self.calls = []

    async def call(self, method, args, reply_type=None, timeout_s=None):
        self.calls.append((method, dict(args)))
        if method == "Variables.Read":
            if self.missing_reads > 0:
                self.missing_reads -= 1
                return {"Data": None}
            return {"Data": VAR if args["Path"] == VAR["Path"] else None}
        if method == "Variables.List":
            return {"Data": [{k: v for k, v in VAR.items() if k != "Items"}]}
        raise AssertionError(method)


def _runner(client_config, rpc, clock):
    task = Task(Name="t", Driver="mock_driver", Config={"run_for": "0s"},
                Templates=[{"EmbeddedTmpl": '{{ with nomadVar "nomad/jobs/web" }}'
                            'pw={{ .password }}{{ end }}\n'
                            '{{ range nomadVarList }}{{ . }}\n{{ end }}',
                            "DestPath": "local/out.txt", "Perms": "600"}])
    alloc = make_alloc([task], job_type="batch")
    return TaskRunner(alloc=alloc, task=task,
                      alloc_dir=AllocDir(client_config.alloc_root, alloc.ID),
                      driver=MockDriver(clock=clock), node=None, config=client_config,
                      clock=clock, rpc=rpc)


def test_task_runner_renders_variables_through_rpc(client_config):
    clock = FakeClock()
    rpc = FakeRPC()

    async def main():
        tr = _runner(client_config, rpc, clock)
        tr.start_gate.set()
        await asyncio.wait_for(tr.run(), 30)
        return tr
    tr = asyncio.run(main())
    out = os.path.join(tr.alloc_dir.task_dir("t").local_dir, "out.txt")
    with open(out) as f:
        assert f.read() == "pw=s3cret\nnomad/jobs/web\n"
    assert oct(os.stat(out).st_mode & 0o777) == "0o600"
    read = next(args for m, args in rpc.calls if m == "Variables.Read")
    assert read == {"AllocID": tr.alloc.ID, "Task": "t", "NodeSecretID": "",
                    "Path": "nomad/jobs/web"}
    assert tr.state.State == "dead" and not tr.state.Failed


def test_task_runner_waits_for_a_missing_variable(client_config):
    clock = FakeClock()
    rpc = FakeRPC(missing_reads=3)

    async def main():
        tr = _runner(client_config, rpc, clock)
        tr.start_gate.set()
        await asyncio.wait_for(tr.run(), 30)
        return tr
    tr = asyncio.run(main())
    events = [(e.Type, e.DisplayMessage) for e in tr.state.Events]
    assert ("Template", "Missing: nomad.var.block(nomad/jobs/web@default.global)") in events
    assert [t for t, _ in events].count("Template") == 1
    assert "Started" in [t for t, _ in events] and not tr.state.Failed
    assert sum(1 for m, _ in rpc.calls if m == "Variables.Read") == 4


def test_task_runner_killed_while_waiting_for_a_variable(client_config):
    clock = FakeClock()
    rpc = FakeRPC(missing_reads=10**9)

    async def main():
        tr = _runner(client_config, rpc, clock)
        tr.start_gate.set()
        run = asyncio.ensure_future(tr.run())
        while not any(e.Type == "Template" for e in tr.state.Events):
            await asyncio.sleep(0.01)
        await tr.kill()
        await run
        return tr
    tr = asyncio.run(asyncio.wait_for(main(), 30))
    types = [e.Type for e in tr.state.Events]
    assert tr.state.State == "dead" and "Started" not in types and "Killed" in types
