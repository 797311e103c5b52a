"""The server end to end in one process: nodes register, jobs place, stop and update."""

import msgspec
from server_helpers import live, settle

from pynomad.structs import (DriverInfo, enc_hook, Job, Node, NodeCpuResources, NodeMemoryResources,
                             NodeDiskResources, NodeResources, Resources, Task, TaskGroup, Constraint)


def make_node(i: int, cpu: int = 4000, mem: int = 8192, dc: str = "dc1") -> Node:
    return Node(ID=f"00000000-0000-0000-0000-{i:012d}", SecretID=f"secret-{i}", Name=f"node-{i}",
                Datacenter=dc, Status="ready",
                Attributes={"kernel.name": "linux", "driver.raw_exec": "1",
                            "unique.hostname": f"node-{i}"},
                Drivers={"raw_exec": DriverInfo(Detected=True, Healthy=True)},
                NodeResources=NodeResources(Cpu=NodeCpuResources(CpuShares=cpu),
                                            Memory=NodeMemoryResources(MemoryMB=mem),
                                            Disk=NodeDiskResources(DiskMB=100_000)))


def make_job(job_id: str = "web", count: int = 3, typ: str = "service", cpu: int = 100,
             command: str = "sleep") -> Job:
    task = Task(Name="t", Driver="raw_exec", Config={"command": command, "args": ["100"]},
                Resources=Resources(CPU=cpu, MemoryMB=64))
    return Job(ID=job_id, Type=typ, TaskGroups=[TaskGroup(Name="g", Count=count, Tasks=[task])])





def test_service_job_places_count_allocs(run):
    async def body(server):
        for i in range(3):
            await server.nodes.register(make_node(i))
        out = await server.jobs.register(make_job())
        await settle(server)
        allocs = live(server)
        assert len(allocs) == 3
        assert sorted(a.Name for a in allocs) == ["web.g[0]", "web.g[1]", "web.g[2]"]
        ev = server.state.eval_by_id(out["EvalID"])
        assert ev.Status == "complete"
        assert server.state.job_by_id("default", "web").Status == "running"
        summary = server.state.job_summary("default", "web").Summary["g"]
        assert summary.Starting == 3 and summary.Queued == 0
    run(body)


def test_stop_and_purge(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=2))
        await settle(server)
        await server.jobs.deregister("default", "web", purge=False)
        await settle(server)
        job = server.state.job_by_id("default", "web")
        assert job.Stop and job.Version == 1 and job.Status == "dead"
        assert live(server) == []
        stopped = server.state.allocs_by_job_id("default", "web")
        assert {a.DesiredDescription for a in stopped} == {"alloc not needed due to job update"}
        await server.jobs.deregister("default", "web", purge=True)
        assert server.state.job_by_id("default", "web") is None
    run(body)


def test_job_update_creates_version_and_replaces_allocs(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=2))
        await settle(server)
        first = {a.ID for a in live(server)}
        same = await server.jobs.register(make_job(count=2))
        assert server.state.job_by_id("default", "web").Version == 0
        changed = make_job(count=2, command="true")
        await server.jobs.register(changed)
        await settle(server)
        assert server.state.job_by_id("default", "web").Version == 1
        now = live(server)
        replaced = [a for a in now if a.ID not in first]
        assert len(now) == 2 and len(replaced) == 1  # update.max_parallel defaults to 1
        assert replaced[0].PreviousAllocation in first
        assert same["JobModifyIndex"] < server.state.job_by_id("default", "web").JobModifyIndex
    run(body)


def test_unplaceable_job_blocks_then_places_when_node_joins(run):
    async def body(server):
        await server.nodes.register(make_node(0, cpu=500))
        out = await server.jobs.register(make_job(count=1, cpu=1000))
        await settle(server)
        ev = server.state.eval_by_id(out["EvalID"])
        assert ev.FailedTGAllocs["g"].DimensionExhausted == {"cpu": 1}
        assert ev.BlockedEval and server.state.eval_by_id(ev.BlockedEval).Status == "blocked"
        assert live(server) == []
        await server.nodes.register(make_node(1, cpu=4000))
        await settle(server)
        assert [a.NodeID for a in live(server)] == [make_node(1).ID]
    run(body)


def test_constraint_filters_nodes(run):
    async def body(server):
        a, b = make_node(0), make_node(1)
        b.Attributes["kernel.name"] = "darwin"
        await server.nodes.register(a)
        await server.nodes.register(b)
        job = make_job(count=4)
        job.Constraints = [Constraint(LTarget="${attr.kernel.name}", RTarget="linux", Operand="=")]
        await server.jobs.register(job)
        await settle(server)
        assert {x.NodeID for x in live(server)} == {a.ID}
    run(body)


