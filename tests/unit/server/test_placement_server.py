"""Placement rules end to end through an in-process Server (register → eval → plan → state)."""

from collections import Counter

from server_helpers import live, settle

from pynomad.structs import (Affinity, Constraint, DriverInfo, Job, Node, NodeCpuResources,
                             NodeDiskResources, NodeMemoryResources, NodeResources, Resources,
                             Spread, SpreadTarget, Task, TaskGroup)


def make_node(i: int, dc: str = "dc1", cpu: int = 4000, mem: int = 8192, meta=None) -> Node:
    return Node(ID=f"10000000-0000-0000-0000-{i:012d}", SecretID=f"s-{i}", Name=f"node-{i}",
                Datacenter=dc, Status="ready", Meta=dict(meta or {}),
                Attributes={"kernel.name": "linux", "driver.raw_exec": "1",
                            "unique.hostname": f"node-{i}"},
                Drivers={"raw_exec": DriverInfo(Detected=True, Healthy=True)},
                NodeResources=NodeResources(Cpu=NodeCpuResources(CpuShares=cpu),
                                            Memory=NodeMemoryResources(MemoryMB=mem),
                                            Disk=NodeDiskResources(DiskMB=100_000)))


def make_job(job_id: str, count: int = 1, typ: str = "service", cpu: int = 100,
             mem: int = 64, priority: int = 50) -> Job:
    task = Task(Name="t", Driver="raw_exec", Config={"command": "sleep", "args": ["100"]},
                Resources=Resources(CPU=cpu, MemoryMB=mem))
    return Job(ID=job_id, Type=typ, Priority=priority,
               TaskGroups=[TaskGroup(Name="g", Count=count, Tasks=[task])])





def test_spread_across_datacenters_through_server(run):
    async def body(server):
        for i in range(8):
            await server.nodes.register(make_node(i, dc="east" if i < 4 else "west"))
        job = make_job("web", count=10)
        job.Spreads = [Spread(Attribute="${node.datacenter}", Weight=100, SpreadTarget=[
            SpreadTarget(Value="east", Percent=70), SpreadTarget(Value="west", Percent=30)])]
        await server.jobs.register(job)
        await settle(server)
        by_dc = Counter(server.state.node_by_id(a.NodeID).Datacenter for a in live(server, "web"))
        assert sum(by_dc.values()) == 10 and abs(by_dc["east"] - 7) <= 1
    run(body)


def test_distinct_hosts_and_affinity_through_server(run):
    async def body(server):
        for i in range(6):
            await server.nodes.register(make_node(i, meta={"ssd": str(i < 3).lower()}))
        job = make_job("web", count=3)
        job.Constraints = [Constraint(Operand="distinct_hosts")]
        job.Affinities = [Affinity(LTarget="${meta.ssd}", RTarget="true", Weight=100)]
        await server.jobs.register(job)
        await settle(server)
        allocs = live(server, "web")
        assert len({a.NodeID for a in allocs}) == 3
        assert {server.state.node_by_id(a.NodeID).Meta["ssd"] for a in allocs} == {"true"}
    run(body)


def test_system_job_preempts_low_priority_service_through_server(run):
    async def body(server):
        node = make_node(0, cpu=1000, mem=1024)
        await server.nodes.register(node)
        await server.jobs.register(make_job("low", cpu=1000, mem=1024, priority=20))
        await settle(server)
        victim = live(server, "low")[0]
        await server.jobs.register(make_job("sys", typ="system", cpu=500, mem=512,
                                            priority=70))
        await settle(server)
        placed = live(server, "sys")
        assert [a.NodeID for a in placed] == [node.ID]
        assert placed[0].PreemptedAllocations == [victim.ID]
        assert server.state.alloc_by_id(victim.ID).DesiredStatus in ("evict", "stop")
    run(body)
