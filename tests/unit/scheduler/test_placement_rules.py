"""Placement scenarios: where allocations land under constraints, spread, affinity,
distinct_hosts/distinct_property and the scheduler algorithm."""

from collections import Counter

import pytest
from sched_harness import FakeState, make_job, make_node, run_eval

from pynomad.structs import Affinity, Constraint, Spread, SpreadTarget


def _nodes(state, n, **kw):
    return [state.add_node(make_node(i, **kw)) for i in range(n)]


# -- constraint operators at placement level -------------------------------------------------
OPERATOR_CASES = [
    ("${attr.kernel.name}", "=", "linux", {0, 1, 2}),
    ("${attr.kernel.name}", "!=", "linux", {3}),
    ("${attr.os.version}", "<", "10", {0}),
    ("${attr.os.version}", ">=", "10", {1, 2}),
    ("${attr.os.version}", "version", ">= 9, < 12", {0, 1}),
    ("${attr.os.version}", "semver", ">= 10.0.0", set()),
    ("${attr.tags}", "set_contains", "a,b", {0}),
    ("${attr.tags}", "set_contains_any", "b,z", {0, 1}),
    ("${attr.tags}", "is_set", "", {0, 1}),
    ("${attr.tags}", "is_not_set", "", {2, 3}),
    ("${attr.kernel.name}", "regexp", "^lin", {0, 1, 2}),
    ("${node.datacenter}", "=", "dc2", {2, 3}),
    ("${node.class}", "=", "gpu", {1}),
    ("${meta.rack}", "=", "r1", {0, 2}),
    ("${node.unique.name}", "=", "node-3", {3}),
    ("${attr.kernel.name}", "bogus", "linux", set()),
]


def _operator_cluster(state):
    specs = [
        dict(dc="dc1", attrs={"os.version": "9", "tags": "a,b,c"}, meta={"rack": "r1"}),
        dict(dc="dc1", attrs={"os.version": "10", "tags": "b"}, node_class="gpu",
             meta={"rack": "r2"}),
        dict(dc="dc2", attrs={"os.version": "12"}, meta={"rack": "r1"}),
        dict(dc="dc2", attrs={"kernel.name": "windows"}),
    ]
    return [state.add_node(make_node(i, **spec)) for i, spec in enumerate(specs)]


@pytest.mark.parametrize("ltarget,op,rtarget,expected", OPERATOR_CASES)
def test_constraint_operators_select_nodes(ltarget, op, rtarget, expected):
    state = FakeState()
    nodes = _operator_cluster(state)
    job = make_job("sys", typ="system")
    job.Constraints = [Constraint(LTarget=ltarget, RTarget=rtarget, Operand=op)]
    run_eval(state, job)
    assert set(state.per_node("sys")) == {nodes[i].ID for i in expected}


def test_task_level_constraint_applies_to_group():
    state = FakeState()
    nodes = _operator_cluster(state)
    job = make_job("sys", typ="system")
    job.TaskGroups[0].Tasks[0].Constraints = [
        Constraint(LTarget="${meta.rack}", RTarget="r2", Operand="=")]
    run_eval(state, job)
    assert set(state.per_node("sys")) == {nodes[1].ID}


# -- spread ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_spread_targets_70_30_across_datacenters(seed):
    state = FakeState()
    for i in range(10):
        state.add_node(make_node(i, dc="dc1" if i < 5 else "dc2"))
    job = make_job(count=10)
    job.Spreads = [Spread(Attribute="${node.datacenter}", Weight=100, SpreadTarget=[
        SpreadTarget(Value="dc1", Percent=70), SpreadTarget(Value="dc2", Percent=30)])]
    run_eval(state, job, seed=seed)
    by_dc = Counter(state.nodes[a.NodeID].Datacenter for a in state.live("web"))
    assert sum(by_dc.values()) == 10
    assert abs(by_dc["dc1"] - 7) <= 1 and abs(by_dc["dc2"] - 3) <= 1


