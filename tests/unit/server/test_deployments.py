"""Deployments end to end inside one server: creation, rolling updates `max_parallel` at a
time driven by allocation health, success (job version stable), failure with auto-revert,
pause/resume, fail, and cancellation by a newer version or a stop."""

from __future__ import annotations

import asyncio

import pytest
from server_helpers import live, settle
from test_scheduling import make_job, make_node

from pynomad.server.errors import BadRequest, NotFound
from pynomad.structs import AllocDeploymentStatus, Allocation, UpdateStrategy


def _job(count=3, command="sleep", **update):
    job = make_job(count=count, command=command)
    job.Update = UpdateStrategy(MaxParallel=update.pop("MaxParallel", 1), **update)
    return job


async def _until(cond, what: str):
    for _ in range(500):
        value = cond()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _report(server, allocs, healthy=True):
    """What a client sends once it has decided an allocation's health."""
    await server.nodes.update_allocs([
        Allocation(ID=a.ID, NodeID=a.NodeID, ClientStatus="running",
                   DeploymentStatus=AllocDeploymentStatus(
                       Healthy=healthy, Timestamp="2026-11-29T12:00:00Z"))
        for a in allocs])


def _latest(server):
    return server.state.latest_deployment_by_job_id("default", "web")


def _unreported(server):
    return [a for a in live(server) if a.DeploymentStatus is None]


async def _roll(server, version: int, on_each=None) -> None:
    """Report every allocation of the deployment healthy, batch by batch, until done."""
    while _latest(server).Status == "running":
        batch = await _until(lambda: _unreported(server), "a batch to report")
        assert all(a.Job.Version == version for a in batch)
        if on_each:
            on_each(batch)
        await _report(server, batch)
        await _until(lambda: _latest(server).Status != "running" or _unreported(server),
                     "the next batch")
        await settle(server)


def test_new_job_deploys_and_becomes_stable(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job())
        await settle(server)
        d = _latest(server)
        assert (d.Status, d.StatusDescription) == ("running", "Deployment is running")
        assert d.TaskGroups["g"].DesiredTotal == 3 and d.TaskGroups["g"].PlacedAllocs == 3
        assert {a.DeploymentID for a in live(server)} == {d.ID}
        assert server.state.job_by_id("default", "web").Stable is False
        await _report(server, live(server))
        await _until(lambda: _latest(server).Status == "successful", "success")
        d = _latest(server)
        assert d.StatusDescription == "Deployment completed successfully"
        assert d.TaskGroups["g"].HealthyAllocs == 3
        assert server.state.job_by_id("default", "web").Stable is True
    run(body)


def test_rolling_update_replaces_max_parallel_at_a_time(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=4, MaxParallel=2))
        await settle(server)
        await _roll(server, 0)
        first = {a.ID for a in live(server)}
        await server.jobs.register(_job(count=4, command="true", MaxParallel=2))
        await settle(server)
        d = _latest(server)
        assert d.JobVersion == 1 and d.TaskGroups["g"].DesiredTotal == 4
        batches = []
        await _roll(server, 1, lambda batch: batches.append(len(batch)))
        assert batches == [2, 2]
        now = live(server)
        assert len(now) == 4 and not ({a.ID for a in now} & first)
        assert _latest(server).Status == "successful"
        assert server.state.job_by_id("default", "web").Stable is True
    run(body)


def test_unhealthy_alloc_fails_and_reverts_to_stable_version(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=2, ProgressDeadline=0, AutoRevert=True))
        await settle(server)
        await _roll(server, 0)
        await server.jobs.register(_job(count=2, command="true", ProgressDeadline=0,
                                        AutoRevert=True))
        await settle(server)
        failing = _latest(server)
        await _report(server, _unreported(server), healthy=False)
        await _until(lambda: server.state.deployment_by_id(failing.ID).Status == "failed",
                     "failure")
        assert server.state.deployment_by_id(failing.ID).StatusDescription == \
            "Failed due to unhealthy allocations - rolling back to job version 0"
        job = server.state.job_by_id("default", "web")
        assert job.Version == 2 and job.TaskGroups[0].Tasks[0].Config["command"] == "sleep"
    run(body)


