"""Scheduling runs off the event loop, against a snapshot, bounded by what the cluster can
hold: a huge count gets a blocked evaluation with the rest queued, and the loop keeps
running other work while an evaluation is being scheduled."""

import asyncio

from server_helpers import settle
from test_scheduling import make_job, make_node

HUGE = 2_147_483_648


def test_huge_count_places_what_fits_and_queues_the_rest(run):
    async def body(server):
        await server.nodes.register(make_node(0, cpu=4000))
        out = await server.jobs.register(make_job(count=HUGE, cpu=100))
        await asyncio.wait_for(settle(server), 60)
        placed = [a for a in server.state.allocs_by_job_id("default", "web")]
        assert len(placed) == 40  # 4000 MHz / 100 MHz
        ev = server.state.eval_by_id(out["EvalID"])
        assert ev.Status == "complete" and ev.QueuedAllocations == {"g": HUGE - 40}
        assert ev.FailedTGAllocs["g"].CoalescedFailures == HUGE - 40 - 1
        blocked = server.state.eval_by_id(ev.BlockedEval)
        assert blocked.Status == "blocked" and len(server.blocked) == 1
        assert server.state.job_summary("default", "web").Summary["g"].Queued == HUGE - 40
    run(body)


def test_event_loop_runs_while_an_evaluation_is_scheduled(run):
    async def body(server):
        for i in range(300):
            await server.nodes.register(make_node(i, cpu=100_000, mem=100_000))
        ticks_during = 0
        await server.jobs.register(make_job(count=3000, cpu=10))
        while server.broker.stats()["TotalUnacked"] == 0 and not \
                server.state.allocs_by_job_id("default", "web"):
            await asyncio.sleep(0)
        while server.broker.stats()["TotalUnacked"]:
            ticks_during += 1
            await asyncio.sleep(0.005)
        await settle(server)
        assert len(server.state.allocs_by_job_id("default", "web")) == 3000
        assert ticks_during > 1  # the loop was not held for the whole evaluation
    run(body)
