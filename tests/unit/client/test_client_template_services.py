"""`nomadService` / `nomadServices` in templates: query forms, fields, tag filters,
rendezvous hashing, RemoteVars and the task runner's ServiceRegistration.List calls
(a fake RPC here)."""

import asyncio
import hashlib
import os

import pytest
from client_helpers import FakeClock, make_alloc

from pynomad.client.allocdir import AllocDir
from pynomad.client.taskenv import TaskEnv
from pynomad.client.taskrunner import TaskRunner
from pynomad.client.template_funcs import choose_services, service_hash_with
from pynomad.client.template_hook import RemoteVars, TemplateError, render
from pynomad.drivers.mock import MockDriver
from pynomad.structs import Task


def reg(i, name="web", tags=("http",), port=None, ns="default"):
    return {"ID": f"_nomad-task-a{i}-g-{name}-http", "ServiceName": name, "Namespace": ns,
            "NodeID": f"node{i}", "Datacenter": "dc1", "JobID": "job", "AllocID": f"a{i}",
            "Tags": list(tags), "Address": f"10.0.0.{i}", "Port": port or 8000 + i,
            "CreateIndex": 10, "ModifyIndex": 10}


REGS = {"web": [reg(1, tags=("http", "v1")), reg(2, tags=("http", "v2"))],
        "db": [reg(3, name="db", tags=("sql",))]}


class FakeSource:
    def __init__(self, regs=None):
        self.regs = REGS if regs is None else regs
        self.calls = []

    def read(self, path):
        return None

    def list(self, prefix):
        return []

    def services(self, name):
        self.calls.append(name)
        if not name:
            return [{"ServiceName": n, "Tags": sorted({t for r in rs for t in r["Tags"]})}
                    for n, rs in sorted(self.regs.items())]
        return list(self.regs.get(name, []))


def rs(text, source=None, env=None):
    return render(text, TaskEnv(env=env or {}), name="t", vars=source or FakeSource())


@pytest.mark.parametrize("text,want", [
    ('{{ range nomadService "web" }}{{ .Address }}:{{ .Port }};{{ end }}',
     "10.0.0.1:8001;10.0.0.2:8002;"),
    ('{{ range nomadService "web" }}{{ .ServiceName }}/{{ .Name }}/{{ .NodeID }}/{{ .Node }}'
     '/{{ .AllocID }}/{{ .JobID }}/{{ .Datacenter }}/{{ .Namespace }}/{{ .Tags }}|{{ end }}',
     "web/web/node1/node1/a1/job/dc1/default/[http v1]|"
     "web/web/node2/node2/a2/job/dc1/default/[http v2]|"),
    ('{{ range nomadService "web" }}{{ .ID }}\n{{ end }}',
     "_nomad-task-a1-g-web-http\n_nomad-task-a2-g-web-http\n"),
    ('{{ range nomadService "v2.web" }}{{ .Address }}{{ end }}', "10.0.0.2"),
    ('{{ range nomadService "http.web" }}{{ .Port }} {{ end }}', "8001 8002 "),
    ('{{ range nomadService "nope.web" }}{{ .Port }}{{ end }}', ""),
    ('{{ range nomadService "web@global" }}{{ .Port }} {{ end }}', "8001 8002 "),
    ('{{ range nomadService "missing" }}x{{ else }}none{{ end }}', "none"),
    ('{{ len (nomadService "web") }}', "2"),
    ('{{ range nomadService "web" }}{{ if .Tags.Contains "v1" }}{{ .Port }}{{ end }}{{ end }}',
     "8001"),
    ('{{ range nomadServices }}{{ .Name }}={{ .Tags }};{{ end }}',
     "db=[sql];web=[http v1 v2];"),
    ('{{ range nomadServices }}{{ .Name }}:{{ range nomadService .Name }}{{ .Port }},'
     '{{ end }} {{ end }}', "db:8003, web:8001,8002, "),
    ('{{ (index (nomadService "db") 0).Address }}', "10.0.0.3"),
    ('{{ range nomadService "web" }}{{ .Tags | toJSON }}{{ end }}', '["http","v1"]["http","v2"]'),
])
def test_nomad_service_functions(text, want):
    assert rs(text) == want


def test_lookups_are_cached_per_render_by_the_remote_source_only_once_per_name():
    src = FakeSource()
    rs('{{ range nomadService "web" }}{{ end }}{{ range nomadService "v1.web" }}{{ end }}', src)
    assert src.calls == ["web", "web"]      # FakeSource is uncached; RemoteVars caches


@pytest.mark.parametrize("text,msg", [
    ('{{ nomadService }}', "expected 1 or 3 arguments, got 0"),
    ('{{ nomadService "a" "b" }}', "expected 1 or 3 arguments, got 2"),
    ('{{ nomadService "bad name!" }}', "invalid format"),
    ('{{ nomadService "x" "key" "web" }}', "invalid count"),
    ('{{ nomadService 1 "" "web" }}', "invalid choose"),
])
def test_nomad_service_errors(text, msg):
    with pytest.raises(TemplateError) as err:
        rs(text)
    assert msg in str(err.value) and str(err.value).startswith("template: t:1:3: ")


def test_without_a_service_source_the_render_fails():
    class VarsOnly:
        def read(self, path):
            return None

        def list(self, prefix):
            return []
    for text in ('{{ nomadService "web" }}', "{{ nomadServices }}"):
        with pytest.raises(TemplateError, match="nomad service discovery is not available"):
            render(text, TaskEnv(), name="t", vars=VarsOnly())
        with pytest.raises(TemplateError, match="not available"):
            render(text, TaskEnv(), name="t", vars=None)