def test_pause_holds_the_rollout_and_resume_continues(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=2))
        await settle(server)
        await _roll(server, 0)
        await server.jobs.register(_job(count=2, command="true"))
        await settle(server)
        d = _latest(server)
        reply = await server.deployments.pause(d.ID, True)
        assert reply["DeploymentModifyIndex"] == reply["Index"]
        assert _latest(server).StatusDescription == "Deployment is paused"
        await _report(server, _unreported(server))
        await asyncio.sleep(0.5)
        await settle(server)
        assert _unreported(server) == []  # nothing new placed while paused
        reply = await server.deployments.pause(d.ID, False)
        assert reply["EvalID"]
        await _until(lambda: _unreported(server), "the next batch after resume")
    run(body)


def test_fail_and_errors(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=1))
        await settle(server)
        d = _latest(server)
        with pytest.raises(NotFound):
            await server.deployments.fail("nope")
        with pytest.raises(BadRequest, match="no canaries to promote"):
            await server.deployments.promote(d.ID, True, [])
        with pytest.raises(BadRequest, match="is not part of the deployment"):
            await server.deployments.set_alloc_health(d.ID, ["x"], [])
        reply = await server.deployments.fail(d.ID)
        assert reply["EvalID"] and "RevertedJobVersion" not in reply
        assert (_latest(server).Status, _latest(server).StatusDescription) == \
            ("failed", "Deployment marked as failed")
        with pytest.raises(BadRequest, match="can't pause terminal deployment"):
            await server.deployments.pause(d.ID, True)
    run(body)


def test_manual_health_marks_allocs(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=2))
        await settle(server)
        d = _latest(server)
        ids = [a.ID for a in live(server)]
        await server.deployments.set_alloc_health(d.ID, ids, [])
        await _until(lambda: _latest(server).Status == "successful", "success")
        assert all(a.DeploymentStatus.Healthy for a in live(server))
    run(body)


def test_newer_version_and_stop_cancel_the_deployment(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=2))
        await settle(server)
        first = _latest(server)
        await server.jobs.register(_job(count=2, command="true"))
        await settle(server)
        old = server.state.deployment_by_id(first.ID)
        assert (old.Status, old.StatusDescription) == \
            ("cancelled", "Cancelled due to newer version of job")
        second = _latest(server)
        await server.jobs.deregister("default", "web")
        await settle(server)
        stopped = server.state.deployment_by_id(second.ID)
        assert (stopped.Status, stopped.StatusDescription) == \
            ("cancelled", "Cancelled because job is stopped")
    run(body)


def test_watcher_fails_a_deployment_past_its_progress_deadline():
    from pynomad.server.deployment_watcher import compute_watch
    from pynomad.structs import Deployment, DeploymentState

    def deployment(healthy):
        return Deployment(ID="d1", TaskGroups={"g": DeploymentState(
            ProgressDeadline=600 * 10**9, RequireProgressBy="2026-11-29T12:00:00Z",
            AutoRevert=True, DesiredTotal=2, PlacedAllocs=2, HealthyAllocs=healthy)})

    before = 1_795_953_000 * 10**9   # 11:50 UTC
    after = 1_795_954_000 * 10**9    # 12:06 UTC
    assert compute_watch([deployment(1)], before, {"d1": 1}) == []
    [action] = compute_watch([deployment(1)], after, {"d1": 1})
    assert (action.fail_description, action.rollback) == ("Failed due to progress deadline", True)
    assert compute_watch([deployment(2)], after, {"d1": 2}) == []  # healthy in time
    [action] = compute_watch([deployment(2)], before, {"d1": 1})
    assert action.evaluate and not action.fail_description


def _canaries(server):
    return [a for a in live(server) if a.DeploymentStatus and a.DeploymentStatus.Canary]


