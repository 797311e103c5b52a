"""Job scaling inside one server (Nomad's Job.Scale / Job.ScaleStatus): a count change is
a new job version that the scheduler acts on, a scaling event is kept per group, and bad
requests are refused without changing anything."""

from __future__ import annotations

import asyncio

import pytest
from server_helpers import live, settle
from test_scheduling import make_job, make_node

from pynomad.server.errors import BadRequest, Conflict, Forbidden, NotFound
from pynomad.structs.operator import SchedulerConfiguration
from pynomad.structs import AllocDeploymentStatus, Allocation, PeriodicConfig


def _group(server, job_id="web"):
    return server.state.job_by_id("default", job_id).TaskGroups[0]


def _version(server, job_id="web"):
    return server.state.job_by_id("default", job_id).Version


async def _scale(server, count, group="g", job_id="web", **kw):
    return await server.jobs.scale("default", job_id, {"Group": group}, count, **kw)


async def _until(cond, what: str):
    for _ in range(500):
        value = cond()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_scale_up_and_down_registers_new_versions_and_reschedules(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=2, typ="batch"))
        await settle(server)
        assert len(live(server)) == 2
        before = server.state.job_by_id("default", "web").JobModifyIndex

        out = await _scale(server, 4, message="more please")
        assert out["EvalID"] and out["EvalCreateIndex"] == out["Index"]
        assert out["JobModifyIndex"] > before
        job = server.state.job_by_id("default", "web")
        assert (job.Version, job.TaskGroups[0].Count) == (1, 4)
        assert job.JobModifyIndex == out["JobModifyIndex"]
        assert [v.TaskGroups[0].Count for v in server.state.job_versions_of("default", "web")] \
            == [4, 2]  # newest first
        await settle(server)
        assert server.state.eval_by_id(out["EvalID"]).Status == "complete"
        assert len(live(server)) == 4

        await _scale(server, 1)
        await settle(server)
        assert (_version(server), _group(server).Count) == (2, 1)
        assert len(live(server)) == 1

        status = server.jobs.scale_status("default", "web")
        g = status["TaskGroups"]["g"]
        assert (g["Desired"], g["Placed"], g["Running"]) == (1, 1, 0)
        assert status["JobID"] == "web" and status["JobStopped"] is False
        events = g["Events"]
        assert [(ev["PreviousCount"], ev["Count"]) for ev in events] == [(4, 1), (2, 4)]
        assert events[1]["Message"] == "more please" and events[1]["EvalID"] == out["EvalID"]
        assert events[1]["CreateIndex"] == out["Index"] and events[1]["Time"] > 0
    run(body)


def test_bad_scale_requests_are_refused_and_change_nothing(run):
    async def body(server):
        await server.jobs.register(make_job(count=2, typ="batch"))
        index = server.state.latest_index
        with pytest.raises(NotFound, match='job "nope" not found'):
            await _scale(server, 3, job_id="nope")
        with pytest.raises(BadRequest) as err:
            await _scale(server, 3, group="x")
        assert err.value.message == 'task group "x" specified for scaling does not exist in job'
        with pytest.raises(BadRequest, match="count can't be negative"):
            await _scale(server, -1)
        with pytest.raises(BadRequest, match="missing task group name"):
            await server.jobs.scale("default", "web", {}, 3)
        with pytest.raises(BadRequest, match="job ID in payload did not match URL"):
            await server.jobs.scale("default", "web", {"Job": "other", "Group": "g"}, 3)
        with pytest.raises(BadRequest, match="namespace in payload did not match"):
            await server.jobs.scale("default", "web", {"Namespace": "prod", "Group": "g"}, 3)
        with pytest.raises(BadRequest, match="should not contain count if error is true"):
            await _scale(server, 3, error=True)
        with pytest.raises(Conflict, match="conflicting job modify index"):
            await _scale(server, 3, job_modify_index=999)
        assert server.state.latest_index == index
        assert (_version(server), _group(server).Count) == (0, 2)
        assert server.jobs.scale_status("default", "web")["TaskGroups"]["g"]["Events"] is None
    run(body)


def test_enforced_job_modify_index_that_matches_scales(run):
    async def body(server):
        out = await server.jobs.register(make_job(count=2, typ="batch"))
        await _scale(server, 3, job_modify_index=out["JobModifyIndex"])
        assert _group(server).Count == 3
    run(body)


def test_scaling_policy_bounds(run):
    async def body(server):
        job = make_job(count=2, typ="batch")
        job.TaskGroups[0].Scaling = {"Min": 1, "Max": 5}
        await server.jobs.register(job)
        with pytest.raises(BadRequest) as err:
            await _scale(server, 6)
        assert err.value.message == "group count was greater than scaling policy maximum: 6 > 5"
        with pytest.raises(BadRequest) as err:
            await _scale(server, 0)
        assert err.value.message == "group count was less than scaling policy minimum: 0 < 1"
        await _scale(server, 5)
        assert _group(server).Count == 5
    run(body)