def test_hash_with_matches_nomads_layout():
    r = reg(1, port=300)          # 300 as a uvarint is ac 02
    want = hashlib.md5(b"\xac\x02" + b"a1" + r["ID"].encode() + b"default" + b"10.0.0.1"
                       + b"web" + b"http" + b"key").hexdigest()
    assert service_hash_with(r, "key") == want


def test_rendezvous_hashing_is_stable_and_minimally_disruptive():
    regs = [reg(i) for i in range(1, 11)]
    by_key = {k: [r["ID"] for r in choose_services(regs, 3, k)] for k in ("a", "b", "c")}
    assert all(len(v) == 3 for v in by_key.values())
    assert len({tuple(v) for v in by_key.values()}) > 1          # keys spread the load
    assert [r["ID"] for r in choose_services(list(reversed(regs)), 3, "a")] == by_key["a"]
    # removing an instance that was not chosen leaves the choice alone
    unchosen = next(r for r in regs if r["ID"] not in by_key["a"])
    rest = [r for r in regs if r is not unchosen]
    assert [r["ID"] for r in choose_services(rest, 3, "a")] == by_key["a"]
    assert len(choose_services(regs[:2], 5, "a")) == 2


def test_nomad_service_choose_form_in_a_template():
    regs = {"web": [reg(i) for i in range(1, 8)]}
    text = ('{{ $alloc := env "NOMAD_ALLOC_ID" }}'
            '{{ range nomadService 2 $alloc "web" }}{{ .Address }} {{ end }}')
    out = rs(text, FakeSource(regs), env={"NOMAD_ALLOC_ID": "alloc-1"})
    want = [r["Address"] for r in choose_services(regs["web"], 2, "alloc-1")]
    assert out.split() == want and len(want) == 2
    assert rs(text, FakeSource(regs), env={"NOMAD_ALLOC_ID": "alloc-1"}) == out
    # a tag filter applies before choosing
    tagged = rs('{{ range nomadService 5 "k" "nope.web" }}x{{ end }}', FakeSource(regs))
    assert tagged == ""


def test_remote_vars_runs_service_lookups_on_the_loop_and_caches():
    calls = []

    async def services(name):
        calls.append((name, asyncio.get_running_loop()))
        return FakeSource().services(name)

    async def nothing(_):
        return None

    async def main():
        loop = asyncio.get_running_loop()
        src = RemoteVars(loop, nothing, nothing, services=services)
        text = ('{{ range nomadService "web" }}{{ .Port }},{{ end }}'
                '{{ range nomadService "v2.web" }}{{ .Port }}{{ end }}'
                '{{ range nomadServices }} {{ .Name }}{{ end }}')
        return await asyncio.to_thread(render, text, TaskEnv(), name="t", vars=src), loop
    out, loop = asyncio.run(main())
    assert out == "8001,8002,8002 db web"
    assert [c[0] for c in calls] == ["web", ""]
    assert all(c[1] is loop for c in calls)


def test_remote_vars_reports_rpc_errors_and_missing_service_fetcher():
    async def boom(_):
        raise RuntimeError("server down")

    async def main():
        loop = asyncio.get_running_loop()
        with_err = RemoteVars(loop, boom, boom, services=boom)
        without = RemoteVars(loop, boom, boom)
        errs = []
        for src in (with_err, without):
            try:
                await asyncio.to_thread(render, '{{ nomadService "web" }}', TaskEnv(),
                                        name="t", vars=src)
            except TemplateError as e:
                errs.append(str(e))
        return errs
    errs = asyncio.run(main())
    assert "nomad services: server down" in errs[0]
    assert "nomad service discovery is not available" in errs[1]


class FakeRPC:
    def __init__(self):
        self.calls = []

    async def call(self, method, args, reply_type=None, timeout_s=None):
        self.calls.append((method, dict(args)))
        if method == "ServiceRegistration.List":
            return {"Services": FakeSource().services(args["ServiceName"])}
        raise AssertionError(method)


def test_task_runner_renders_services_through_rpc(client_config):
    clock = FakeClock()
    rpc = FakeRPC()
    task = Task(Name="t", Driver="mock_driver", Config={"run_for": "0s"},
                Templates=[{"EmbeddedTmpl": '{{ range nomadService "web" }}'
                            '{{ .Address }}:{{ .Port }}\n{{ end }}'
                            '{{ range nomadServices }}{{ .Name }}\n{{ end }}'
                            '{{ range nomadService "none" }}x{{ end }}',
                            "DestPath": "local/out.txt"}])
    alloc = make_alloc([task], job_type="batch")

    async def main():
        tr = TaskRunner(alloc=alloc, task=task,
                        alloc_dir=AllocDir(client_config.alloc_root, alloc.ID),
                        driver=MockDriver(clock=clock), node=None, config=client_config,
                        clock=clock, rpc=rpc)
        tr.start_gate.set()
        await asyncio.wait_for(tr.run(), 30)
        return tr
    tr = asyncio.run(main())
    with open(os.path.join(tr.alloc_dir.task_dir("t").local_dir, "out.txt")) as f:
        assert f.read() == "10.0.0.1:8001\n10.0.0.2:8002\ndb\nweb\n"
    assert rpc.calls == [
        ("ServiceRegistration.List", {"AllocID": alloc.ID, "ServiceName": name,
                                      "NodeSecretID": ""}) for name in ("web", "", "none")]
    assert tr.state.State == "dead" and not tr.state.Failed
