"""SWIM membership as memberlist runs it, without sockets: packets in, packets out.

Each member has an incarnation number and a state: alive, suspect, dead (Serf's "failed")
or left. Every probe interval one member is pinged; without an ack within the probe timeout
`indirect_checks` other members ping it on our behalf; without any ack by the end of the
interval it becomes suspect, and a suspect that does not refute (an alive message with a
higher incarnation) within the suspicion timeout is declared dead. State changes spread by
piggybacking on pings and acks and by gossip to a few random members each gossip interval,
each retransmitted `retransmit_mult * ceil(log10(n + 1))` times; a full push-pull exchange
over TCP (at join and every push-pull interval) repairs whatever gossip missed.

Time comes from the injected clock; `tick()` runs the timers and returns the packets to
send, `handle()` takes a received packet and returns the replies.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .messages import Ack, Alive, Dead, IndirectPing, MemberState, Ping, Suspect

ALIVE, SUSPECT, DEAD, LEFT = "alive", "suspect", "dead", "left"
# Serf's member status for each memberlist state
STATUS = {ALIVE: "alive", SUSPECT: "alive", DEAD: "failed", LEFT: "left"}


@dataclass
class GossipConfig:
    """memberlist's LAN defaults (Nomad's servers use them)."""
    probe_interval: float = 1.0
    probe_timeout: float = 0.5
    indirect_checks: int = 3
    suspicion_mult: int = 4
    retransmit_mult: int = 4
    gossip_interval: float = 0.2
    gossip_nodes: int = 3
    push_pull_interval: float = 30.0
    reconnect_timeout: float = 24 * 3600.0   # a failed member is reaped after this
    tombstone_timeout: float = 24 * 3600.0   # a member that left is reaped after this
    max_piggyback: int = 16


@dataclass
class Member:
    name: str
    addr: str
    port: int
    tags: dict[str, str]
    incarnation: int = 0
    state: str = ALIVE
    state_change: float = 0.0

    @property
    def status(self) -> str:
        return STATUS[self.state]

    def to_state(self) -> MemberState:
        return MemberState(self.name, self.addr, self.port, dict(self.tags), self.incarnation,
                           self.state)


def member_json(m: Member) -> dict:
    """A member as Nomad's /v1/agent/members shows it (Serf's member with Nomad's tags)."""
    return {"Name": m.name, "Addr": m.addr, "Port": m.port, "Tags": dict(m.tags),
            "Status": m.status, "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
            "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4}


@dataclass
class _Probe:
    seq: int
    target: str
    sent: float
    acked: bool = False
    indirect: bool = False


@dataclass
class _Broadcast:
    node: str
    msg: object
    transmits: int = 0


Packet = tuple[str, int, list]
"""(address, port, messages): one UDP packet to send."""

Listener = Callable[[str, Member], None]
"""Called with the event (join, update, failed, leave, reap) and the member."""


@dataclass
class Membership:
    name: str
    addr: str
    port: int
    tags: dict[str, str]
    config: GossipConfig = field(default_factory=GossipConfig)
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        now = self.clock()
        self.members: dict[str, Member] = {
            self.name: Member(self.name, self.addr, self.port, dict(self.tags), 0, ALIVE, now)}
        self.listeners: list[Listener] = []
        self.leaving = False
        self._seq = 0
        self._broadcasts: list[_Broadcast] = []
        self._probe: _Probe | None = None
        self._probe_order: list[str] = []
        self._next_probe = now
        self._next_gossip = now
        self._next_push_pull = now + self.config.push_pull_interval
        self._relays: dict[int, tuple[str, int, int, float]] = {}
        self._suspicions: dict[str, float] = {}

    @property
    def local(self) -> Member:
        return self.members[self.name]

    def alive_others(self) -> list[Member]:
        return [m for m in self.members.values()
                if m.name != self.name and m.state in (ALIVE, SUSPECT)]

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- local changes ------------------------------------------------------------------
    def set_tags(self, tags: dict[str, str]) -> None:
        """New tags for the local member, spread as an alive message with a new incarnation."""
        me = self.local
        if tags == me.tags:
            return
        me.tags = dict(tags)
        me.incarnation += 1
        self._broadcast_alive()

    def _broadcast_alive(self) -> None:
        me = self.local
        self._queue(me.name, Alive(me.incarnation, me.name, me.addr, me.port, dict(me.tags)))

    def leave(self) -> None:
        """Announce a graceful leave: every member marks us left."""
        self.leaving = True
        me = self.local
        me.incarnation += 1
        self._queue(me.name, Dead(me.incarnation, me.name, me.name))

    def force_leave(self, name: str, prune: bool = False) -> bool:
        """`nomad server force-leave`: a failed member is marked left everywhere (with
        `prune`, erased from every member list). False when the name is unknown."""
        m = self.members.get(name)
        if m is None or name == self.name:
            return False
        msg = Dead(m.incarnation, name, name, prune)
        self._on_dead(msg)
        self._queue(name, msg)
        return True

    # -- received packets ---------------------------------------------------------------
    def handle(self, msgs: list, src: tuple[str, int]) -> list[Packet]:
        out: list[Packet] = []
        for msg in msgs:
            if isinstance(msg, Ping):
                if msg.Target in ("", self.name):
                    out.append(self._packet(src[0], src[1], [Ack(msg.Seq, self.name)]))
            elif isinstance(msg, IndirectPing):
                seq = self._next_seq()
                self._relays[seq] = (src[0], src[1], msg.Seq,
                                     self.clock() + self.config.probe_timeout)
                out.append(self._packet(msg.Addr, msg.Port, [Ping(seq, msg.Target, self.name)]))
            elif isinstance(msg, Ack):
                out += self._on_ack(msg)
            else:
                self.apply(msg)
        return out

    def _on_ack(self, ack: Ack) -> list[Packet]:
        if self._probe is not None and ack.Seq == self._probe.seq:
            self._probe.acked = True
            return []
        relay = self._relays.pop(ack.Seq, None)
        if relay is None:
            return []
        return [self._packet(relay[0], relay[1], [Ack(relay[2], ack.From)])]

    def apply(self, msg) -> None:
        """Apply one alive, suspect or dead message (from gossip or a push-pull)."""
        if isinstance(msg, Alive):
            self._on_alive(msg)
        elif isinstance(msg, Suspect):
            self._on_suspect(msg)
        elif isinstance(msg, Dead):
            self._on_dead(msg)

    def _on_alive(self, a: Alive) -> None:
        if a.Node == self.name:
            if a.Incarnation > self.local.incarnation and not self.leaving:
                self._refute(a.Incarnation)
            return
        m = self.members.get(a.Node)
        if m is None:
            m = Member(a.Node, a.Addr, a.Port, dict(a.Tags), a.Incarnation, ALIVE, self.clock())
            self.members[a.Node] = m
            self._queue(a.Node, a)
            self._emit("join", m)
            return
        if a.Incarnation <= m.incarnation:
            return
        was, changed = m.state, (m.addr, m.port, m.tags) != (a.Addr, a.Port, a.Tags)
        m.addr, m.port, m.tags, m.incarnation = a.Addr, a.Port, dict(a.Tags), a.Incarnation
        self._set_state(m, ALIVE)
        self._suspicions.pop(m.name, None)
        self._queue(a.Node, a)
        if was in (DEAD, LEFT):
            self._emit("join", m)
        elif changed:
            self._emit("update", m)

    def _on_suspect(self, s: Suspect) -> None:
        if s.Node == self.name:
            if not self.leaving:
                self._refute(s.Incarnation)
            return
        m = self.members.get(s.Node)
        if m is None or s.Incarnation < m.incarnation or m.state != ALIVE:
            return
        m.incarnation = s.Incarnation
        self._set_state(m, SUSPECT)
        self._suspicions[m.name] = self.clock() + self._suspicion_timeout()
        self._queue(s.Node, s)

    def _on_dead(self, d: Dead) -> None:
        if d.Node == self.name:
            if d.From != self.name and not self.leaving:
                self._refute(d.Incarnation)
            return
        m = self.members.get(d.Node)
        if m is None or d.Incarnation < m.incarnation:
            return
        if d.Prune:
            del self.members[d.Node]
            self._suspicions.pop(d.Node, None)
            self._queue(d.Node, d)
            self._emit("reap", m)
            return
        new = LEFT if d.From == d.Node else DEAD
        if m.state == LEFT or (m.state == DEAD and new == DEAD):
            return
        m.incarnation = d.Incarnation
        self._set_state(m, new)
        self._suspicions.pop(m.name, None)
        self._queue(d.Node, d)
        self._emit("leave" if new == LEFT else "failed", m)

    def _refute(self, incarnation: int) -> None:
        me = self.local
        me.incarnation = max(me.incarnation, incarnation) + 1
        self._broadcast_alive()

    def _set_state(self, m: Member, state: str) -> None:
        if m.state != state:
            m.state = state
            m.state_change = self.clock()

    def _emit(self, event: str, m: Member) -> None:
        for fn in list(self.listeners):
            fn(event, m)

    # -- push-pull ----------------------------------------------------------------------
    def local_state(self) -> list[MemberState]:
        return [m.to_state() for m in self.members.values()]

    def merge(self, states: list[MemberState]) -> None:
        """Merge a remote member list. A member the remote thinks dead is only suspected
        here (it may be unreachable from there alone), as memberlist does."""
        for st in states:
            if st.State == ALIVE:
                self._on_alive(Alive(st.Incarnation, st.Name, st.Addr, st.Port, st.Tags))
            elif st.State in (SUSPECT, DEAD):
                if st.Name not in self.members and st.Name != self.name:
                    self._on_alive(Alive(st.Incarnation, st.Name, st.Addr, st.Port, st.Tags))
                self._on_suspect(Suspect(st.Incarnation, st.Name, self.name))
            elif st.State == LEFT:
                if st.Name not in self.members and st.Name != self.name:
                    continue  # a member that left before we knew it: nothing to add
                self._on_dead(Dead(st.Incarnation, st.Name, st.Name))

    def push_pull_due(self) -> Member | None:
        """A random member to push-pull with, when the push-pull interval has passed."""
        now = self.clock()
        if now < self._next_push_pull:
            return None
        self._next_push_pull = now + self.config.push_pull_interval
        others = self.alive_others()
        return self.rng.choice(others) if others else None

    # -- timers -------------------------------------------------------------------------
    def tick(self) -> list[Packet]:
        now = self.clock()
        out: list[Packet] = []
        out += self._check_probe(now)
        if self._probe is None and now >= self._next_probe:
            self._next_probe = now + self.config.probe_interval
            out += self._start_probe(now)
        for name, deadline in list(self._suspicions.items()):
            if now >= deadline:
                del self._suspicions[name]
                m = self.members.get(name)
                if m is not None and m.state == SUSPECT:
                    self._on_dead(Dead(m.incarnation, name, self.name))
        for seq, relay in list(self._relays.items()):
            if now >= relay[3]:
                del self._relays[seq]
        if now >= self._next_gossip:
            self._next_gossip = now + self.config.gossip_interval
            out += self._gossip()
        self._reap(now)
        return out

    def _start_probe(self, now: float) -> list[Packet]:
        target = self._next_probe_target()
        if target is None:
            return []
        self._probe = _Probe(self._next_seq(), target.name, now)
        return [self._packet(target.addr, target.port, [Ping(self._probe.seq, target.name,
                                                             self.name)])]

    def _next_probe_target(self) -> Member | None:
        """Round-robin over a shuffled list of the members, reshuffled each round."""
        for _ in range(2):
            while self._probe_order:
                m = self.members.get(self._probe_order.pop())
                if m is not None and m.name != self.name and m.state in (ALIVE, SUSPECT):
                    return m
            self._probe_order = [m.name for m in self.alive_others()]
            self.rng.shuffle(self._probe_order)
        return None

    def _check_probe(self, now: float) -> list[Packet]:
        p = self._probe
        if p is None:
            return []
        if p.acked or p.target not in self.members:
            self._probe = None
            return []
        out: list[Packet] = []
        if not p.indirect and now >= p.sent + self.config.probe_timeout:
            p.indirect = True
            target = self.members[p.target]
            helpers = [m for m in self.alive_others() if m.name != p.target and m.state == ALIVE]
            for h in self.rng.sample(helpers, min(len(helpers), self.config.indirect_checks)):
                out.append(self._packet(h.addr, h.port, [IndirectPing(
                    p.seq, target.name, target.addr, target.port, self.name)]))
        if now >= p.sent + self.config.probe_interval:
            self._probe = None
            m = self.members[p.target]
            if m.state == ALIVE:
                self._on_suspect(Suspect(m.incarnation, m.name, self.name))
        return out

    def _gossip(self) -> list[Packet]:
        if not self._broadcasts:
            return []
        others = self.alive_others()
        picks = self.rng.sample(others, min(len(others), self.config.gossip_nodes))
        out = [self._packet(m.addr, m.port, []) for m in picks]
        return [p for p in out if p[2]]

    def _reap(self, now: float) -> None:
        for m in list(self.members.values()):
            limit = {DEAD: self.config.reconnect_timeout,
                     LEFT: self.config.tombstone_timeout}.get(m.state)
            if limit is not None and now - m.state_change >= limit:
                del self.members[m.name]
                self._emit("reap", m)

    def _suspicion_timeout(self) -> float:
        n = max(1, len(self.members))
        return self.config.suspicion_mult * max(1.0, math.log10(n)) * self.config.probe_interval

    # -- broadcasts ---------------------------------------------------------------------
    def _queue(self, node: str, msg) -> None:
        """Queue a broadcast; a newer one about the same member replaces the older."""
        self._broadcasts = [b for b in self._broadcasts if b.node != node]
        self._broadcasts.append(_Broadcast(node, msg))

    def _packet(self, addr: str, port: int, msgs: list) -> Packet:
        """A packet of `msgs` with as many pending broadcasts as fit piggybacked."""
        limit = self.config.retransmit_mult * math.ceil(math.log10(len(self.members) + 1))
        room = self.config.max_piggyback
        for b in sorted(self._broadcasts, key=lambda b: b.transmits)[:room]:
            msgs.append(b.msg)
            b.transmits += 1
        self._broadcasts = [b for b in self._broadcasts if b.transmits < limit]
        return (addr, port, msgs)

    def pending_broadcasts(self) -> int:
        return len(self._broadcasts)
