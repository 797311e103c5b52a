"""Each feasibility step of the placement chain on its own."""

import random

from sched_harness import FakeState, make_job, make_node

from pynomad.scheduler.context import EvalContext, SelectOptions
from pynomad.scheduler.feasible.constraint import ConstraintChecker
from pynomad.scheduler.feasible.distinct_hosts import DistinctHostsChecker
from pynomad.scheduler.feasible.distinct_property import (DistinctPropertyChecker,
                                                          job_property_sets)
from pynomad.scheduler.feasible.driver import DriverChecker
from pynomad.scheduler.feasible.host_volume import HOST_VOLUMES_FILTER, HostVolumeChecker
from pynomad.scheduler.feasible.network import NetworkChecker
from pynomad.scheduler.feasible.nodes import ready_nodes
from pynomad.scheduler.feasible.source import RandomIterator, StaticIterator
from pynomad.scheduler.feasible.wrapper import CLASS_INELIGIBLE, FeasibilityWrapper
from pynomad.structs import (Allocation, AllocMetric, ClientHostVolumeConfig, Constraint,
                             DriverInfo, NetworkResource, Plan, Port)
from pynomad.structs.defaults import canonicalize


def _ctx(state=None, seed=1):
    ctx = EvalContext(state or FakeState(), Plan(EvalID="e"), random.Random(seed))
    ctx.begin_select(AllocMetric(), SelectOptions())
    return ctx


def _drain(it):
    out = []
    while (node := it.next()) is not None:
        out.append(node)
    return out


# -- sources ---------------------------------------------------------------------------------
def test_static_iterator_visits_each_node_once_per_selection_and_rotates():
    ctx = _ctx()
    nodes = [make_node(i) for i in range(4)]
    it = StaticIterator(ctx, nodes)
    assert [it.next().Name, it.next().Name] == ["node-0", "node-1"]
    it.reset()
    assert [n.Name for n in _drain(it)] == ["node-2", "node-3", "node-0", "node-1"]
    assert ctx.metrics.NodesEvaluated == 6


def test_random_iterator_is_a_seeded_permutation():
    nodes = [make_node(i) for i in range(20)]
    first = [n.Name for n in _drain(RandomIterator(_ctx(seed=7), nodes))]
    again = [n.Name for n in _drain(RandomIterator(_ctx(seed=7), nodes))]
    other = [n.Name for n in _drain(RandomIterator(_ctx(seed=8), nodes))]
    assert sorted(first) == sorted(n.Name for n in nodes)
    assert first == again and first != other


# -- the class-cached wrapper ----------------------------------------------------------------
class Counting:
    def __init__(self, reason=None):
        self.reason, self.calls = reason, 0

    def check(self, node):
        self.calls += 1
        return self.reason


def _wrapper(ctx, nodes, job=(), group=(), available=(), escaped=False):
    ctx.eligibility.set_job(False, {"g": escaped})
    return FeasibilityWrapper(ctx, StaticIterator(ctx, nodes), "g", list(job), list(group),
                              list(available))


def test_wrapper_caches_group_verdicts_per_computed_class():
    state = FakeState()
    nodes = [state.add_node(make_node(i)) for i in range(3)]
    ctx = _ctx(state)
    failing = Counting("nope")
    assert _drain(_wrapper(ctx, nodes, group=[failing])) == []
    assert failing.calls == 1
    assert ctx.metrics.ConstraintFiltered == {"nope": 1, CLASS_INELIGIBLE: 2}
    assert ctx.eligibility.classes() == {nodes[0].ComputedClass: False}


def test_wrapper_checks_every_node_when_the_group_escaped_the_class():
    state = FakeState()
    nodes = [state.add_node(make_node(i)) for i in range(3)]
    ctx = _ctx(state)
    failing = Counting("nope")
    assert _drain(_wrapper(ctx, nodes, group=[failing], escaped=True)) == []
    assert failing.calls == 3 and ctx.eligibility.groups == {}  # nothing cached for g


def test_wrapper_runs_available_checks_on_every_node():
    state = FakeState()
    nodes = [state.add_node(make_node(i)) for i in range(3)]
    ctx = _ctx(state)
    group, avail = Counting(), Counting()
    assert len(_drain(_wrapper(ctx, nodes, group=[group], available=[avail]))) == 3
    assert (group.calls, avail.calls) == (1, 3)


def test_wrapper_job_checks_gate_group_checks():
    state = FakeState()
    nodes = [state.add_node(make_node(i)) for i in range(2)]
    ctx = _ctx(state)
    group = Counting()
    assert _drain(_wrapper(ctx, nodes, job=[Counting("job says no")], group=[group])) == []
    assert group.calls == 0
    assert ctx.metrics.ConstraintFiltered == {"job says no": 1, CLASS_INELIGIBLE: 1}


# -- checkers --------------------------------------------------------------------------------
def test_constraint_checker_names_the_first_failing_constraint():
    node = make_node(0, attrs={"os.version": "9"})
    checker = ConstraintChecker([
        Constraint(Operand="distinct_hosts", RTarget="true"),
        Constraint(LTarget="${attr.kernel.name}", RTarget="linux", Operand="="),
        Constraint(LTarget="${attr.os.version}", RTarget="10", Operand=">=")])
    assert checker.check(node) == "${attr.os.version} >= 10"
    assert ConstraintChecker([]).check(node) is None