def test_down_node_allocs_are_lost_and_replaced(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=2))
        await settle(server)
        await server.nodes.register(make_node(1))
        await server.nodes.mark_down(make_node(0).ID)
        await settle(server)
        old = [x for x in server.state.allocs_by_job_id("default", "web") if x.NodeID == make_node(0).ID]
        assert {x.ClientStatus for x in old} == {"lost"}
        assert {x.NodeID for x in live(server)} == {make_node(1).ID}
    run(body)


def test_system_job_lands_on_every_eligible_node_including_later_ones(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.nodes.register(make_node(1))
        bad = make_node(2)
        bad.Attributes["kernel.name"] = "windows"
        await server.nodes.register(bad)
        job = make_job("sys", count=1, typ="system")
        job.Constraints = [Constraint(LTarget="${attr.kernel.name}", RTarget="linux", Operand="=")]
        await server.jobs.register(job)
        await settle(server)
        assert {a.NodeID for a in live(server, "sys")} == {make_node(0).ID, make_node(1).ID}
        assert {a.Name for a in live(server, "sys")} == {"sys.g[0]"}
        await server.nodes.register(make_node(3))
        await settle(server)
        assert {a.NodeID for a in live(server, "sys")} == {make_node(i).ID for i in (0, 1, 3)}
        await server.jobs.deregister("default", "sys")
        await settle(server)
        assert live(server, "sys") == []
    run(body)


def test_failed_system_alloc_is_not_replaced(run):
    async def body(server):
        node = make_node(0)
        await server.nodes.register(node)
        await server.jobs.register(make_job("sys", count=1, typ="system"))
        await settle(server)
        (alloc,) = live(server, "sys")
        await server.nodes.update_allocs([msgspec.structs.replace(alloc, ClientStatus="failed")])
        await settle(server)
        allocs = server.state.allocs_by_job_id("default", "sys")
        assert [a.ClientStatus for a in allocs] == ["failed"]
    run(body)


def test_blocked_eval_ignores_capacity_on_ineligible_classes(run):
    def darwin(i):
        node = make_node(i)
        node.Attributes["kernel.name"] = "darwin"
        return node

    async def body(server):
        await server.nodes.register(make_node(0, cpu=500))
        await server.nodes.register(darwin(1))
        job = make_job(count=1, cpu=1000)
        job.Constraints = [Constraint(LTarget="${attr.kernel.name}", RTarget="linux", Operand="=")]
        await server.jobs.register(job)
        await settle(server)
        (blocked,) = [ev for ev in server.state.evals.values() if ev.Status == "blocked"]
        assert False in blocked.ClassEligibility.values()
        await server.nodes.register(darwin(2))  # a class the eval already found ineligible
        await settle(server)
        assert server.state.eval_by_id(blocked.ID).Status == "blocked"
        await server.nodes.register(make_node(3))  # an eligible class, with room
        await settle(server)
        assert [a.NodeID for a in live(server)] == [make_node(3).ID]
    run(body)


def test_get_allocs_sends_each_job_version_once(run):
    async def body(server):
        from pynomad.client.client import AllocsReply

        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=3))
        await settle(server)
        ids = [a.ID for a in live(server)]
        reply = server.nodes.get_allocs(ids)
        assert len(reply["Jobs"]) == 1 and reply["JobIndex"] == [0, 0, 0]
        assert all(a.Job is None for a in reply["Allocs"])
        wire = msgspec.msgpack.encode(reply, enc_hook=enc_hook)  # as the RPC port does
        allocs = msgspec.msgpack.decode(wire, type=AllocsReply).allocations()
        assert [a.ID for a in allocs] == ids and {a.Job.ID for a in allocs} == {"web"}
        assert all(a.Job is not None for a in server.state.allocs.values())  # state untouched
    run(body)


def test_alloc_stop_replaces_the_allocation(run):
    import pytest

    from pynomad.server.alloc_endpoint import stop_alloc
    from pynomad.server.errors import NotFound

    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=2))
        await settle(server)
        victim = live(server)[0]
        out = await stop_alloc(server, victim.ID)
        assert server.state.eval_by_id(out["EvalID"]).TriggeredBy == "alloc-stop"
        await settle(server)
        stopped = server.state.alloc_by_id(victim.ID)
        assert stopped.DesiredStatus == "stop"
        assert stopped.DesiredDescription == "alloc is being migrated"
        now = live(server)
        assert len(now) == 2 and victim.ID not in {a.ID for a in now}
        assert [a.PreviousAllocation for a in now if a.Name == victim.Name] == [victim.ID]
        with pytest.raises(NotFound):
            await stop_alloc(server, "nope")
    run(body)