def test_canaries_wait_for_promotion_then_roll(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=3, Canary=1))
        await settle(server)
        assert _canaries(server) == []  # a first version has nothing to canary
        await _roll(server, 0)
        old = {a.ID for a in live(server)}
        await server.jobs.register(_job(count=3, command="true", Canary=1))
        await settle(server)
        d = _latest(server)
        assert d.StatusDescription == "Deployment is running but requires manual promotion"
        assert d.TaskGroups["g"].DesiredCanaries == 1
        [canary] = _canaries(server)
        assert canary.Name == "web.g[0]" and canary.Job.Version == 1
        assert d.TaskGroups["g"].PlacedCanaries == [canary.ID]
        assert {a.ID for a in live(server)} - {canary.ID} == old  # nothing else touched
        with pytest.raises(BadRequest, match="has 0/1 healthy allocations"):
            await server.deployments.promote(d.ID, True, [])
        await _report(server, [canary])
        await _until(lambda: _latest(server).TaskGroups["g"].HealthyAllocs == 1, "healthy")
        await asyncio.sleep(0.5)
        await settle(server)
        assert len(live(server)) == 4 and _latest(server).Status == "running"  # held
        await server.deployments.promote(d.ID, True, [])
        await settle(server)
        assert _latest(server).TaskGroups["g"].Promoted
        assert _canaries(server) == []  # promotion clears the canary flag
        await _roll(server, 1)
        now = live(server)
        assert len(now) == 3 and canary.ID in {a.ID for a in now}
        assert all(a.Job.Version == 1 for a in now)
        assert _latest(server).Status == "successful"
    run(body)


def test_auto_promote_promotes_healthy_canaries(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=2, Canary=2, AutoPromote=True))
        await settle(server)
        await _roll(server, 0)
        await server.jobs.register(_job(count=2, command="true", Canary=2, AutoPromote=True))
        await settle(server)
        d = _latest(server)
        assert d.StatusDescription == "Deployment is running pending automatic promotion"
        canaries = _canaries(server)
        assert sorted(a.Name for a in canaries) == ["web.g[0]", "web.g[1]"]
        await _report(server, canaries)
        await _until(lambda: _latest(server).Status == "successful", "auto promotion")
        now = live(server)
        assert {a.ID for a in now} == {a.ID for a in canaries}
    run(body)


def test_newer_version_stops_unpromoted_canaries(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=2, Canary=1))
        await settle(server)
        await _roll(server, 0)
        await server.jobs.register(_job(count=2, command="true", Canary=1))
        await settle(server)
        [canary] = _canaries(server)
        await server.jobs.register(_job(count=2, command="echo", Canary=1))
        await settle(server)
        assert server.state.alloc_by_id(canary.ID).DesiredStatus == "stop"
        [fresh] = _canaries(server)
        assert fresh.Job.Version == 2
    run(body)


def test_revert_registers_an_old_version_and_stability_can_be_set(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=1))
        await settle(server)
        await server.jobs.register(_job(count=1, command="true"))
        await settle(server)
        with pytest.raises(BadRequest, match="can't revert to current version"):
            await server.jobs.revert("default", "web", 1)
        with pytest.raises(BadRequest, match="current job has version 1; enforcing version 0"):
            await server.jobs.revert("default", "web", 0, enforce_prior_version=0)
        with pytest.raises(NotFound, match="at version 7 not found"):
            await server.jobs.revert("default", "web", 7)
        out = await server.jobs.revert("default", "web", 0, enforce_prior_version=1)
        assert out["EvalID"]
        job = server.state.job_by_id("default", "web")
        assert job.Version == 2 and job.TaskGroups[0].Tasks[0].Config["command"] == "sleep"
        assert job.Stable is False
        await server.jobs.set_stability("default", "web", 2, True)
        assert server.state.job_by_id("default", "web").Stable is True
        with pytest.raises(NotFound):
            await server.jobs.set_stability("default", "web", 9, True)
    run(body)


def test_system_gc_collects_finished_deployments_of_stopped_jobs(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(_job(count=1))
        await settle(server)
        first = _latest(server)
        await server.jobs.register(_job(count=1, command="true"))
        await settle(server)
        second = _latest(server)
        await server.force_gc()
        assert server.state.deployment_by_id(first.ID) is None  # cancelled, allocs stopped
        assert server.state.deployment_by_id(second.ID) is not None  # still running
        await server.jobs.deregister("default", "web")
        await settle(server)
        await server.nodes.update_allocs([
            Allocation(ID=a.ID, NodeID=a.NodeID, ClientStatus="complete")
            for a in server.state.allocs_by_job_id("default", "web")])
        await server.force_gc()
        assert server.state.deployments == {}
    run(body)
