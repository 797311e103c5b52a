"""Preemption: system jobs evict lower-priority allocations (priority gap ≥ 10)."""

import pytest
from sched_harness import FakeState, make_job, make_node, run_eval

from pynomad.scheduler import new_scheduler
from pynomad.structs.operator import SchedulerConfiguration as SchedulerConfig
from pynomad.scheduler.preemption import distance
from pynomad.scheduler.rank import net_priority, preemption_score
from pynomad.structs import Allocation, Job, MigrateStrategy, Port, NetworkResource


def _full_node(state, low_priority=20, count=1, cpu=1000, mem=1024):
    node = state.add_node(make_node(0, cpu=cpu, mem=mem))
    run_eval(state, make_job("low", count=count, cpu=cpu // count, mem=mem // count,
                             priority=low_priority))
    assert len(state.live("low")) == count
    return node


def test_system_job_preempts_lower_priority_alloc():
    state = FakeState()
    node = _full_node(state)
    victim = state.live("low")[0]
    out = run_eval(state, make_job("sys", typ="system", cpu=500, mem=256, priority=50))
    placed = state.live("sys")
    assert [a.NodeID for a in placed] == [node.ID]
    assert placed[0].PreemptedAllocations == [victim.ID]
    evicted = state.allocs[victim.ID]
    assert evicted.DesiredStatus == "evict"
    assert evicted.PreemptedByAllocation == placed[0].ID
    assert out.eval.FailedTGAllocs is None


def test_no_preemption_within_ten_priority():
    state = FakeState()
    _full_node(state, low_priority=45)
    out = run_eval(state, make_job("sys", typ="system", cpu=500, mem=256, priority=54))
    assert state.live("sys") == []
    assert len(state.live("low")) == 1
    assert out.eval.FailedTGAllocs["g"].DimensionExhausted == {"cpu": 1}
    assert out.create_evals and out.create_evals[0].Status == "blocked"


def test_preemption_disabled_by_config():
    state = FakeState()
    _full_node(state)
    config = {"PreemptionConfig": {"SystemSchedulerEnabled": False}}
    run_eval(state, make_job("sys", typ="system", cpu=500, mem=256, priority=50), config=config)
    assert state.live("sys") == []


def test_preemption_picks_closest_allocs_and_only_what_is_needed():
    state = FakeState()
    state.add_node(make_node(0, cpu=1000, mem=1000))
    for name, cpu in (("a", 200), ("b", 300), ("c", 500)):
        run_eval(state, make_job(name, cpu=cpu, mem=cpu, priority=20))
    run_eval(state, make_job("sys", typ="system", cpu=300, mem=300, priority=60))
    placed = state.live("sys")[0]
    assert [state.allocs[i].JobID for i in placed.PreemptedAllocations] == ["b"]


def test_preemption_takes_lowest_priority_first():
    state = FakeState()
    state.add_node(make_node(0, cpu=1000, mem=1000))
    run_eval(state, make_job("p30", cpu=500, mem=500, priority=30))
    run_eval(state, make_job("p20", cpu=500, mem=500, priority=20))
    run_eval(state, make_job("sys", typ="system", cpu=400, mem=400, priority=60))
    placed = state.live("sys")[0]
    assert [state.allocs[i].JobID for i in placed.PreemptedAllocations] == ["p20"]


def test_service_preemption_only_when_enabled():
    state = FakeState()
    _full_node(state)
    out = run_eval(state, make_job("svc", cpu=500, mem=256, priority=70))
    assert state.live("svc") == [] and out.eval.FailedTGAllocs
    config = {"PreemptionConfig": {"ServiceSchedulerEnabled": True}}
    run_eval(state, make_job("svc", cpu=500, mem=256, priority=70), config=config)
    placed = state.live("svc")
    assert len(placed) == 1 and placed[0].PreemptedAllocations
    assert "preemption" in placed[0].Metrics.ScoreMetaData[0].Scores


def test_system_job_preempts_static_port_holder():
    state = FakeState()
    node = state.add_node(make_node(0))
    net = NetworkResource(ReservedPorts=[Port(Label="http", Value=8080)])
    run_eval(state, make_job("low", priority=20, Networks=[net]))
    victim = state.live("low")[0]
    run_eval(state, make_job("sys", typ="system", priority=60, Networks=[net]))
    placed = state.live("sys")
    assert [a.NodeID for a in placed] == [node.ID]
    assert placed[0].PreemptedAllocations == [victim.ID]


def test_port_collision_without_preemption_is_network_exhaustion():
    state = FakeState()
    state.add_node(make_node(0))
    net = NetworkResource(ReservedPorts=[Port(Label="http", Value=8080)])
    run_eval(state, make_job("a", Networks=[net]))
    out = run_eval(state, make_job("b", Networks=[net]))
    assert out.eval.FailedTGAllocs["g"].DimensionExhausted == {
        "network: reserved port collision http=8080": 1}


def test_distance_and_scores():
    assert distance((100, 100, 0), (100, 100, 0)) == 0
    assert distance((100, 100, 0), (0, 0, 0)) == pytest.approx(2 ** 0.5)
    low = [Allocation(Job=Job(Priority=10)), Allocation(Job=Job(Priority=20))]
    assert net_priority(low) == pytest.approx(20 + 30 / 20)
    assert preemption_score(low) > 0.99
    high = [Allocation(Job=Job(Priority=2048))]
    assert net_priority(high) == 2049
    assert preemption_score(high) == pytest.approx(1 / (1 + 2.718281828 ** 0.0048), rel=1e-6)


def test_max_parallel_penalty_spreads_preemptions_across_jobs():
    state = FakeState()
    for i in range(2):
        state.add_node(make_node(i, cpu=1000, mem=1000))
    # two low-priority jobs, each with one alloc on each node
    for name in ("x", "y"):
        job = make_job(name, count=2, cpu=500, mem=500, priority=20,
                       Constraints=None, Migrate=MigrateStrategy(MaxParallel=1))
        job.Constraints = []
        run_eval(state, job)
    assert all(len(state.live(n)) == 2 for n in ("x", "y"))
    run_eval(state, make_job("sys", typ="system", cpu=500, mem=500, priority=60))
    victims = [state.allocs[i].JobID for a in state.live("sys") for i in a.PreemptedAllocations]
    assert sorted(victims) == ["x", "y"]


def test_new_scheduler_accepts_config_objects():
    cfg = SchedulerConfig.from_any({"scheduler_algorithm": "spread",
                                    "preemption_config": {"service_scheduler_enabled": True},
                                    "NodeLimitForFeasibilityChecks": 7})
    assert cfg.SchedulerAlgorithm == "spread" and cfg.node_limit == 7
    assert cfg.preemption_enabled("service") and cfg.preemption_enabled("system")
    assert not cfg.preemption_enabled("batch")
    sched = new_scheduler("service", FakeState(), 0, "binpack", config=cfg)
    assert sched.algorithm == "spread"
    assert new_scheduler("batch", FakeState(), 0, "spread").algorithm == "spread"
    assert new_scheduler("system", FakeState(), 0).config.preemption_enabled("system")
