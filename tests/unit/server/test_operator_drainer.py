"""Drainer decisions (pure): batches per migrate.max_parallel, batch/system handling,
deadlines and completion. No loop, no sleeps: state and clock are given."""

from pynomad.helper.goformat import format_rfc3339 as format_rfc3339_ns
from pynomad.helper.goformat import parse_rfc3339 as parse_rfc3339_ns
from pynomad.server.drainer import compute_drain, deadline_of, transition_entry
from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.structs import (AllocDeploymentStatus, Allocation, DesiredTransition,
                             DrainStrategy, Job, MigrateStrategy, Node, Task, TaskGroup)

S = 1_000_000_000
T0 = 1_700_000_000 * S


class World:
    def __init__(self):
        self.state = StateStore()
        self.fsm = FSM(self.state)
        self.index = 0
        self.jobs: dict[str, Job] = {}

    def apply(self, entry):
        self.index += 1
        entry.Time = entry.Time or T0
        self.fsm.apply(entry, self.index)

    def node(self, node_id, drain: DrainStrategy | None = None):
        self.apply(e.NodeRegister(Node=Node(ID=node_id, SecretID="s", Status="ready")))
        if drain is not None:
            self.apply(e.NodeUpdateDrain(NodeID=node_id, DrainStrategy=drain))

    def job(self, job_id, typ="service", count=1, max_parallel=1):
        tg = TaskGroup(Name="g", Count=count, Tasks=[Task(Name="t", Driver="mock")],
                       Migrate=MigrateStrategy(MaxParallel=max_parallel))
        job = Job(ID=job_id, Namespace="default", Type=typ, Priority=50, TaskGroups=[tg])
        self.apply(e.JobRegister(Job=job))
        self.jobs[job_id] = self.state.job_by_id("default", job_id)
        return job

    def alloc(self, job_id, i, node_id, status="running", desired="run", migrate=None,
              healthy=None, alloc_id=None):
        a = Allocation(ID=alloc_id or f"{job_id}-{i}", JobID=job_id, TaskGroup="g",
                       NodeID=node_id, Name=f"{job_id}.g[{i}]", ClientStatus=status,
                       DesiredStatus=desired, DesiredTransition=DesiredTransition(Migrate=migrate))
        self.apply(e.ApplyPlanResults(Job=self.jobs[job_id], AllocsUpdated=[a]))
        if healthy is not None:
            self.report_health(a.ID, healthy)

    def report_health(self, alloc_id, healthy):
        """The client's health hook reports the alloc's health (migrate block)."""
        a = self.state.allocs[alloc_id]
        upd = Allocation(ID=a.ID, NodeID=a.NodeID, ClientStatus=a.ClientStatus,
                         DeploymentStatus=AllocDeploymentStatus(Healthy=healthy))
        self.apply(e.AllocClientUpdate(Allocs=[upd]))


def drain(deadline_s=3600, ignore_system=False) -> DrainStrategy:
    if deadline_s > 0:
        return DrainStrategy(Deadline=deadline_s * S, IgnoreSystemJobs=ignore_system,
                             ForceDeadline=format_rfc3339_ns(T0 + deadline_s * S))
    return DrainStrategy(Deadline=deadline_s if deadline_s <= 0 else 0,
                         IgnoreSystemJobs=ignore_system)


def ids(allocs):
    return sorted(a.ID for a in allocs)


def test_rfc3339_round_trip_and_deadlines():
    assert parse_rfc3339_ns(format_rfc3339_ns(T0 + 123)) == T0 + 123
    assert parse_rfc3339_ns("2023-11-14T22:13:20Z") == T0
    assert deadline_of(DrainStrategy(Deadline=0)) == (True, 0)
    assert deadline_of(DrainStrategy(Deadline=-1)) == (False, 0)
    assert deadline_of(drain(60)) == (False, T0 + 60 * S)


def test_service_allocs_migrate_in_batches_of_max_parallel():
    w = World()
    w.node("n1", drain(3600))
    w.node("n2")
    w.job("web", count=3, max_parallel=1)
    for i in range(3):
        w.alloc("web", i, "n1", healthy=True)
    acts = compute_drain(w.state, T0)
    assert ids(acts.migrate) == ["web-0"] and not acts.complete and not acts.deadlined
    # once marked, the same batch isn't issued again before the scheduler moves it
    w.apply(transition_entry(acts.migrate, w.state, T0))
    assert compute_drain(w.state, T0).migrate == []
    # the scheduler stopped web-0 and placed a replacement that is running and healthy
    w.alloc("web", 0, "n1", status="complete", desired="stop", migrate=True)
    w.alloc("web", 0, "n2", alloc_id="web-r0", healthy=True)
    assert ids(compute_drain(w.state, T0).migrate) == ["web-1"]


