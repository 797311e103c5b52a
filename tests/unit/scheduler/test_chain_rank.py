"""Each ranking step of the placement chain on its own."""

import math
import random

import pytest
from sched_harness import FakeState, make_job, make_node

from pynomad.scheduler.context import EvalContext, SelectOptions
from pynomad.scheduler.feasible.source import StaticIterator
from pynomad.scheduler.group import Group
from pynomad.scheduler.preemption import Preemptor
from pynomad.scheduler.rank.base import RankedNode
from pynomad.scheduler.rank.binpack import BinPackIterator, fit_score
from pynomad.scheduler.rank.job_anti_affinity import JobAntiAffinityIterator
from pynomad.scheduler.rank.limit import LimitIterator
from pynomad.scheduler.rank.max_score import MaxScoreIterator
from pynomad.scheduler.rank.network import NetworkAssigner
from pynomad.scheduler.rank.node_affinity import NodeAffinityIterator
from pynomad.scheduler.rank.normalize import ScoreNormalizationIterator
from pynomad.scheduler.rank.preemption_score import (PreemptionScoringIterator,
                                                     preemption_score)
from pynomad.scheduler.rank.reschedule_penalty import NodeReschedulingPenaltyIterator
from pynomad.scheduler.rank.spread import SpreadIterator, SpreadState
from pynomad.structs import (Affinity, Allocation, AllocatedResources,
                             AllocatedSharedResources, AllocatedPortMapping, AllocMetric,
                             NetworkResource, NodeUsage, Plan, Port, Spread)
from pynomad.structs.defaults import canonicalize


def _ctx(state=None, **options):
    ctx = EvalContext(state or FakeState(), Plan(EvalID="e"), random.Random(1))
    ctx.begin_select(AllocMetric(), SelectOptions(**options))
    return ctx


class Ranked:
    """A rank source yielding prepared candidates."""

    def __init__(self, options):
        self.options, self.i = list(options), 0

    def next(self):
        if self.i >= len(self.options):
            return None
        self.i += 1
        return self.options[self.i - 1]

    def reset(self):
        self.i = 0


def _option(i, final=0.0, job=None, usage=None):
    option = RankedNode(make_node(i), Group((job or make_job()).TaskGroups[0]),
                        usage or NodeUsage())
    option.final = final
    return option


def _drain(it):
    out = []
    while (o := it.next()) is not None:
        out.append(o)
    return out


# -- bin packing -----------------------------------------------------------------------------
def _binpack(ctx, nodes, job, assigners=(), algorithm="binpack"):
    job = canonicalize(job)
    return BinPackIterator(ctx, StaticIterator(ctx, nodes), Group(job.TaskGroups[0]),
                           algorithm, list(assigners), Preemptor(ctx, "default", job.ID, 50))


def test_binpack_scores_the_fit_and_exhausts_what_does_not_fit():
    ctx = _ctx()
    nodes = [make_node(0, cpu=1000, mem=1000), make_node(1, cpu=1000, mem=100)]
    ranked = _drain(_binpack(ctx, nodes, make_job(cpu=500, mem=500)))
    assert [o.node.Name for o in ranked] == ["node-0"]
    expected = (20 - 10 ** 0.5 - 10 ** 0.5) / 18
    assert ranked[0].scores == {"binpack": pytest.approx(expected)} and ranked[0].terms == 1
    assert ctx.metrics.DimensionExhausted == {"memory": 1} and ctx.metrics.NodesExhausted == 1
    spread = _drain(_binpack(_ctx(), nodes[:1], make_job(cpu=500, mem=500),
                             algorithm="spread"))
    assert spread[0].scores["binpack"] == pytest.approx((2 * 10 ** 0.5 - 2) / 18)


def test_fit_score_is_zero_for_an_empty_node_under_binpack():
    assert fit_score((1000, 1000, 0), 0, 0, "binpack") == 0.0
    assert fit_score((1000, 1000, 0), 1000, 1000, "binpack") == 1.0


class Refuses:
    def assign(self, option, evict):
        return "devices: no devices match request"


def test_binpack_reports_an_assigners_dimension():
    ctx = _ctx()
    assert _drain(_binpack(ctx, [make_node(0)], make_job(), [Refuses()])) == []
    assert ctx.metrics.DimensionExhausted == {"devices: no devices match request": 1}


