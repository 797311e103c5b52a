"""Blocked evaluations end to end in one server: a job that cannot place leaves one blocked
evaluation; stopping or purging the job cancels it, `nomad system gc` collects it, and a job
registered again under the same name carries no old placement failure."""

import pytest
from server_helpers import settle
from test_scheduling import make_job, make_node


def blocked_evals(server, job_id="web"):
    return [ev for ev in server.state.evals_by_job_id("default", job_id)
            if ev.Status == "blocked"]


async def register_unplaceable(server):
    await server.nodes.register(make_node(0, cpu=500))
    await server.jobs.register(make_job(cpu=4000))
    await settle(server)
    assert len(blocked_evals(server)) == 1
    assert len(server.blocked) == 1  # nomad.blocked_evals.total_blocked


@pytest.mark.parametrize("purge", [True, False])
def test_stopping_a_job_cancels_its_blocked_evaluation(run, purge):
    async def body(server):
        await register_unplaceable(server)
        blocked_id = blocked_evals(server)[0].ID
        await server.jobs.deregister("default", "web", purge=purge)
        await settle(server)
        canceled = server.state.eval_by_id(blocked_id)
        assert canceled.Status == "canceled"
        assert canceled.StatusDescription.endswith("successful")
        assert len(server.blocked) == 0
        if not purge:
            await server.jobs.deregister("default", "web", purge=True)
            await settle(server)
        await server.force_gc()
        assert server.state.evals_by_job_id("default", "web") == []
    run(body)


def test_job_registered_again_shows_no_old_placement_failure(run):
    async def body(server):
        await register_unplaceable(server)
        await server.jobs.deregister("default", "web", purge=True)
        await settle(server)
        await server.jobs.register(make_job(cpu=100))
        await settle(server)
        evals = server.state.evals_by_job_id("default", "web")
        assert not [ev for ev in evals if ev.Status == "blocked"]
        latest = max(evals, key=lambda ev: ev.CreateIndex)
        assert latest.Status == "complete" and not latest.FailedTGAllocs
    run(body)
