"""The FSM drives the leader's duties, and leadership starts and stops them together."""

from server_helpers import settle
from test_scheduling import make_job, make_node

from pynomad.state import entries as e
from pynomad.structs import Evaluation, generate_uuid


def test_applied_evaluations_reach_the_broker(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        await server.jobs.register(make_job(count=1))
        await settle(server)
        ev = Evaluation(ID=generate_uuid(), JobID="web", Type="service", Priority=50,
                        TriggeredBy="job-register", Status="pending")
        await server.commit(e.EvalUpdate(Evals=[ev]))  # a plain write, no enqueue by hand
        await settle(server)
        assert server.state.eval_by_id(ev.ID).Status == "complete"
    run(body)


def test_job_modify_index_is_set_when_applied(run):
    async def body(server):
        out = await server.jobs.register(make_job(count=1))
        job = server.state.job_by_id("default", "web")
        ev = server.state.eval_by_id(out["EvalID"])
        assert ev.JobModifyIndex == job.JobModifyIndex == out["JobModifyIndex"]
        out = await server.jobs.deregister("default", "web")
        assert server.state.eval_by_id(out["EvalID"]).JobModifyIndex == out["JobModifyIndex"]
    run(body)


def test_losing_leadership_stops_every_duty_and_winning_restores_them(run):
    async def body(server):
        await server.nodes.register(make_node(0))
        assert server.leader.active and len(server.heartbeats) == 1
        await server.lost()
        assert not server.leader.active and server.fsm.leader is None
        assert not server.broker.enabled and not server.blocked.enabled
        assert len(server.heartbeats) == 0
        out = await server.jobs.register(make_job(count=1))  # written, not scheduled
        assert server.broker.stats()["TotalReady"] == 0
        assert server.state.eval_by_id(out["EvalID"]).Status == "pending"
        await server.acquired()
        assert len(server.heartbeats) == 1  # armed with the failover TTL
        await settle(server)
        assert server.state.eval_by_id(out["EvalID"]).Status == "complete"
        assert len(server.state.allocs_by_job_id("default", "web")) == 1
    run(body)