def test_spread_implicit_remainder_target():
    state = FakeState()
    for i, dc in enumerate(["dc1", "dc1", "dc2", "dc2", "dc3", "dc3"]):
        state.add_node(make_node(i, dc=dc))
    job = make_job(count=10)
    job.TaskGroups[0].Spreads = [Spread(Attribute="${node.datacenter}", SpreadTarget=[
        SpreadTarget(Value="dc1", Percent=50)])]
    run_eval(state, job)
    by_dc = Counter(state.nodes[a.NodeID].Datacenter for a in state.live("web"))
    assert abs(by_dc["dc1"] - 5) <= 1
    assert abs(by_dc["dc2"] + by_dc["dc3"] - 5) <= 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_even_spread_across_racks(seed):
    state = FakeState()
    for i in range(12):
        state.add_node(make_node(i, meta={"rack": f"r{i % 3}"}))
    job = make_job(count=9)
    job.Spreads = [Spread(Attribute="${meta.rack}", Weight=100)]
    run_eval(state, job, seed=seed)
    by_rack = Counter(state.nodes[a.NodeID].Meta["rack"] for a in state.live("web"))
    assert sum(by_rack.values()) == 9
    assert max(by_rack.values()) - min(by_rack.values()) <= 1


def test_spread_counts_existing_allocations():
    state = FakeState()
    for i in range(6):
        state.add_node(make_node(i, meta={"rack": f"r{i % 2}"}))
    job = make_job(count=2)
    job.Spreads = [Spread(Attribute="${meta.rack}")]
    run_eval(state, job)
    job2 = make_job(count=6)
    job2.Spreads = [Spread(Attribute="${meta.rack}")]
    run_eval(state, job2)
    by_rack = Counter(state.nodes[a.NodeID].Meta["rack"] for a in state.live("web"))
    assert by_rack["r0"] == by_rack["r1"] == 3


# -- distinct_hosts / distinct_property ------------------------------------------------------
def test_distinct_hosts_never_shares_a_node():
    state = FakeState()
    _nodes(state, 5)
    job = make_job(count=6, Constraints=[Constraint(Operand="distinct_hosts", RTarget="true")])
    out = run_eval(state, job)
    per_node = state.per_node("web")
    assert len(per_node) == 5 and set(per_node.values()) == {1}
    metric = out.eval.FailedTGAllocs["g"]
    assert metric.ConstraintFiltered == {"distinct_hosts": 5}
    assert out.eval.QueuedAllocations == {"g": 1}


def test_distinct_hosts_false_is_off():
    state = FakeState()
    _nodes(state, 2)
    job = make_job(count=4, Constraints=[Constraint(Operand="distinct_hosts", RTarget="false")])
    run_eval(state, job)
    assert sum(state.per_node("web").values()) == 4


def _two_group_job(job_level: bool):
    job = make_job(count=2)
    second = make_job(count=2).TaskGroups[0]
    second.Name = "h"
    job.TaskGroups.append(second)
    dh = Constraint(Operand="distinct_hosts")
    if job_level:
        job.Constraints = [dh]
    else:
        for tg in job.TaskGroups:
            tg.Constraints = [dh]
    return job


def test_distinct_hosts_job_level_spans_groups():
    state = FakeState()
    _nodes(state, 4)
    run_eval(state, _two_group_job(job_level=True))
    assert set(state.per_node("web").values()) == {1}
    assert len(state.per_node("web")) == 4


def test_distinct_hosts_group_level_is_per_group():
    state = FakeState()
    _nodes(state, 2)
    run_eval(state, _two_group_job(job_level=False))
    allocs = state.live("web")
    assert len(allocs) == 4
    for group in ("g", "h"):
        assert len({a.NodeID for a in allocs if a.TaskGroup == group}) == 2


@pytest.mark.parametrize("limit,count,placed", [("", 3, 3), ("2", 6, 6), ("2", 7, 6)])
def test_distinct_property_respects_limit(limit, count, placed):
    state = FakeState()
    for i in range(9):
        state.add_node(make_node(i, meta={"rack": f"r{i % 3}"}))
    job = make_job(count=count, Constraints=[
        Constraint(Operand="distinct_property", LTarget="${meta.rack}", RTarget=limit)])
    out = run_eval(state, job)
    by_rack = Counter(state.nodes[a.NodeID].Meta["rack"] for a in state.live("web"))
    assert sum(by_rack.values()) == placed
    assert max(by_rack.values()) <= int(limit or 1)
    if placed < count:
        reasons = out.eval.FailedTGAllocs["g"].ConstraintFiltered
        assert all(k.startswith("distinct_property: ${meta.rack}=r") for k in reasons)


