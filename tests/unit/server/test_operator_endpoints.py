"""Operator endpoints in one process: scheduler config, eligibility, drain, job plan."""

import pytest
from server_helpers import live, settle

from pynomad.server.errors import BadRequest, Conflict, Forbidden, NotFound
from pynomad.structs.operator import SchedulerConfiguration
from pynomad.structs import (AllocDeploymentStatus, DrainStrategy, DriverInfo, Job, Node,
                             NodeCpuResources, NodeDiskResources, NodeMemoryResources,
                             NodeResources, Resources, Task, TaskGroup)


def make_node(i: int) -> Node:
    return Node(ID=f"00000000-0000-0000-0000-{i:012d}", SecretID=f"secret-{i}", Name=f"node-{i}",
                Datacenter="dc1", Status="ready",
                Attributes={"kernel.name": "linux", "driver.raw_exec": "1"},
                Drivers={"raw_exec": DriverInfo(Detected=True, Healthy=True)},
                NodeResources=NodeResources(Cpu=NodeCpuResources(CpuShares=4000),
                                            Memory=NodeMemoryResources(MemoryMB=8192),
                                            Disk=NodeDiskResources(DiskMB=100_000)))


def make_job(job_id="web", count=1, cpu=100, typ="service", args=("100",)) -> Job:
    task = Task(Name="t", Driver="raw_exec", Config={"command": "sleep", "args": list(args)},
                Resources=Resources(CPU=cpu, MemoryMB=64))
    return Job(ID=job_id, Type=typ, Datacenters=["dc1"],
               TaskGroups=[TaskGroup(Name="g", Count=count, Tasks=[task])])





def test_config_bootstrapped_from_agent_default_then_cas(run):
    async def body(server):
        out = server.operator.get_scheduler_config()
        cfg = out["SchedulerConfig"]
        assert cfg["SchedulerAlgorithm"] == "spread" and cfg["PreemptionConfig"]["ServiceSchedulerEnabled"]
        assert out["Index"] == cfg["ModifyIndex"] > 0
        assert server.scheduler_algorithm() == "spread"
        stale = await server.operator.set_scheduler_config(SchedulerConfiguration(), cas=999)
        assert stale["Updated"] is False
        assert server.state.scheduler_config.SchedulerAlgorithm == "spread"
        good = await server.operator.set_scheduler_config(
            SchedulerConfiguration(SchedulerAlgorithm="binpack"), cas=cfg["ModifyIndex"])
        assert good["Updated"] is True and server.scheduler_algorithm() == "binpack"
        plain = await server.operator.set_scheduler_config(
            SchedulerConfiguration(RejectJobRegistration=True), cas=None)
        assert plain["Updated"] is False and server.state.scheduler_config.RejectJobRegistration
        with pytest.raises(Forbidden):
            await server.jobs.register(make_job())
        with pytest.raises(BadRequest, match="invalid scheduler algorithm"):
            await server.operator.set_scheduler_config(
                SchedulerConfiguration(SchedulerAlgorithm="random"), cas=None)
    run(body, default_scheduler_config={"scheduler_algorithm": "spread",
                                        "preemption_config": {"service_scheduler_enabled": True}})


def test_ineligible_node_blocks_then_enable_places(run):
    async def body(server):
        node = make_node(0)
        await server.nodes.register(node)
        out = await server.nodes.update_eligibility(node.ID, "ineligible")
        assert out["NodeModifyIndex"] > 0
        assert server.state.node_by_id(node.ID).Events[-1].Message == \
            "Node marked as ineligible for scheduling"
        await server.jobs.register(make_job())
        await settle(server)
        assert live(server) == []
        assert len(server.blocked) == 1
        await server.nodes.update_eligibility(node.ID, "eligible")
        await settle(server)
        assert len(live(server)) == 1
        with pytest.raises(BadRequest, match="invalid scheduling eligibility"):
            await server.nodes.update_eligibility(node.ID, "maybe")
        with pytest.raises(NotFound):
            await server.nodes.update_eligibility("nope", "eligible")
    run(body)


def test_drain_marks_migrate_and_completes(run):
    async def body(server):
        a, b = make_node(0), make_node(1)
        await server.nodes.register(a)
        await server.jobs.register(make_job(count=1))
        await settle(server)
        [alloc] = live(server)
        await server.nodes.update_allocs([_with_status(alloc, "running")])
        await server.nodes.register(b)
        drained = alloc.NodeID
        other = b.ID if drained == a.ID else a.ID
        out = await server.nodes.update_drain(drained, DrainStrategy(Deadline=3600 * 10**9),
                                              meta={"message": "maint"})
        node = server.state.node_by_id(drained)
        assert node.SchedulingEligibility == "ineligible" and node.Drain
        assert node.DrainStrategy.ForceDeadline.endswith("Z") and out["Index"] > 0
        with pytest.raises(BadRequest, match="while it is draining"):
            await server.nodes.update_eligibility(drained, "eligible")
        # running but not yet healthy: the drainer waits for the client's (migrate) health
        assert (await server.drainer.step()).migrate == []
        await server.nodes.update_allocs([_with_status(alloc, "running", healthy=True)])
        assert server.state.alloc_by_id(alloc.ID).DeploymentStatus.Healthy is True
        acts = await server.drainer.step()
        assert [x.ID for x in acts.migrate] == [alloc.ID]
        await settle(server)
        old = server.state.alloc_by_id(alloc.ID)
        assert old.DesiredTransition.Migrate and old.DesiredStatus == "stop"
        [new] = live(server)
        assert new.NodeID == other and new.PreviousAllocation == alloc.ID
        # the client stops the old alloc: the drain is done
        await server.nodes.update_allocs([_with_status(old, "complete")])
        acts = await server.drainer.step()
        assert acts.complete == [drained]
        node = server.state.node_by_id(drained)
        assert node.DrainStrategy is None and node.SchedulingEligibility == "ineligible"
        assert node.LastDrain["Status"] == "complete" and node.LastDrain["Meta"] == {"message": "maint"}
        assert node.Events[-1].Message == "Node drain complete"
        # cancelling nothing / re-enabling via drain -disable marks eligible
        await server.nodes.update_drain(drained, None, mark_eligible=True)
        assert server.state.node_by_id(drained).SchedulingEligibility == "eligible"
    run(body)


