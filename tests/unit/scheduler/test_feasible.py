"""Constraint operators and target resolution, Nomad's checkConstraint table."""

import pytest

from pynomad.scheduler.feasible import check_constraint, meets_constraint, resolve_target
from pynomad.structs import Constraint, Node, score_fit, Comparable
from pynomad.structs.node import NodeCpuResources, NodeMemoryResources, NodeResources


@pytest.mark.parametrize("op,l,r,ok", [
    ("=", "a", "a", True), ("==", "a", "b", False), ("is", "a", "a", True),
    ("!=", "a", "b", True), ("not", "a", "a", False),
    ("<", "2", "10", True), ("<", "b", "a", False), (">=", "1.5", "1.5", True),
    ("regexp", "linux-5.10", r"^linux-\d", True), ("regexp", "darwin", "^linux", False),
    ("set_contains", "a,b,c", "a,c", True), ("set_contains", "a,b", "a,d", False),
    ("set_contains_all", "a, b", "b", True), ("set_contains_any", "a,b", "z,b", True),
    ("set_contains_any", "a,b", "y,z", False),
    ("version", "1.2.3", ">= 1.0, < 2.0", True), ("version", "2.1.0", ">= 1.0, < 2.0", False),
    ("version", "1.2.3", "~> 1.2", True), ("semver", "1.2.3", ">= 1.2.0", True),
    ("semver", "1.2.3-beta", ">= 1.0.0", False),
    ("bogus", "a", "a", False),
])
def test_operators(op, l, r, ok):
    assert check_constraint(op, l, r, True, True) is ok


def test_missing_attribute():
    assert check_constraint("!=", None, "x", False, True) is True
    assert check_constraint("=", None, "x", False, True) is False
    assert check_constraint("is_set", None, None, False, False) is False
    assert check_constraint("is_not_set", None, None, False, False) is True


def test_resolve_targets():
    node = Node(ID="n1", Name="host", Datacenter="dc2", NodeClass="big",
                Attributes={"kernel.name": "linux"}, Meta={"rack": "r1"})
    assert resolve_target("${node.unique.id}", node) == ("n1", True)
    assert resolve_target("${node.datacenter}", node) == ("dc2", True)
    assert resolve_target("${attr.kernel.name}", node) == ("linux", True)
    assert resolve_target("${meta.rack}", node) == ("r1", True)
    assert resolve_target("${meta.nope}", node) == (None, False)
    assert meets_constraint(Constraint(LTarget="${node.class}", RTarget="big"), node)


def test_binpack_score_prefers_fuller_nodes():
    node = Node(NodeResources=NodeResources(Cpu=NodeCpuResources(CpuShares=1000),
                                            Memory=NodeMemoryResources(MemoryMB=1000)))
    empty, full = Comparable(), Comparable()
    full.cpu, full.memory = 1000, 1000
    assert score_fit(node, empty) == 0.0
    assert score_fit(node, full) == 18.0
    half = Comparable()
    half.cpu, half.memory = 500, 500
    assert score_fit(node, half, "spread") > score_fit(node, full, "spread")
