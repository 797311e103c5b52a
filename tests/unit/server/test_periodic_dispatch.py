"""Periodic jobs and parameterized dispatch on the server.

The schedule is pure (`next_launch`); the dispatcher is driven with an injected clock and
explicit `step()` calls, so nothing waits on a real cron time. Assertions look at the state
(which children exist), not at which of the loop or the test launched them."""

from __future__ import annotations

import base64

import pytest
from server_helpers import settle

from pynomad.server.dispatch import (DISPATCH_PAYLOAD_SIZE_LIMIT, dispatched_id,
                                     validate_dispatch)
from pynomad.server.errors import BadRequest, NotFound
from pynomad.server.periodic import (PeriodicDispatch, croniter_spec, derive_job,
                                     derived_job_id, is_periodic_active, launch_time_of,
                                     next_launch)
from pynomad.structs import (Allocation, DispatchPayload, DriverInfo, Job, Node,
                             NodeCpuResources, NodeDiskResources, NodeMemoryResources,
                             NodeResources, ParameterizedJobConfig, PeriodicConfig, Resources,
                             Task, TaskGroup)

S = 1_000_000_000
T0 = 1_700_000_000 * S  # 2023-11-14T22:13:20Z


class FakeClock:
    def __init__(self, now: int = T0):
        self.now = now

    def __call__(self) -> int:
        return self.now


def batch_job(job_id: str = "report", periodic: PeriodicConfig | None = None,
              param: ParameterizedJobConfig | None = None, meta=None) -> Job:
    task = Task(Name="t", Driver="raw_exec", Config={"command": "true"},
                Resources=Resources(CPU=100, MemoryMB=64),
                DispatchPayload=DispatchPayload(File="input.json") if param else None)
    return Job(ID=job_id, Type="batch", Periodic=periodic, ParameterizedJob=param, Meta=meta,
               TaskGroups=[TaskGroup(Name="g", Count=1, Tasks=[task])])


def make_node() -> Node:
    return Node(ID="00000000-0000-0000-0000-000000000001", SecretID="s", Name="n1",
                Datacenter="dc1", Status="ready",
                Attributes={"kernel.name": "linux", "driver.raw_exec": "1"},
                Drivers={"raw_exec": DriverInfo(Detected=True, Healthy=True)},
                NodeResources=NodeResources(Cpu=NodeCpuResources(CpuShares=4000),
                                            Memory=NodeMemoryResources(MemoryMB=8192),
                                            Disk=NodeDiskResources(DiskMB=100_000)))


def children(server, parent: str) -> list[str]:
    return sorted(j.ID for j in server.state.jobs_by_namespace("default")
                  if j.ParentID == parent)


# -- the schedule (pure) -------------------------------------------------------------------
def test_next_launch_cron_specs_and_time_zone():
    every15 = PeriodicConfig(Spec="*/15 * * * *")
    assert next_launch(every15, T0) == T0 + 100 * S  # 22:15:00
    assert next_launch(every15, T0 + 100 * S) == T0 + 1000 * S  # strictly after
    both = PeriodicConfig(Specs=["0 23 * * *", "30 22 * * *"])
    assert next_launch(both, T0) == T0 + (16 * 60 + 40) * S  # 22:30 wins
    # 09:00 in New York is 14:00 UTC on 2023-11-15 (EST, UTC-5)
    ny = PeriodicConfig(Spec="0 9 * * *", TimeZone="America/New_York")
    assert next_launch(ny, T0) == 1_700_056_800 * S
    assert next_launch(PeriodicConfig(Spec="@hourly"), T0) == T0 + (46 * 60 + 40) * S
    # a past year never matches again
    assert next_launch(PeriodicConfig(Spec="0 0 1 1 * 2020"), T0) is None


def test_cronexpr_field_orders_map_to_croniter():
    assert croniter_spec("*/5 * * * *") == "*/5 * * * *"
    assert croniter_spec("0 0 1 1 * 2030") == "0 0 1 1 * 0 2030"  # minute..dow year
    assert croniter_spec("30 0 0 1 1 ? 2030") == "0 0 1 1 * 30 2030"  # second first
    assert croniter_spec("@daily") == "0 0 * * *"
    with pytest.raises(ValueError):
        croniter_spec("* *")
    every10s = PeriodicConfig(Spec="*/10 * * * * * *")
    assert next_launch(every10s, T0) == T0 + 10 * S


def test_next_launch_internal_test_spec():
    p = PeriodicConfig(SpecType="_internal_test", Spec=f"{T0 // S + 5},{T0 // S + 1}")
    assert next_launch(p, T0) == T0 + 1 * S
    assert next_launch(p, T0 + 1 * S) == T0 + 5 * S
    assert next_launch(p, T0 + 5 * S) is None