def test_max_parallel_two_and_unhealthy_replacements_hold_the_drain():
    w = World()
    w.node("n1", drain(3600))
    w.job("web", count=4, max_parallel=2)
    for i in range(4):
        w.alloc("web", i, "n1", healthy=True)
    assert ids(compute_drain(w.state, T0).migrate) == ["web-0", "web-1"]
    # pending, running without health yet, and unhealthy allocs don't count as healthy
    for kw in ({"status": "pending"}, {}, {"healthy": False}):
        w2 = World()
        w2.node("n1", drain(3600))
        w2.job("web", count=2, max_parallel=1)
        w2.alloc("web", 0, "n1", **kw)
        w2.alloc("web", 1, "n1", **kw)
        assert compute_drain(w2.state, T0).migrate == [], kw
        # count - max_parallel = 1 must stay healthy: one healthy alloc is not enough,
        # two allow one migration
        w2.alloc("web", 1, "n1", status="running", healthy=True)
        assert compute_drain(w2.state, T0).migrate == [], kw
        w2.alloc("web", 0, "n1", status="running", healthy=True)
        assert ids(compute_drain(w2.state, T0).migrate) == ["web-0"], kw


def test_next_batch_waits_until_replacements_report_healthy():
    w = World()
    w.node("n1", drain(3600))
    w.node("n2")
    w.job("web", count=4, max_parallel=2)
    for i in range(4):
        w.alloc("web", i, "n1", healthy=True)
    acts = compute_drain(w.state, T0)
    assert ids(acts.migrate) == ["web-0", "web-1"]
    w.apply(transition_entry(acts.migrate, w.state, T0))
    for i in (0, 1):
        w.alloc("web", i, "n1", status="complete", desired="stop", migrate=True)
    # replacements placed, then running: not healthy yet, so the next batch waits
    w.alloc("web", 0, "n2", status="pending", alloc_id="web-r0")
    w.alloc("web", 1, "n2", status="pending", alloc_id="web-r1")
    assert compute_drain(w.state, T0).migrate == []
    w.alloc("web", 0, "n2", alloc_id="web-r0")
    w.alloc("web", 1, "n2", alloc_id="web-r1")
    assert compute_drain(w.state, T0 + 5 * S).migrate == []
    # one replacement healthy (min_healthy_time passed): one more may go
    w.report_health("web-r0", True)
    assert ids(compute_drain(w.state, T0 + 10 * S).migrate) == ["web-2"]
    # both healthy: the whole next batch
    w.report_health("web-r1", True)
    acts = compute_drain(w.state, T0 + 11 * S)
    assert ids(acts.migrate) == ["web-2", "web-3"] and not acts.complete


def test_batch_allocs_wait_for_deadline_then_everything_stops():
    w = World()
    w.node("n1", drain(60))
    w.job("b", typ="batch", count=2)
    w.alloc("b", 0, "n1")
    w.alloc("b", 1, "n1")
    acts = compute_drain(w.state, T0 + 30 * S)
    assert acts.empty()
    acts = compute_drain(w.state, T0 + 60 * S)
    assert ids(acts.migrate) == ["b-0", "b-1"] and acts.deadlined == ["n1"]


def test_batch_completion_finishes_the_drain():
    w = World()
    w.node("n1", drain(0))  # no deadline
    w.job("b", typ="batch", count=1)
    w.alloc("b", 0, "n1")
    assert compute_drain(w.state, T0 + 10**6 * S).empty()
    w.alloc("b", 0, "n1", status="complete")
    acts = compute_drain(w.state, T0)
    assert acts.complete == ["n1"] and acts.migrate == []


def test_system_allocs_drain_last_unless_ignored():
    for ignore in (False, True):
        w = World()
        w.node("n1", drain(3600, ignore_system=ignore))
        w.job("sys", typ="system")
        w.job("web", count=1)
        w.alloc("sys", 0, "n1")
        w.alloc("web", 0, "n1", healthy=True)
        acts = compute_drain(w.state, T0)
        assert ids(acts.migrate) == ["web-0"] and not acts.complete
        w.alloc("web", 0, "n1", status="complete", desired="stop", migrate=True)
        acts = compute_drain(w.state, T0)
        assert acts.complete == ["n1"]
        assert ids(acts.migrate) == ([] if ignore else ["sys-0"])


def test_force_drain_stops_everything_now():
    w = World()
    w.node("n1", drain(-1))
    w.job("web", count=3, max_parallel=1)
    w.job("sys", typ="system")
    for i in range(3):
        w.alloc("web", i, "n1")
    w.alloc("sys", 0, "n1")
    acts = compute_drain(w.state, T0)
    assert ids(acts.migrate) == ["sys-0", "web-0", "web-1", "web-2"]
    assert acts.deadlined == ["n1"]
    entry = transition_entry(acts.migrate, w.state, T0)
    assert sorted(ev.JobID for ev in entry.Evals) == ["sys", "web"]
    assert all(ev.TriggeredBy == "node-drain" and ev.Status == "pending" for ev in entry.Evals)
    assert all(t.Migrate for t in entry.Transitions.values())


def test_empty_node_completes_and_non_draining_nodes_are_ignored():
    w = World()
    w.node("n1", drain(3600))
    w.node("n2")
    w.job("web", count=1)
    w.alloc("web", 0, "n2")
    acts = compute_drain(w.state, T0)
    assert acts.complete == ["n1"] and acts.migrate == []