def test_distinct_property_job_level_counts_all_groups():
    state = FakeState()
    for i in range(4):
        state.add_node(make_node(i, meta={"rack": f"r{i % 2}"}))
    job = _two_group_job(job_level=False)
    for tg in job.TaskGroups:
        tg.Constraints = None
        tg.Count = 1
    job.Constraints = [Constraint(Operand="distinct_property", LTarget="${meta.rack}")]
    run_eval(state, job)
    racks = [state.nodes[a.NodeID].Meta["rack"] for a in state.live("web")]
    assert sorted(racks) == ["r0", "r1"]


def test_distinct_property_missing_attribute_filters():
    state = FakeState()
    state.add_node(make_node(0))
    job = make_job(count=1, Constraints=[
        Constraint(Operand="distinct_property", LTarget="${meta.rack}")])
    out = run_eval(state, job)
    assert out.eval.FailedTGAllocs["g"].ConstraintFiltered == {
        'missing property "${meta.rack}"': 1}


# -- algorithm -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_binpack_fills_a_node_before_the_next(seed):
    state = FakeState()
    for i in range(2):
        state.add_node(make_node(i, cpu=1000, mem=1024))
    for j in range(4):
        run_eval(state, make_job(f"j{j}", cpu=400, mem=400), seed=seed + j)
    used = Counter(a.NodeID for a in state.allocs.values())
    assert sorted(used.values()) == [2, 2]
    first = next(a.NodeID for a in state.allocs.values() if a.JobID == "j0")
    second = next(a.NodeID for a in state.allocs.values() if a.JobID == "j1")
    assert first == second


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_spread_algorithm_uses_the_emptier_node(seed):
    state = FakeState()
    for i in range(2):
        state.add_node(make_node(i, cpu=1000, mem=1024))
    config = {"SchedulerAlgorithm": "spread"}
    run_eval(state, make_job("j0", cpu=400, mem=400), config=config, seed=seed)
    run_eval(state, make_job("j1", cpu=400, mem=400), config=config, seed=seed + 1)
    assert len({a.NodeID for a in state.allocs.values()}) == 2


def test_spread_algorithm_from_positional_argument():
    state = FakeState()
    for i in range(2):
        state.add_node(make_node(i, cpu=1000, mem=1024))
    run_eval(state, make_job("j0", cpu=400, mem=400), algorithm="spread")
    run_eval(state, make_job("j1", cpu=400, mem=400), algorithm="spread")
    assert len({a.NodeID for a in state.allocs.values()}) == 2


# -- affinity --------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_affinity_prefers_matching_nodes(seed):
    state = FakeState()
    for i in range(12):
        state.add_node(make_node(i, meta={"ssd": "true" if i % 4 == 0 else "false"}))
    job = make_job(count=3)
    job.Affinities = [Affinity(LTarget="${meta.ssd}", RTarget="true", Operand="=", Weight=100)]
    run_eval(state, job, seed=seed)
    assert {state.nodes[a.NodeID].Meta["ssd"] for a in state.live("web")} == {"true"}


def test_negative_task_affinity_avoids_matching_nodes():
    state = FakeState()
    for i in range(6):
        state.add_node(make_node(i, dc="dc1" if i < 3 else "dc2"))
    job = make_job(count=3)
    job.TaskGroups[0].Tasks[0].Affinities = [
        Affinity(LTarget="${node.datacenter}", RTarget="dc1", Operand="=", Weight=-100)]
    run_eval(state, job)
    assert {state.nodes[a.NodeID].Datacenter for a in state.live("web")} == {"dc2"}


def test_affinity_scores_are_reported():
    state = FakeState()
    for i in range(3):
        state.add_node(make_node(i, meta={"ssd": "true" if i == 0 else "false"}))
    job = make_job(count=1)
    job.TaskGroups[0].Affinities = [
        Affinity(LTarget="${meta.ssd}", RTarget="true", Operand="=", Weight=50),
        Affinity(LTarget="${attr.kernel.name}", RTarget="linux", Operand="=", Weight=-50)]
    run_eval(state, job)
    alloc = state.live("web")[0]
    meta = {m.NodeID: m for m in alloc.Metrics.ScoreMetaData}
    assert meta[alloc.NodeID].Scores["node-affinity"] == 0.0  # (50 − 50) / 100
    others = [m for nid, m in meta.items() if nid != alloc.NodeID]
    assert all(m.Scores["node-affinity"] == -0.5 for m in others)