def test_derived_child_job():
    parent = batch_job(periodic=PeriodicConfig(Spec="* * * * *"), meta={"a": "1"})
    parent.Version, parent.CreateIndex, parent.Status = 3, 7, "running"
    child = derive_job(parent, T0 + 60 * S, T0 + 61 * S)
    assert child.ID == derived_job_id("report", T0 + 60 * S) == "report/periodic-1700000060"
    assert child.Name == child.ID and child.ParentID == "report" and child.Periodic is None
    assert child.SubmitTime == T0 + 61 * S and child.Status is None and child.CreateIndex is None
    assert child.Meta == {"a": "1"}
    child.TaskGroups[0].Count = 9  # a deep copy: the parent is untouched
    assert parent.TaskGroups[0].Count == 1 and parent.Periodic is not None
    assert launch_time_of(child.ID) == T0 + 60 * S
    assert launch_time_of("report/dispatch-1-abc") is None


def test_which_jobs_are_tracked():
    p = PeriodicConfig(Spec="* * * * *")
    assert is_periodic_active(batch_job(periodic=p))
    assert is_periodic_active(batch_job(periodic=PeriodicConfig(Spec="* * * * *", Enabled=True)))
    assert not is_periodic_active(batch_job(periodic=PeriodicConfig(Spec="* * * * *",
                                                                    Enabled=False)))
    stopped = batch_job(periodic=p)
    stopped.Stop = True
    assert not is_periodic_active(stopped)
    template = batch_job(periodic=p, param=ParameterizedJobConfig())
    assert not is_periodic_active(template)
    template.Dispatched = True  # a dispatched child of a periodic parameterized job
    assert is_periodic_active(template)


# -- the dispatcher on a running server ------------------------------------------------------
def test_periodic_job_launches_children_at_cron_times(run):
    async def body(server):
        clock = FakeClock()
        server.periodic._clock = clock
        out = await server.jobs.register(batch_job(periodic=PeriodicConfig(Spec="*/15 * * * *")))
        assert out["EvalID"] == ""  # the parent itself is never evaluated
        await server.periodic.step()
        assert children(server, "report") == []
        clock.now = T0 + 100 * S  # 22:15:00
        await server.periodic.step()
        await server.periodic.step()  # launching twice for the same time is a no-op
        assert children(server, "report") == ["report/periodic-1700000100"]
        child = server.state.job_by_id("default", "report/periodic-1700000100")
        assert child.Periodic is None and child.Type == "batch" and child.Name == child.ID
        evals = server.state.evals_by_job_id("default", child.ID)
        assert len(evals) == 1 and evals[0].Type == "batch"
        assert server.state.evals_by_job_id("default", "report") == []
        assert server.periodic.launches[("default", "report")] == T0 + 100 * S
        clock.now = T0 + 1000 * S  # 22:30:00
        await server.periodic.step()
        assert children(server, "report") == ["report/periodic-1700000100",
                                              "report/periodic-1700001000"]
        assert server.periodic.next_wakeup() == T0 + 1900 * S
        assert server.periodic.sleep_for(T0 + 1890 * S) == pytest.approx(10.0)
    run(body)


def test_missed_slots_collapse_into_one_launch(run):
    async def body(server):
        clock = FakeClock()
        server.periodic._clock = clock
        await server.jobs.register(batch_job(periodic=PeriodicConfig(Spec="* * * * *")))
        await server.periodic.step()
        clock.now = T0 + 3600 * S  # an hour later: one launch, then on from now
        await server.periodic.step()
        assert children(server, "report") == ["report/periodic-1700000040"]
        assert server.periodic.next_wakeup() == T0 + 3640 * S
    run(body)


def test_prohibit_overlap_skips_while_a_child_runs(run):
    async def body(server):
        clock = FakeClock()
        server.periodic._clock = clock
        await server.nodes.register(make_node())
        periodic = PeriodicConfig(Spec="* * * * *", ProhibitOverlap=True)
        await server.jobs.register(batch_job(periodic=periodic))
        await server.periodic.step()
        clock.now = T0 + 40 * S
        await server.periodic.step()
        await settle(server)
        first = "report/periodic-1700000040"
        assert children(server, "report") == [first]
        assert len(server.state.allocs_by_job_id("default", first)) == 1  # pending on n1
        clock.now = T0 + 100 * S
        await server.periodic.step()
        assert children(server, "report") == [first]  # skipped: the first still runs
        # forcing ignores the overlap rule
        forced = await server.periodic.force("default", "report")
        assert children(server, "report") == [first, "report/periodic-1700000100"]
        ev = server.state.eval_by_id(forced["EvalID"])
        assert ev.JobID == "report/periodic-1700000100"
        assert forced["EvalCreateIndex"] == forced["Index"] == ev.CreateIndex
        # once no child is left running, the schedule launches again
        for job_id in children(server, "report"):
            await server.jobs.deregister("default", job_id, purge=True)
        await settle(server)
        clock.now = T0 + 160 * S
        await server.periodic.step()
        assert children(server, "report") == ["report/periodic-1700000160"]
    run(body)


