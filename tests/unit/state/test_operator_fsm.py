"""FSM entries for operator actions: scheduler config (CAS), eligibility, drain, transitions."""

from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.structs.operator import SchedulerConfiguration, config_from_agent
from pynomad.state.snapshot import dump_state, load_state
from pynomad.structs import (Allocation, DesiredTransition, DrainStrategy, Job, Node,
                             NodeEvent, Task, TaskGroup)

import pytest

NS = 1_700_000_000_000_000_000


class Log:
    def __init__(self):
        self.state = StateStore()
        self.fsm = FSM(self.state)
        self.index = 0

    def apply(self, entry, time=NS):
        self.index += 1
        entry.Time = time
        self.fsm.apply(entry, self.index)
        return self.index


def node(i=1) -> Node:
    return Node(ID=f"node-{i}", SecretID="s", Name=f"n{i}", Status="ready")


def test_scheduler_config_set_and_cas():
    log = Log()
    idx = log.apply(e.SchedulerConfigUpdate(Config=SchedulerConfiguration(), OnlyIfMissing=True))
    cfg = log.state.scheduler_config
    assert cfg.CreateIndex == cfg.ModifyIndex == idx and cfg.SchedulerAlgorithm == "binpack"
    # bootstrap again does nothing
    log.apply(e.SchedulerConfigUpdate(Config=SchedulerConfiguration(SchedulerAlgorithm="spread"),
                                      OnlyIfMissing=True))
    assert log.state.scheduler_config.SchedulerAlgorithm == "binpack"
    # CAS with a stale index is ignored
    log.apply(e.SchedulerConfigUpdate(Config=SchedulerConfiguration(SchedulerAlgorithm="spread"),
                                      CAS=True, CASIndex=idx + 100))
    assert log.state.scheduler_config.ModifyIndex == idx
    # CAS with the current index applies
    new = log.apply(e.SchedulerConfigUpdate(
        Config=SchedulerConfiguration(SchedulerAlgorithm="spread"), CAS=True, CASIndex=idx))
    cfg = log.state.scheduler_config
    assert cfg.SchedulerAlgorithm == "spread" and cfg.ModifyIndex == new and cfg.CreateIndex == idx
    assert log.state.table_index("scheduler_config") == new
    # plain set always applies
    log.apply(e.SchedulerConfigUpdate(Config=SchedulerConfiguration(PauseEvalBroker=True)))
    assert log.state.scheduler_config.PauseEvalBroker


def test_config_from_agent_block():
    cfg = config_from_agent({"scheduler_algorithm": "spread", "memory_oversubscription_enabled": True,
                             "preemption_config": {"batch_scheduler_enabled": True}})
    assert cfg.SchedulerAlgorithm == "spread" and cfg.MemoryOversubscriptionEnabled
    assert cfg.PreemptionConfig.BatchSchedulerEnabled and cfg.PreemptionConfig.SystemSchedulerEnabled
    with pytest.raises(ValueError, match="invalid scheduler algorithm"):
        config_from_agent({"scheduler_algorithm": "random"})
    with pytest.raises(ValueError, match="unknown key"):
        config_from_agent({"bogus": 1})


def test_eligibility_and_events():
    log = Log()
    log.apply(e.NodeRegister(Node=node()))
    idx = log.apply(e.NodeUpdateEligibility(
        NodeID="node-1", Eligibility="ineligible",
        Event=NodeEvent(Message="Node marked as ineligible for scheduling", Subsystem="Cluster")))
    n = log.state.node_by_id("node-1")
    assert n.SchedulingEligibility == "ineligible" and n.ModifyIndex == idx
    assert n.Events[-1].Message == "Node marked as ineligible for scheduling"
    assert n.Events[-1].CreateIndex == idx and n.Events[-1].Timestamp.endswith("Z")
    # unknown node is ignored
    log.apply(e.NodeUpdateEligibility(NodeID="nope", Eligibility="ineligible"))