def test_binpack_preempts_lower_priority_allocations_when_allowed():
    state = FakeState()
    node = state.add_node(make_node(0, cpu=1000, mem=1000))
    low = canonicalize(make_job("low", priority=20, cpu=800, mem=100))
    state.put_alloc(Allocation(ID="a1", Namespace="default", JobID="low", Job=low, TaskGroup="g",
                               NodeID=node.ID, DesiredStatus="run", ClientStatus="running",
                               AllocatedResources=Group(low.TaskGroups[0]).allocated(
                                   None, None, None)))
    job = make_job(cpu=500, mem=100, priority=70)
    assert _drain(_binpack(_ctx(state), [node], job)) == []
    ranked = _drain(_binpack(_ctx(state, evict=True), [node], job))
    assert [a.ID for a in ranked[0].preempted] == ["a1"]


def test_network_assigner_offers_ports_or_names_the_collision():
    state = FakeState()
    node = state.add_node(make_node(0))
    job = canonicalize(make_job(Networks=[NetworkResource(
        ReservedPorts=[Port(Label="http", Value=8080)], DynamicPorts=[Port(Label="x")])]))
    ctx = _ctx(state)
    assigner = NetworkAssigner.of(ctx, job.TaskGroups[0], Preemptor(ctx, "default", "web", 50))
    option = RankedNode(node, Group(job.TaskGroups[0]), NodeUsage())
    assert assigner.assign(option, evict=False) is None
    networks, mappings = option.ports
    assert {m.Label for m in mappings} == {"http", "x"}
    assert 20000 <= next(m.Value for m in mappings if m.Label == "x") <= 32000
    busy = NodeUsage()
    busy.add(Allocation(ID="o", AllocatedResources=AllocatedResources(
        Shared=AllocatedSharedResources(Ports=[AllocatedPortMapping(Label="h", Value=8080)]))))
    option = RankedNode(node, Group(job.TaskGroups[0]), busy)
    assert assigner.assign(option, evict=False) == "network: reserved port collision http=8080"
    assert NetworkAssigner.of(ctx, make_job().TaskGroups[0], assigner.preemptor) is None


# -- score terms -----------------------------------------------------------------------------
def test_job_anti_affinity_penalizes_collisions():
    job = canonicalize(make_job(count=4))
    busy = NodeUsage()
    busy.counts[("default", "web", "g")] = 2
    options = [_option(0, job=job), _option(1, job=job, usage=busy)]
    _drain(JobAntiAffinityIterator(Ranked(options), job, Group(job.TaskGroups[0])))
    assert options[0].scores == {"job-anti-affinity": 0.0} and options[0].terms == 0
    assert options[1].scores == {"job-anti-affinity": -3 / 4} and options[1].terms == 1


def test_reschedule_penalty_marks_penalty_nodes():
    ctx = _ctx(penalty_nodes={make_node(1).ID})
    options = [_option(0), _option(1)]
    _drain(NodeReschedulingPenaltyIterator(ctx, Ranked(options)))
    assert [o.scores["node-reschedule-penalty"] for o in options] == [0.0, -1.0]
    assert [o.total for o in options] == [0.0, -1.0]


def test_node_affinity_normalizes_matched_weights():
    ctx = _ctx()
    job = make_job()
    job.Affinities = [Affinity(LTarget="${node.unique.name}", RTarget="node-1", Weight=60),
                      Affinity(LTarget="${attr.kernel.name}", RTarget="linux", Weight=-40)]
    options = [_option(0), _option(1)]
    _drain(NodeAffinityIterator(ctx, Ranked(options), job, job.TaskGroups[0]))
    assert [o.scores["node-affinity"] for o in options] == [-0.4, 0.2]
    plain = [_option(2)]
    _drain(NodeAffinityIterator(ctx, Ranked(plain), make_job(), make_job().TaskGroups[0]))
    assert plain[0].scores == {"node-affinity": 0.0} and plain[0].terms == 0