def test_stopped_disabled_and_updated_jobs(run):
    async def body(server):
        clock = FakeClock()
        server.periodic._clock = clock
        await server.jobs.register(batch_job(periodic=PeriodicConfig(Spec="*/15 * * * *")))
        await server.periodic.step()
        assert server.periodic.next_wakeup() == T0 + 100 * S
        # an update reschedules from its new spec
        await server.jobs.register(batch_job(periodic=PeriodicConfig(Spec="0 23 * * *")))
        await server.periodic.step()
        assert server.periodic.next_wakeup() == T0 + 2800 * S
        await server.jobs.register(batch_job(periodic=PeriodicConfig(Spec="0 23 * * *",
                                                                     Enabled=False)))
        await server.periodic.step()
        assert server.periodic.tracked == {}
        with pytest.raises(BadRequest, match="can't force run non-tracked job"):
            await server.periodic.force("default", "report")
        await server.jobs.register(batch_job(periodic=PeriodicConfig(Spec="0 23 * * *")))
        await server.jobs.deregister("default", "report")
        clock.now = T0 + 2800 * S
        await server.periodic.step()
        assert server.periodic.tracked == {} and children(server, "report") == []
    run(body)


def test_force_errors(run):
    async def body(server):
        with pytest.raises(NotFound):
            await server.periodic.force("default", "nope")
        await server.jobs.register(batch_job("plain"))
        with pytest.raises(BadRequest, match="can't force launch non-periodic job"):
            await server.periodic.force("default", "plain")
    run(body)


def test_restore_launches_a_missed_launch_once(run):
    async def body(server):
        clock = FakeClock()
        server.periodic._clock = clock
        job = batch_job(periodic=PeriodicConfig(Spec="*/15 * * * *"))
        await server.jobs.register(job)
        # a new leader, 20 minutes after the job was submitted: 22:15 was missed
        fresh = PeriodicDispatch(server, clock=FakeClock(T0 + 1200 * S))
        server.state.job_by_id("default", "report").SubmitTime = T0
        assert fresh.restore(T0 + 1200 * S) == [("default", "report")]
        assert fresh.tracked[("default", "report")].next == T0 + 1900 * S
        # ... but not when the last launch (a child still in the state) covers it
        await server.periodic.force("default", "report")  # child periodic-1700000000
        again = PeriodicDispatch(server, clock=FakeClock(T0 + 900 * S))
        assert again.restore(T0 + 900 * S) == [("default", "report")]
        await server.jobs.register(derive_job(job, T0 + 1000 * S, T0))
        later = PeriodicDispatch(server, clock=FakeClock(T0 + 1200 * S))
        assert later.restore(T0 + 1200 * S) == []
    run(body)


# -- dispatch --------------------------------------------------------------------------------
def test_dispatch_validation_errors():
    job = batch_job(param=ParameterizedJobConfig(Payload="required", MetaRequired=["k"],
                                                 MetaOptional=["o"]))
    with pytest.raises(BadRequest, match="^Payload is not provided but required"):
        validate_dispatch(job, b"", {"k": "v"})
    with pytest.raises(BadRequest, match=r"^Payload exceeds maximum size; 16385 > 16384$"):
        validate_dispatch(job, b"x" * (DISPATCH_PAYLOAD_SIZE_LIMIT + 1), {"k": "v"})
    with pytest.raises(BadRequest, match=r"^Dispatch did not provide required meta keys: \[k\]$"):
        validate_dispatch(job, b"x", {"o": "1"})
    with pytest.raises(BadRequest,
                       match=r"^Dispatch request included unpermitted metadata keys: \[a b\]$"):
        validate_dispatch(job, b"x", {"k": "v", "b": "1", "a": "2"})
    validate_dispatch(job, b"x", {"k": "v", "o": "1"})
    forbidden = batch_job(param=ParameterizedJobConfig(Payload="forbidden"))
    with pytest.raises(BadRequest, match="^Payload provided but forbidden"):
        validate_dispatch(forbidden, b"x", {})
    validate_dispatch(forbidden, b"", {})


def test_dispatched_id_format():
    assert dispatched_id("job", "", T0, "0123abcd") == "job/dispatch-1700000000-0123abcd"
    assert dispatched_id("job", "nightly", T0, "0123abcd") == \
        "job/dispatch-nightly-1700000000-0123abcd"
    assert len(dispatched_id("job", "", T0).rsplit("-", 1)[1]) == 8