def test_drain_set_cancel_and_complete():
    log = Log()
    log.apply(e.NodeRegister(Node=node()))
    strategy = DrainStrategy(Deadline=60_000_000_000, ForceDeadline="2023-11-14T22:14:20Z",
                             StartedAt="2023-11-14T22:13:20Z")
    log.apply(e.NodeUpdateDrain(NodeID="node-1", DrainStrategy=strategy, Meta={"message": "m"},
                                Event=NodeEvent(Message="Node drain strategy set",
                                                Subsystem="Drain")))
    n = log.state.node_by_id("node-1")
    assert n.Drain and n.DrainStrategy.Deadline == 60_000_000_000
    assert n.SchedulingEligibility == "ineligible"
    assert n.LastDrain["Status"] == "draining" and n.LastDrain["Meta"] == {"message": "m"}
    # eligibility can't be turned back on while draining
    log.apply(e.NodeUpdateEligibility(NodeID="node-1", Eligibility="eligible"))
    assert log.state.node_by_id("node-1").SchedulingEligibility == "ineligible"
    # the client re-registering keeps the drain
    log.apply(e.NodeRegister(Node=node()))
    assert log.state.node_by_id("node-1").DrainStrategy is not None
    assert log.state.node_by_id("node-1").LastDrain["Status"] == "draining"
    # cancel with MarkEligible
    log.apply(e.NodeUpdateDrain(NodeID="node-1", DrainStrategy=None, MarkEligible=True))
    n = log.state.node_by_id("node-1")
    assert n.DrainStrategy is None and not n.Drain and n.SchedulingEligibility == "eligible"
    assert n.LastDrain["Status"] == "canceled"
    # drain again, then the drainer completes it: node stays ineligible
    log.apply(e.NodeUpdateDrain(NodeID="node-1", DrainStrategy=strategy))
    log.apply(e.NodesDrainComplete(NodeIDs=["node-1"],
                                   Event=NodeEvent(Message="Node drain complete", Subsystem="Drain")))
    n = log.state.node_by_id("node-1")
    assert n.DrainStrategy is None and n.SchedulingEligibility == "ineligible"
    assert n.LastDrain["Status"] == "complete" and n.Events[-1].Message == "Node drain complete"


def test_alloc_desired_transition_merges_and_creates_evals():
    from pynomad.structs import Evaluation

    log = Log()
    log.apply(e.NodeRegister(Node=node()))
    job = Job(ID="j", Namespace="default", Type="service",
              TaskGroups=[TaskGroup(Name="g", Count=1, Tasks=[Task(Name="t", Driver="mock")])])
    log.apply(e.JobRegister(Job=job))
    alloc = Allocation(ID="a1", JobID="j", TaskGroup="g", NodeID="node-1", Name="j.g[0]",
                       DesiredTransition=DesiredTransition(Reschedule=True))
    placed = log.apply(e.ApplyPlanResults(Job=job, AllocsUpdated=[alloc]))
    ev = Evaluation(ID="ev1", JobID="j", Type="service", TriggeredBy="node-drain")
    idx = log.apply(e.AllocUpdateDesiredTransition(
        Transitions={"a1": DesiredTransition(Migrate=True), "missing": DesiredTransition(Migrate=True)},
        Evals=[ev]))
    a = log.state.alloc_by_id("a1")
    assert a.DesiredTransition.Migrate and a.DesiredTransition.Reschedule
    assert a.ModifyIndex == idx and a.AllocModifyIndex == placed  # clients needn't refetch
    assert log.state.eval_by_id("ev1").CreateIndex == idx


def test_snapshot_keeps_scheduler_config():
    log = Log()
    log.apply(e.SchedulerConfigUpdate(Config=SchedulerConfiguration(SchedulerAlgorithm="spread")))
    data = dump_state(log.state, log.index)
    restored = StateStore()
    load_state(restored, data)
    assert restored.scheduler_config.SchedulerAlgorithm == "spread"


def test_entries_round_trip_through_codec():
    entry = e.NodeUpdateDrain(NodeID="n", DrainStrategy=DrainStrategy(Deadline=5), Meta={"a": "b"})
    assert e.decode(e.encode(entry)) == entry
    cfg = e.SchedulerConfigUpdate(Config=SchedulerConfiguration(), CAS=True, CASIndex=3)
    assert e.decode(e.encode(cfg)) == cfg


def test_config_from_agent_accepts_list_shaped_blocks():
    cfg = config_from_agent([{"scheduler_algorithm": "spread",
                              "preemption_config": [{"system_scheduler_enabled": False}]}])
    assert cfg.SchedulerAlgorithm == "spread" and not cfg.PreemptionConfig.SystemSchedulerEnabled
    with pytest.raises(ValueError, match="must be a block"):
        config_from_agent({"preemption_config": "yes"})