def _with_status(alloc, status, healthy=None):
    from msgspec.structs import replace

    health = None if healthy is None else AllocDeploymentStatus(Healthy=healthy)
    return replace(alloc, ClientStatus=status, Job=None, DeploymentStatus=health)


def test_plan_placement_does_not_commit(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        before = server.state.latest_index
        out = await _plan(server, make_job(count=2))
        assert server.state.latest_index == before
        assert server.state.job_by_id("default", "web") is None
        assert out["Annotations"]["DesiredTGUpdates"]["g"]["Place"] == 2
        assert out["JobModifyIndex"] == 0 and out["FailedTGAllocs"] is None
        diff = out["Diff"]
        assert diff["Type"] == "Added" and diff["TaskGroups"][0]["Updates"] == {"create": 2}
        assert diff["TaskGroups"][0]["Tasks"][0]["Annotations"] == ["forces create"]
        # too big to fit: failed allocs and a blocked eval are reported
        out = await _plan(server, make_job("big", cpu=100_000))
        assert out["FailedTGAllocs"]["g"]["NodesExhausted"] >= 1
        assert out["CreatedEvals"][0]["Status"] == "blocked"
    run(body)


async def _plan(server, job):
    from pynomad.server.job_plan import plan_job

    return await plan_job(server, job, diff=True)


def test_plan_changes_of_a_running_job(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        reg = await server.jobs.register(make_job(count=1))
        await settle(server)
        same = await _plan(server, make_job(count=1))
        assert same["Diff"]["Type"] == "None" and same["JobModifyIndex"] == reg["JobModifyIndex"]
        assert same["Annotations"]["DesiredTGUpdates"]["g"]["Ignore"] == 1
        more = await _plan(server, make_job(count=3))
        tg = more["Diff"]["TaskGroups"][0]
        count = next(f for f in tg["Fields"] if f["Name"] == "Count")
        assert (count["Old"], count["New"], count["Annotations"]) == ("1", "3", ["forces create"])
        assert more["Annotations"]["DesiredTGUpdates"]["g"]["Place"] == 2
        changed = await _plan(server, make_job(count=1, args=("200",)))
        task = changed["Diff"]["TaskGroups"][0]["Tasks"][0]
        assert task["Annotations"] == ["forces create/destroy update"]
        config = next(o for o in task["Objects"] if o["Name"] == "Config")
        args = next(f for f in config["Fields"] if f["Name"] == "args[0]")
        assert (args["Type"], args["Old"], args["New"]) == ("Edited", "100", "200")
        assert changed["Annotations"]["DesiredTGUpdates"]["g"]["DestructiveUpdate"] == 1
        assert len(live(server)) == 1  # nothing changed for real
    run(body)


def test_register_check_index_conflict(run):
    async def body(server):
        with pytest.raises(Conflict):
            await server.jobs.register(make_job(), enforce_index=True, job_modify_index=5)
    run(body)


def test_plan_system_job_counts_from_plan(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.nodes.register(make_node(1))
        out = await _plan(server, make_job("sys", typ="system", count=1))
        assert out["Annotations"]["DesiredTGUpdates"]["g"]["Place"] == 2
        assert server.state.job_by_id("default", "sys") is None
    run(body)


def test_plan_rejects_bad_jobs(run):
    async def body(server):
        with pytest.raises(BadRequest):
            await _plan(server, Job(ID="x", Type="service", TaskGroups=[]))
    run(body)


def test_evaluate_force_reschedule_marks_failed_allocs(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=1))
        await settle(server)
        [alloc] = live(server)
        await server.nodes.update_allocs([_with_status(alloc, "failed")])
        await settle(server)
        out = await server.jobs.evaluate("default", "web", force_reschedule=True)
        assert server.state.eval_by_id(out["EvalID"]) is not None
        assert server.state.alloc_by_id(alloc.ID).DesiredTransition.ForceReschedule is True
    run(body)


def test_node_evaluate_and_unknown_nodes(run):
    async def body(server):
        node = make_node(0)
        await server.nodes.register(node)
        await server.jobs.register(make_job(count=1))
        await settle(server)
        out = await server.nodes.evaluate(node.ID)
        assert len(out["EvalIDs"]) == 1 and out["EvalCreateIndex"] > 0
        with pytest.raises(NotFound):
            await server.nodes.evaluate("missing")
        with pytest.raises(NotFound):
            await server.nodes.update_drain("missing", None)
    run(body)