def test_dispatch_creates_a_child_batch_job(run):
    async def body(server):
        await server.nodes.register(make_node())
        param = ParameterizedJobConfig(Payload="optional", MetaRequired=["k"])
        await server.jobs.register(batch_job("fn", param=param, meta={"k": "parent", "p": "1"}))
        assert server.state.evals_by_job_id("default", "fn") == []
        out = await server.dispatcher.dispatch("default", "fn", b'{"x": 1}', {"k": "v"})
        child_id = out["DispatchedJobID"]
        assert child_id.startswith("fn/dispatch-")
        assert set(out) == {"Index", "JobCreateIndex", "EvalID", "EvalCreateIndex",
                            "DispatchedJobID"}
        child = server.state.job_by_id("default", child_id)
        assert child.ParentID == "fn" and child.Dispatched and child.ParameterizedJob is None
        assert child.Meta == {"k": "v", "p": "1"}
        assert base64.b64decode(child.Payload) == b'{"x": 1}'
        assert child.CreateIndex == out["JobCreateIndex"]
        ev = server.state.eval_by_id(out["EvalID"])
        assert ev.JobID == child_id and ev.CreateIndex == out["EvalCreateIndex"]
        await settle(server)
        assert len(server.state.allocs_by_job_id("default", child_id)) == 1
        children = server.state.job_summary("default", "fn").Children
        assert (children.Pending, children.Running, children.Dead) == (0, 1, 0)
        [alloc] = server.state.allocs_by_job_id("default", child_id)
        await server.nodes.update_allocs([Allocation(ID=alloc.ID, NodeID=alloc.NodeID,
                                                     ClientStatus="complete")])
        children = server.state.job_summary("default", "fn").Children
        assert (children.Pending, children.Running, children.Dead) == (0, 0, 1)
        # the parent stays a template: unchanged and never evaluated
        assert server.state.job_by_id("default", "fn").Meta == {"k": "parent", "p": "1"}
        assert server.state.evals_by_job_id("default", "fn") == []
    run(body)


def test_dispatch_errors_and_idempotency(run):
    async def body(server):
        with pytest.raises(NotFound, match="parameterized job not found"):
            await server.dispatcher.dispatch("default", "nope", b"")
        await server.jobs.register(batch_job("plain"))
        with pytest.raises(BadRequest, match="specified job is not a parameterized job"):
            await server.dispatcher.dispatch("default", "plain", b"")
        await server.jobs.register(batch_job("fn", param=ParameterizedJobConfig(
            Payload="forbidden", MetaOptional=["o"])))
        with pytest.raises(BadRequest, match="unpermitted metadata keys: \\[x\\]"):
            await server.dispatcher.dispatch("default", "fn", b"", {"x": "1"})
        with pytest.raises(BadRequest, match="forbidden"):
            await server.dispatcher.dispatch("default", "fn", b"data")
        assert children(server, "fn") == []
        first = await server.dispatcher.dispatch("default", "fn", b"", {"o": "1"},
                                                 id_prefix_template="run", idempotency_token="t1")
        assert first["DispatchedJobID"].startswith("fn/dispatch-run-")
        again = await server.dispatcher.dispatch("default", "fn", b"", {"o": "1"},
                                                 idempotency_token="t1")
        assert again["DispatchedJobID"] == first["DispatchedJobID"] and again["EvalID"] == ""
        assert children(server, "fn") == [first["DispatchedJobID"]]
        child = server.state.job_by_id("default", first["DispatchedJobID"])
        assert child.DispatchIdempotencyToken == "t1" and child.Payload is None
        await server.jobs.deregister("default", "fn")
        with pytest.raises(BadRequest, match="specified job is stopped"):
            await server.dispatcher.dispatch("default", "fn", b"")
    run(body)


def test_dispatching_a_periodic_parameterized_job_makes_a_periodic_child(run):
    async def body(server):
        clock = FakeClock()
        server.periodic._clock = clock
        job = batch_job("cron-fn", periodic=PeriodicConfig(Spec="*/15 * * * *"),
                        param=ParameterizedJobConfig())
        await server.jobs.register(job)
        with pytest.raises(BadRequest, match="non-tracked"):
            await server.periodic.force("default", "cron-fn")
        out = await server.dispatcher.dispatch("default", "cron-fn", b"")
        assert out["EvalID"] == ""  # the child is periodic: launched on its schedule
        await server.periodic.step()
        clock.now = T0 + 100 * S
        await server.periodic.step()
        child = out["DispatchedJobID"]
        assert children(server, child) == [f"{child}/periodic-1700000100"]
    run(body)