def test_scaling_block_without_min_keeps_the_submitted_count_as_minimum(run):
    async def body(server):
        job = make_job(count=3, typ="batch")
        job.TaskGroups[0].Scaling = {"Max": 10}
        await server.jobs.register(job)
        with pytest.raises(BadRequest, match=r"less than scaling policy minimum: 2 < 3"):
            await _scale(server, 2)
        await _scale(server, 6)
        assert _group(server).Scaling["Min"] == 3
        with pytest.raises(BadRequest, match=r"2 < 3"):
            await _scale(server, 2)
        await _scale(server, 3)
        assert _group(server).Count == 3
    run(body)


def test_event_without_count_is_only_recorded(run):
    async def body(server):
        await server.jobs.register(make_job(count=2, typ="batch"))
        job = server.state.job_by_id("default", "web")
        evals = len(server.state.evals)
        out = await _scale(server, None, message="cpu too high", error=True,
                           meta={"metric": [1, 2]})
        assert out["EvalID"] == "" and out["EvalCreateIndex"] == 0
        assert out["JobModifyIndex"] == job.ModifyIndex
        assert len(server.state.evals) == evals and _version(server) == 0
        ev = server.jobs.scale_status("default", "web")["TaskGroups"]["g"]["Events"][0]
        assert ev["Error"] is True and ev["Count"] is None and ev["EvalID"] is None
        assert ev["PreviousCount"] == 2 and ev["Meta"] == {"metric": [1, 2]}
        for i in range(25):
            await _scale(server, None, message=f"event {i}")
        events = server.jobs.scale_status("default", "web")["TaskGroups"]["g"]["Events"]
        assert len(events) == 20
        assert events[0]["Message"] == "event 24" and events[-1]["Message"] == "event 5"
    run(body)


def test_scaling_refused_while_registration_is_rejected(run):
    async def body(server):
        await server.jobs.register(make_job(count=2, typ="batch"))
        await server.operator.set_scheduler_config(
            SchedulerConfiguration(RejectJobRegistration=True), cas=None)
        with pytest.raises(Forbidden, match="scale are disabled"):
            await _scale(server, 3)
        with pytest.raises(Forbidden):
            await _scale(server, None, message="event only")
        assert _group(server).Count == 2
    run(body)


def test_system_jobs_cannot_be_scaled(run):
    async def body(server):
        await server.jobs.register(make_job(count=1, typ="system"))
        with pytest.raises(BadRequest, match='cannot scale jobs of type "system"'):
            await _scale(server, 3)
    run(body)


def test_periodic_job_is_scaled_without_an_evaluation(run):
    async def body(server):
        job = make_job(count=1, typ="batch")
        job.Periodic = PeriodicConfig(Enabled=True, Spec="*/5 * * * *", SpecType="cron")
        await server.jobs.register(job)
        evals = len(server.state.evals)
        out = await _scale(server, 2)
        assert out["EvalID"] == "" and len(server.state.evals) == evals
        assert (_version(server), _group(server).Count) == (1, 2)
    run(body)


def test_service_job_scaling_waits_for_its_deployment(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=2))
        await settle(server)
        with pytest.raises(BadRequest, match="blocked due to active deployment"):
            await _scale(server, 3)
        allocs = live(server)
        await server.nodes.update_allocs([
            Allocation(ID=a.ID, NodeID=a.NodeID, ClientStatus="running",
                       DeploymentStatus=AllocDeploymentStatus(
                           Healthy=True, Timestamp="2026-11-29T12:00:00Z")) for a in allocs])
        status = server.jobs.scale_status("default", "web")["TaskGroups"]["g"]
        assert (status["Placed"], status["Running"], status["Healthy"]) == (2, 2, 2)
        await _until(lambda: server.state.latest_deployment_by_job_id("default", "web").Status
                     == "successful", "the deployment to succeed")
        await _scale(server, 3)
        await settle(server)
        assert len(live(server)) == 3
    run(body)


def test_scale_status_of_unknown_and_stopped_jobs(run):
    async def body(server):
        with pytest.raises(NotFound):
            server.jobs.scale_status("default", "web")
        await server.jobs.register(make_job(count=2, typ="batch"))
        await _scale(server, None, message="before purge")
        await server.jobs.deregister("default", "web")
        assert server.jobs.scale_status("default", "web")["JobStopped"] is True
        await server.jobs.deregister("default", "web", purge=True)
        await server.jobs.register(make_job(count=2, typ="batch"))
        status = server.jobs.scale_status("default", "web")
        # events of the purged job don't carry over to a new job with the same ID
        assert status["TaskGroups"]["g"]["Events"] is None
        assert status["JobCreateIndex"] == server.state.job_by_id("default", "web").CreateIndex
    run(body)
