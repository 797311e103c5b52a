"""``nomad service list|info|delete`` against a fake HTTP API: Nomad's output layouts."""

from __future__ import annotations

REGS = [{"ID": "_nomad-task-5f0730ca-b055-52ac-f56e-358f3f7412f6-group-cache-db",
         "ServiceName": "cache", "Namespace": "default",
         "NodeID": "7406e90b-de16-d118-80fe-60d0f2730cb3", "Datacenter": "dc1",
         "JobID": "example", "AllocID": "5f0730ca-b055-52ac-f56e-358f3f7412f6",
         "Tags": ["db", "cache"], "Address": "127.0.0.1", "Port": 22686,
         "CreateIndex": 10, "ModifyIndex": 10}]


def test_list_table_and_all_namespaces(fake_nomad, run_cli):
    fake_nomad.route("GET", "/v1/services", [
        {"Namespace": "platform", "Services": [{"ServiceName": "redis", "Tags": []}]},
        {"Namespace": "default", "Services": [{"ServiceName": "cache", "Tags": ["cache", "db"]}]}])
    code, out, _ = run_cli("service", "list")
    assert code == 0
    assert out.splitlines()[0] == "Service Name  Tags"
    code, out, _ = run_cli("service", "list", "-namespace=*")
    assert out == ("Service Name  Namespace  Tags\n"
                   "cache         default    [cache,db]\n"
                   "redis         platform   []\n")


def test_list_empty_and_error(fake_nomad, run_cli):
    fake_nomad.route("GET", "/v1/services", [])
    assert run_cli("service", "list")[1] == "No service registrations found\n"
    fake_nomad.route("GET", "/v1/services", "Permission denied", status=403)
    code, _, err = run_cli("service", "list")
    assert code == 1 and "Error listing service registrations" in err


def test_info_table_verbose_and_tag(fake_nomad, run_cli):
    fake_nomad.route("GET", "/v1/service/cache", REGS)
    code, out, _ = run_cli("service", "info", "cache")
    assert code == 0 and out == ("Job ID   Address          Tags        Node ID   Alloc ID\n"
                                 "example  127.0.0.1:22686  [db,cache]  7406e90b  5f0730ca\n")
    code, out, _ = run_cli("service", "info", "-verbose", "cache")
    assert out.splitlines()[0] == f"ID           = {REGS[0]['ID']}"
    assert "Address      = 127.0.0.1:22686" in out and "Tags         = [db,cache]" in out
    run_cli("service", "info", "-tag=db", "cache")
    assert fake_nomad.requests[-1][2]["tag"] == ["db"]
    code, _, err = run_cli("service", "info")
    assert code == 1 and "This command takes one argument" in err


def test_delete(fake_nomad, run_cli):
    fake_nomad.route("DELETE", f"/v1/service/cache/{REGS[0]['ID']}", None)
    code, out, _ = run_cli("service", "delete", "cache", REGS[0]["ID"])
    assert code == 0 and out == "Successfully deleted service registration\n"
    code, _, err = run_cli("service", "delete", "cache", "missing")
    assert code == 1 and "Error deleting service registration" in err