def test_driver_checker_wants_detected_and_healthy_drivers():
    job = make_job(driver="docker")
    checker = DriverChecker(job.TaskGroups[0])
    node = make_node(0)
    assert checker.check(node) == "missing drivers"
    node.Drivers["docker"] = DriverInfo(Detected=True, Healthy=False)
    assert checker.check(node) == "missing drivers"
    node.Drivers["docker"] = DriverInfo(Detected=True, Healthy=True)
    assert checker.check(node) is None
    legacy = make_node(1, attrs={"driver.docker": "1"})
    assert checker.check(legacy) is None


def test_network_checker_needs_the_mode_and_host_networks():
    bridge = make_job(Networks=[NetworkResource(Mode="bridge")]).TaskGroups[0]
    node = make_node(0)
    node.NodeResources.Networks = [NetworkResource(Mode="host", IP="10.0.0.1")]
    assert NetworkChecker.of(bridge).check(node) == "missing network"
    node.NodeResources.Networks.append(NetworkResource(Mode="bridge"))
    assert NetworkChecker.of(bridge).check(node) is None

    public = make_job(Networks=[NetworkResource(DynamicPorts=[
        Port(Label="http", HostNetwork="public")])]).TaskGroups[0]
    assert NetworkChecker.of(public).check(node) == \
        'missing host network "public" for port "http"'
    node.NodeResources.NodeNetworks = [{"Mode": "host", "Addresses": [{"Alias": "public"}]}]
    assert NetworkChecker.of(public).check(node) is None

    templated = make_job(Networks=[NetworkResource(ReservedPorts=[
        Port(Label="db", Value=5432, HostNetwork="${meta.net}")])]).TaskGroups[0]
    assert NetworkChecker.of(templated).check(node) == \
        'invalid host network "${meta.net}" template for port "db"'
    node.Meta["net"] = "public"
    assert NetworkChecker.of(templated).check(node) is None
    # host mode with default ports, and mode none, have nothing to check
    plain = make_job(Networks=[NetworkResource(DynamicPorts=[Port(Label="x")])])
    assert NetworkChecker.of(plain.TaskGroups[0]) is None
    assert NetworkChecker.of(make_job(Networks=[NetworkResource(Mode="none")]).TaskGroups[0]) \
        is None


def test_host_volume_checker_follows_the_allocation_index():
    tg = make_job(Volumes={"v": {"Type": "host", "Source": "data", "PerAlloc": True}}
                  ).TaskGroups[0]
    ctx = _ctx()
    checker = HostVolumeChecker.of(ctx, tg)
    node = make_node(0)
    node.HostVolumes = {"data[1]": ClientHostVolumeConfig(Name="data[1]", Path="/d1")}
    ctx.begin_select(AllocMetric(), SelectOptions(alloc_name="web.g[0]"))
    assert checker.check(node) == HOST_VOLUMES_FILTER
    ctx.begin_select(AllocMetric(), SelectOptions(alloc_name="web.g[1]"))
    assert checker.check(node) is None
    assert HostVolumeChecker.of(ctx, make_job().TaskGroups[0]) is None


def _placed(ctx, job, node, name="web.g[0]"):
    ctx.add_placement(Allocation(ID=name, Namespace="default", JobID=job.ID, TaskGroup="g",
                                 NodeID=node.ID, Name=name, DesiredStatus="run",
                                 ClientStatus="pending"))


def test_distinct_hosts_checker_sees_the_plan():
    state = FakeState()
    nodes = [state.add_node(make_node(i)) for i in range(2)]
    job = canonicalize(make_job())
    assert DistinctHostsChecker.of(_ctx(state), job, job.TaskGroups[0]) is None
    job.Constraints = [Constraint(Operand="distinct_hosts")]
    ctx = _ctx(state)
    checker = DistinctHostsChecker.of(ctx, job, job.TaskGroups[0])
    _placed(ctx, job, nodes[0])
    assert checker.check(nodes[0]) == "distinct_hosts"
    assert checker.check(nodes[1]) is None


def test_distinct_property_checker_limits_each_value():
    state = FakeState()
    nodes = [state.add_node(make_node(i, meta={"rack": f"r{i % 2}"})) for i in range(4)]
    job = canonicalize(make_job())
    job.TaskGroups[0].Constraints = [
        Constraint(Operand="distinct_property", LTarget="${meta.rack}", RTarget="2")]
    ctx = _ctx(state)
    checker = DistinctPropertyChecker.of(ctx, job_property_sets(ctx, job), job,
                                         job.TaskGroups[0])
    _placed(ctx, job, nodes[0], "web.g[0]")
    assert checker.check(nodes[2]) is None
    _placed(ctx, job, nodes[2], "web.g[1]")
    assert checker.check(nodes[0]) == "distinct_property: ${meta.rack}=r0 used by 2 allocs"
    assert checker.check(nodes[1]) is None


def test_ready_nodes_filter_pool_datacenter_and_status():
    nodes = [make_node(0, dc="dc1"), make_node(1, dc="dc2"), make_node(2, dc="east-1"),
             make_node(3, dc="dc1", status="down"), make_node(4, dc="dc1")]
    nodes[4].NodePool = "gpu"
    job = make_job()
    job.Datacenters, job.NodePool = ["dc1", "east-*"], "default"
    ready, by_dc = ready_nodes(nodes, job)
    assert [n.Name for n in ready] == ["node-0", "node-2"]
    assert by_dc == {"dc1": 1, "east-1": 1}
    job.NodePool = "all"
    assert [n.Name for n in ready_nodes(nodes, job)[0]] == ["node-0", "node-2", "node-4"]