def test_spread_scores_only_a_non_zero_boost():
    state = FakeState()
    nodes = [state.add_node(make_node(i, meta={"rack": f"r{i}"})) for i in range(2)]
    job = canonicalize(make_job(count=2))
    job.TaskGroups[0].Spreads = [Spread(Attribute="${meta.rack}", Weight=100)]
    ctx = _ctx(state)
    it = SpreadIterator.wrap(ctx, Ranked([]), job, job.TaskGroups[0], SpreadState())
    assert isinstance(it, SpreadIterator)
    assert SpreadIterator.wrap(ctx, it.source, make_job(), make_job().TaskGroups[0],
                               SpreadState()) is it.source
    # no allocations yet: no value is favoured, nothing is scored
    fresh = [RankedNode(n, Group(job.TaskGroups[0]), NodeUsage()) for n in nodes]
    _drain(SpreadIterator(ctx, Ranked(fresh), job, job.TaskGroups[0], SpreadState()))
    assert all("allocation-spread" not in o.scores for o in fresh)
    ctx.add_placement(Allocation(ID="a", Namespace="default", JobID="web", TaskGroup="g",
                                 NodeID=nodes[0].ID, DesiredStatus="run"))
    ranked = [RankedNode(n, Group(job.TaskGroups[0]), NodeUsage()) for n in nodes]
    _drain(SpreadIterator(ctx, Ranked(ranked), job, job.TaskGroups[0], SpreadState()))
    assert ranked[0].scores["allocation-spread"] == -1.0  # r0 holds the only allocation
    assert ranked[1].scores["allocation-spread"] == 1.0


def test_preemption_scoring_only_for_candidates_that_evict():
    victim = Allocation(ID="v", Job=make_job(priority=20))
    options = [_option(0), _option(1)]
    options[1].preempted = [victim]
    _drain(PreemptionScoringIterator(Ranked(options)))
    assert "preemption" not in options[0].scores
    assert options[1].scores["preemption"] == preemption_score([victim])


def test_normalization_averages_terms_and_keeps_the_top_scores():
    ctx = _ctx()
    options = [_option(i) for i in range(7)]
    for i, o in enumerate(options):
        o.score("binpack", i / 10)
        o.score("node-affinity", 0.5)
        o.note("job-anti-affinity", 0.0)
    _drain(ScoreNormalizationIterator(ctx, Ranked(options)))
    assert options[3].final == pytest.approx((0.3 + 0.5) / 2)
    meta = ctx.top_scores.result()
    assert [m.NodeID for m in meta] == [options[i].node.ID for i in (6, 5, 4, 3, 2)]
    assert set(meta[0].Scores) == {"binpack", "node-affinity", "job-anti-affinity"}


# -- limit and max ---------------------------------------------------------------------------
def test_limit_skips_low_scores_while_better_ones_come():
    options = [_option(i, final) for i, final in enumerate([0.0, -0.5, 0.4, 0.3, 0.2, 0.1])]
    got = _drain(LimitIterator(Ranked(options), limit=3))
    assert [o.final for o in got] == [0.4, 0.3, 0.2]


def test_limit_falls_back_to_skipped_candidates_when_nodes_run_out():
    options = [_option(i, final) for i, final in enumerate([0.0, -1.0, 0.5])]
    it = LimitIterator(Ranked(options), limit=3)
    assert [o.final for o in _drain(it)] == [0.5, 0.0, -1.0]
    it.reset()
    assert len(_drain(it)) == 3


def test_limit_takes_low_scores_once_max_skip_is_held():
    options = [_option(i, 0.0) for i in range(6)]
    got = _drain(LimitIterator(Ranked(options), limit=2, max_skip=3))
    assert [o.node.Name for o in got] == ["node-3", "node-4"]


def test_max_score_returns_the_first_of_the_best():
    options = [_option(i, final) for i, final in enumerate([0.1, 0.7, 0.7, 0.2])]
    assert MaxScoreIterator(Ranked(options)).next() is options[1]
    assert MaxScoreIterator(Ranked([])).next() is None


def test_group_shares_resources_between_offerless_placements():
    group = Group(canonicalize(make_job(cpu=250, mem=128)).TaskGroups[0])
    first = group.allocated(None, None, None)
    assert group.allocated(([], []), None, None) is first
    assert first.Tasks["t"].Cpu.CpuShares == 250 and first.Tasks["t"].Memory.MemoryMB == 128
    assert math.isclose(first.Shared.DiskMB, 300)
