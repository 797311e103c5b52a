"""The service hook: registration documents (address and port from the allocated ports)
and the alloc runner registering `provider = "nomad"` services while running."""

import asyncio

import msgspec
from client_helpers import FakeClock, make_alloc

from pynomad.client.allocrunner import AllocRunner
from pynomad.client.service_hook import ServiceHook, registrations
from pynomad.drivers.mock import MockDriver
from pynomad.structs import (AllocatedPortMapping, AllocatedResources, AllocatedSharedResources,
                             Node, Task)


class FakeRPC:
    def __init__(self):
        self.calls = []

    async def call(self, method, args, reply_type=None, timeout_s=None):
        self.calls.append((method, msgspec.to_builtins(args)))  # as sent on the wire
        return {"Index": 1}


def service_alloc(group_services=None, task_services=None, ports=None):
    alloc = make_alloc([Task(Name="server", Driver="mock_driver", Config={"run_for": "60s"},
                             Services=task_services)], group="cache")
    tg = alloc.Job.TaskGroups[0]
    tg.Services = group_services
    alloc.AllocatedResources = AllocatedResources(Shared=AllocatedSharedResources(
        Ports=ports or [AllocatedPortMapping(Label="http", Value=25000, To=8080,
                                             HostIP="10.1.2.3")]))
    return alloc


NODE = Node(ID="node-1", SecretID="secret", Datacenter="dc2",
            Attributes={"unique.network.ip-address": "10.9.9.9"})


def test_registrations_use_the_allocated_port_and_skip_other_providers():
    alloc = service_alloc(
        group_services=[{"Name": "web", "PortLabel": "http", "Provider": "nomad",
                         "Tags": ["a", "b"]},
                        {"Name": "consul-one", "PortLabel": "http"}],
        task_services=[{"Name": "db", "Provider": "nomad"},
                       {"Name": "mapped", "PortLabel": "http", "Provider": "nomad",
                        "AddressMode": "alloc"},
                       {"Name": "literal", "PortLabel": "7000", "Provider": "nomad",
                        "Address": "example.com"}])
    regs = registrations(alloc, NODE)
    by_name = {r["ServiceName"]: r for r in regs}
    assert set(by_name) == {"web", "db", "mapped", "literal"}
    web = by_name["web"]
    assert web["ID"] == f"_nomad-task-{alloc.ID}-group-web-http"
    assert (web["Address"], web["Port"], web["Tags"]) == ("10.1.2.3", 25000, ["a", "b"])
    assert (web["NodeID"], web["Datacenter"], web["JobID"], web["AllocID"]) == (
        "node-1", "dc2", "example", alloc.ID)
    assert by_name["db"]["ID"] == f"_nomad-task-{alloc.ID}-server-db-"
    assert (by_name["db"]["Address"], by_name["db"]["Port"]) == ("10.9.9.9", 0)
    assert by_name["mapped"]["Port"] == 8080
    assert (by_name["literal"]["Address"], by_name["literal"]["Port"]) == ("example.com", 7000)


def test_unknown_port_label_is_skipped():
    alloc = service_alloc(group_services=[{"Name": "web", "PortLabel": "nope",
                                           "Provider": "nomad"}])
    assert registrations(alloc, NODE) == []


def test_hook_registers_once_and_deregisters_once():
    rpc = FakeRPC()
    alloc = service_alloc(group_services=[{"Name": "web", "PortLabel": "http",
                                           "Provider": "nomad"}])

    async def main():
        hook = ServiceHook(alloc, NODE, rpc)
        hook.running()
        hook.running()
        hook.stop()
        hook.stop()
        await hook.wait()
    asyncio.run(main())
    assert [m for m, _ in rpc.calls] == ["ServiceRegistration.Upsert",
                                         "ServiceRegistration.DeleteByAllocID"]
    assert rpc.calls[0][1]["NodeSecretID"] == "secret"
    assert rpc.calls[1][1] == {"AllocID": alloc.ID, "NodeSecretID": "secret"}


def test_hook_is_inactive_without_nomad_services():
    rpc = FakeRPC()
    alloc = service_alloc(group_services=[{"Name": "web", "PortLabel": "http"}])

    async def main():
        hook = ServiceHook(alloc, NODE, rpc)
        hook.running()
        hook.stop()
        await hook.wait()
    asyncio.run(main())
    assert rpc.calls == []


def test_alloc_runner_registers_while_running(client_config):
    rpc = FakeRPC()
    alloc = service_alloc(group_services=[{"Name": "web", "PortLabel": "http",
                                           "Provider": "nomad"}])

    async def main():
        ar = AllocRunner(alloc=alloc, node=NODE, drivers={"mock_driver": MockDriver()},
                         config=client_config, clock=FakeClock(), rpc=rpc)
        ar.start()
        while ar.client_status != "running":
            await asyncio.sleep(0.01)
        await ar.services.wait()
        assert [m for m, _ in rpc.calls] == ["ServiceRegistration.Upsert"]
        ar.update(msgspec.structs.replace(alloc, DesiredStatus="stop"))
        await ar.wait()
        await ar.services.wait()
    asyncio.run(asyncio.wait_for(main(), 60))
    assert [m for m, _ in rpc.calls] == ["ServiceRegistration.Upsert",
                                         "ServiceRegistration.DeleteByAllocID"]
