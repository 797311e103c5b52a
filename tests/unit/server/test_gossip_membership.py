"""SWIM membership without sockets: a simulated network and a fake clock."""

import random

from pynomad.server.gossip.membership import (ALIVE, DEAD, LEFT, SUSPECT, GossipConfig,
                                              Membership)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Net:
    """Members addressed by port; `down` members neither send nor receive, `cut` pairs
    cannot reach each other."""

    def __init__(self, n: int, clock: Clock, config: GossipConfig | None = None):
        self.clock = clock
        self.nodes: dict[int, Membership] = {}
        self.down: set[str] = set()
        self.cut: set[frozenset] = set()
        for i in range(n):
            self.add(f"s{i}", 7000 + i, config)

    def add(self, name: str, port: int, config=None) -> Membership:
        m = Membership(name, "127.0.0.1", port, {"role": "nomad"}, config or GossipConfig(),
                       self.clock, random.Random(port))
        self.nodes[port] = m
        return m

    def by_name(self, name: str) -> Membership:
        return next(m for m in self.nodes.values() if m.name == name)

    def deliver(self, src: Membership, packets) -> None:
        queue = [(src, p) for p in packets]
        while queue:
            sender, (addr, port, msgs) = queue.pop(0)
            dst = self.nodes.get(port)
            if (dst is None or sender.name in self.down or dst.name in self.down
                    or frozenset((sender.name, dst.name)) in self.cut):
                continue
            queue += [(dst, p) for p in dst.handle(msgs, (sender.addr, sender.port))]

    def join(self, joiner: Membership, via: Membership) -> None:
        """The TCP push-pull of a join: both sides merge the other's state."""
        theirs, mine = via.local_state(), joiner.local_state()
        via.merge(mine)
        joiner.merge(theirs)

    def run(self, seconds: float, step: float = 0.05) -> None:
        end = self.clock.now + seconds
        while self.clock.now < end:
            self.clock.now += step
            for m in list(self.nodes.values()):
                if m.name not in self.down:
                    self.deliver(m, m.tick())

    def view(self, observer: str) -> dict[str, str]:
        return {n: m.state for n, m in self.by_name(observer).members.items()}


def cluster(n=3, config=None):
    clock = Clock()
    net = Net(n, clock, config)
    nodes = list(net.nodes.values())
    for m in nodes[1:]:
        net.join(m, nodes[0])
    return net, nodes


def test_join_spreads_every_member_to_every_member():
    net, nodes = cluster(4)
    net.run(3)
    for m in nodes:
        assert net.view(m.name) == {f"s{i}": ALIVE for i in range(4)}


def test_a_member_that_stops_answering_is_suspected_then_failed_everywhere():
    net, nodes = cluster(3)
    net.run(2)
    net.down.add("s2")
    net.run(3.2)
    assert SUSPECT in {net.view("s0")["s2"], net.view("s1")["s2"]}
    net.run(8)
    assert net.view("s0")["s2"] == DEAD
    assert net.view("s1")["s2"] == DEAD
    assert net.by_name("s0").members["s2"].status == "failed"


def test_indirect_probes_keep_a_member_reachable_through_others_alive():
    net, nodes = cluster(4)
    net.run(2)
    net.cut.add(frozenset(("s0", "s3")))   # s0 cannot reach s3 directly
    net.run(20)
    assert net.view("s0")["s3"] == ALIVE


def test_a_suspected_member_refutes_with_a_higher_incarnation():
    net, nodes = cluster(3)
    net.run(2)
    s0, s2 = net.by_name("s0"), net.by_name("s2")
    before = s2.local.incarnation
    # s0 wrongly suspects s2: s2 hears it and refutes
    from pynomad.server.gossip.messages import Suspect

    s0.apply(Suspect(s0.members["s2"].incarnation, "s2", "s0"))
    assert s0.members["s2"].state == SUSPECT
    net.run(3)
    assert s2.local.incarnation > before
    assert net.view("s0")["s2"] == ALIVE
    assert net.view("s1")["s2"] == ALIVE


def test_graceful_leave_is_left_not_failed():
    net, nodes = cluster(3)
    net.run(2)
    net.by_name("s1").leave()
    net.run(1)
    net.down.add("s1")
    net.run(10)
    assert net.view("s0")["s1"] == LEFT
    assert net.view("s2")["s1"] == LEFT
    assert net.by_name("s0").members["s1"].status == "left"


def test_force_leave_marks_a_failed_member_left_and_prune_erases_it():
    net, nodes = cluster(3)
    net.run(2)
    net.down.add("s2")
    net.run(10)
    assert net.view("s1")["s2"] == DEAD
    assert net.by_name("s0").force_leave("s2")
    net.run(2)
    assert net.view("s0")["s2"] == LEFT and net.view("s1")["s2"] == LEFT
    assert net.by_name("s0").force_leave("s2", prune=True)
    net.run(2)
    assert "s2" not in net.view("s0") and "s2" not in net.view("s1")
    assert not net.by_name("s0").force_leave("nope")


def test_a_restarted_member_rejoins_over_its_old_incarnation():
    net, nodes = cluster(3)
    net.run(2)
    net.down.add("s2")
    net.run(10)
    assert net.view("s0")["s2"] == DEAD
    # a fresh process under the same name starts again at incarnation 0
    del net.nodes[7002]
    net.down.discard("s2")
    fresh = net.add("s2", 7002)
    net.join(fresh, net.by_name("s0"))
    net.run(3)
    assert net.view("s0")["s2"] == ALIVE and net.view("s1")["s2"] == ALIVE
    assert fresh.local.incarnation > 0


def test_tag_changes_spread_and_are_reported_as_updates():
    net, nodes = cluster(3)
    net.run(2)
    events = []
    net.by_name("s0").listeners.append(lambda ev, m: events.append((ev, m.name)))
    net.by_name("s2").set_tags({"role": "nomad", "etcd": "running"})
    net.run(2)
    assert net.by_name("s0").members["s2"].tags["etcd"] == "running"
    assert net.by_name("s1").members["s2"].tags["etcd"] == "running"
    assert ("update", "s2") in events


def test_failed_and_left_members_are_reaped_after_their_timeouts():
    config = GossipConfig(reconnect_timeout=30, tombstone_timeout=30)
    net, nodes = cluster(3, config)
    events = []
    net.by_name("s0").listeners.append(lambda ev, m: events.append((ev, m.name)))
    net.run(2)
    net.down.add("s2")
    net.run(10)
    assert ("failed", "s2") in events
    net.run(31)
    assert "s2" not in net.view("s0")
    assert ("reap", "s2") in events


def test_a_remote_dead_report_is_only_a_suspicion_here():
    net, nodes = cluster(3)
    net.run(2)
    s0 = net.by_name("s0")
    states = net.by_name("s1").local_state()
    for st in states:
        if st.Name == "s2":
            st.State = DEAD
    s0.merge(states)
    assert s0.members["s2"].state == SUSPECT
    net.run(6)   # s2 is fine: it refutes
    assert s0.members["s2"].state == ALIVE
