"""AllocMetric contents, class-eligibility caching, limits and the reschedule penalty."""

import random

from sched_harness import FakeState, make_job, make_node, run_eval

from pynomad.scheduler.context import EvalContext
from pynomad.scheduler.generic import penalty_nodes
from pynomad.scheduler.stack import GenericStack
from pynomad.structs import (Affinity, Allocation, AllocMetric, Constraint, Plan,
                             RescheduleEvent, RescheduleTracker)
from pynomad.structs.defaults import canonicalize


def test_constraint_filtered_keys_and_class_cache():
    state = FakeState()
    for i in range(3):
        state.add_node(make_node(i, attrs={"kernel.name": "darwin"}, node_class="mac"))
    job = make_job(count=1)
    job.Constraints = [Constraint(LTarget="${attr.kernel.name}", RTarget="linux", Operand="=")]
    out = run_eval(state, job)
    metric = out.eval.FailedTGAllocs["g"]
    assert metric.NodesEvaluated == 3 and metric.NodesFiltered == 3
    # the first node of the class runs the check; the others hit the class cache
    assert metric.ConstraintFiltered == {"${attr.kernel.name} = linux": 1,
                                         "computed class ineligible": 2}
    assert metric.ClassFiltered == {"mac": 3}
    blocked = out.create_evals[0]
    assert blocked.Status == "blocked" and blocked.TriggeredBy == "queued-allocs"
    assert blocked.ClassEligibility == {state.nodes[make_node(0).ID].ComputedClass: False}
    assert blocked.EscapedComputedClass is False
    assert blocked.StatusDescription == "created to place remaining allocations"


def test_missing_driver_metric():
    state = FakeState()
    state.add_node(make_node(0))
    out = run_eval(state, make_job(driver="docker"))
    assert out.eval.FailedTGAllocs["g"].ConstraintFiltered == {"missing drivers": 1}


def test_escaped_constraints_are_checked_per_node():
    state = FakeState()
    nodes = [state.add_node(make_node(i)) for i in range(4)]
    assert len({n.ComputedClass for n in nodes}) == 1
    job = make_job(count=1)
    job.Constraints = [Constraint(LTarget="${node.unique.name}", RTarget="node-2", Operand="=")]
    run_eval(state, job)
    assert list(state.per_node("web")) == [nodes[2].ID]
    bad = make_job("bad", count=1)
    bad.Constraints = [Constraint(LTarget="${attr.unique.hostname}", RTarget="nope")]
    out = run_eval(state, bad)
    blocked = out.create_evals[0]
    assert blocked.EscapedComputedClass is True and blocked.ClassEligibility is None
    assert out.eval.FailedTGAllocs["g"].ConstraintFiltered == {
        "${attr.unique.hostname} = nope": 4}


def test_dimension_exhausted_and_resources_exhausted():
    state = FakeState()
    state.add_node(make_node(0, cpu=4000, mem=256))
    out = run_eval(state, make_job(count=2, cpu=100, mem=512))
    metric = out.eval.FailedTGAllocs["g"]
    assert metric.DimensionExhausted == {"memory": 1}
    assert metric.NodesExhausted == 1 and metric.CoalescedFailures == 1
    assert metric.ResourcesExhausted["t"].MemoryMB == 1024
    assert out.eval.QueuedAllocations == {"g": 2}


def test_score_metadata_top_five_sorted():
    state = FakeState()
    for i in range(8):
        state.add_node(make_node(i))
    job = make_job(count=1)
    job.Affinities = [Affinity(LTarget="${node.unique.name}", RTarget="node-5", Weight=10)]
    run_eval(state, job)
    alloc = state.live("web")[0]
    meta = alloc.Metrics.ScoreMetaData
    assert len(meta) == 5
    norms = [m.NormScore for m in meta]
    assert norms == sorted(norms, reverse=True)
    assert meta[0].NodeID == alloc.NodeID == make_node(5).ID
    assert set(meta[0].Scores) == {"binpack", "job-anti-affinity", "node-reschedule-penalty",
                                   "node-affinity"}
    assert alloc.Metrics.NodesEvaluated == 8  # affinity: limit max(count, 100)
    assert alloc.Metrics.NodesAvailable == {"dc1": 8} and alloc.Metrics.NodesInPool == 8


def test_limit_without_affinity_is_log2():
    state = FakeState()
    for i in range(64):
        state.add_node(make_node(i))
    run_eval(state, make_job(count=1, cpu=500))
    metric = state.live("web")[0].Metrics
    # empty nodes score 0 and up to 3 are skipped; limit is ceil(log2 64) = 6
    assert 6 <= metric.NodesEvaluated <= 9


def test_node_limit_for_feasibility_checks_is_configurable():
    state = FakeState()
    for i in range(50):
        state.add_node(make_node(i))
    job = make_job(count=1)
    job.Affinities = [Affinity(LTarget="${meta.none}", RTarget="x", Weight=10)]
    run_eval(state, job, config={"NodeLimitForFeasibilityChecks": 20})
    assert state.live("web")[0].Metrics.NodesEvaluated == 20


def _stack(state, job, nodes):
    ctx = EvalContext(state, Plan(EvalID="e"), random.Random(1))
    return GenericStack(ctx, canonicalize(job), nodes, batch=False)


def test_reschedule_penalty_avoids_previous_node():
    state = FakeState()
    nodes = [state.add_node(make_node(i)) for i in range(2)]
    job = make_job(count=1)
    state.put_job(job)
    for _ in range(5):
        stack = _stack(state, job, nodes)
        metric = AllocMetric()
        option = stack.select(job.TaskGroups[0], metric, {nodes[0].ID})
        assert option.node.ID == nodes[1].ID
        scores = {m.NodeID: m.Scores for m in metric.ScoreMetaData}
        assert scores[nodes[0].ID]["node-reschedule-penalty"] == -1.0
        assert scores[nodes[1].ID]["node-reschedule-penalty"] == 0.0


def test_penalty_nodes_follow_nomad():
    prev = Allocation(NodeID="n1", ClientStatus="failed", RescheduleTracker=RescheduleTracker(
        Events=[RescheduleEvent(PrevNodeID="n0")]))
    assert penalty_nodes(prev) == {"n0", "n1"}
    assert penalty_nodes(Allocation(NodeID="n1", ClientStatus="lost")) == set()
    assert penalty_nodes(None) == set()


def test_job_anti_affinity_spreads_a_service_group():
    state = FakeState()
    for i in range(3):
        state.add_node(make_node(i))
    run_eval(state, make_job(count=3))
    assert sorted(state.per_node("web").values()) == [1, 1, 1]
    alloc = sorted(state.live("web"), key=lambda a: a.Name)[-1]
    assert any(m.Scores["job-anti-affinity"] < 0 for m in alloc.Metrics.ScoreMetaData)


def test_system_job_skips_ineligible_and_filtered_nodes_quietly():
    state = FakeState()
    nodes = [state.add_node(make_node(i)) for i in range(3)]
    nodes[1].SchedulingEligibility = "ineligible"
    nodes[2].Attributes["kernel.name"] = "windows"
    job = make_job("sys", typ="system")
    job.Constraints = [Constraint(LTarget="${attr.kernel.name}", RTarget="linux")]
    out = run_eval(state, job)
    assert list(state.per_node("sys")) == [nodes[0].ID]
    assert out.eval.FailedTGAllocs is None and out.create_evals == []
