"""The event producer: applied log entries → Nomad's events (nomad/state/events.go)."""

from __future__ import annotations

from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.state.events import events_from_entry
from pynomad.structs import (Allocation, Deployment, DeploymentState, DeploymentStatusUpdate,
                             DesiredTransition, DrainStrategy, Evaluation, Job, Node, Task,
                             TaskGroup)

NS = 1_700_000_000_000_000_000


class Log:
    """Applies entries and records the events of each, as the FSM hook does."""

    def __init__(self):
        self.state = StateStore()
        self.fsm = FSM(self.state)
        self.index = 0
        self.seen: list = []
        self.fsm.on_applied = lambda entry, index: self.seen.append(
            events_from_entry(entry, self.state, index))

    def apply(self, entry):
        self.index += 1
        entry.Time = entry.Time or NS
        self.fsm.apply(entry, self.index)
        return self.seen[-1]


def job(job_id="web", ns="default") -> Job:
    return Job(ID=job_id, Name=job_id, Namespace=ns, Type="service", Datacenters=["dc1"],
               TaskGroups=[TaskGroup(Name="g", Count=1,
                                     Tasks=[Task(Name="t", Driver="mock_driver")])])


def evaluation(eval_id="ev1", job_id="web", ns="default", status="pending") -> Evaluation:
    return Evaluation(ID=eval_id, Namespace=ns, JobID=job_id, Type="service",
                      TriggeredBy="job-register", Status=status, Priority=50)


def alloc(alloc_id="a1", job_obj=None, node_id="n1", **kw) -> Allocation:
    j = job_obj or job()
    return Allocation(ID=alloc_id, Namespace=j.Namespace, JobID=j.ID, Job=j, TaskGroup="g",
                      NodeID=node_id, EvalID="ev1", Name=f"{j.ID}.g[0]",
                      DesiredStatus="run", ClientStatus="pending", **kw)


def kinds(events):
    return [(ev.Topic, ev.Type, ev.Key) for ev in events]


def test_job_register_gives_job_and_eval_events_of_type_job_registered():
    log = Log()
    events = log.apply(e.JobRegister(Job=job(), Eval=evaluation()))
    assert kinds(events) == [("Job", "JobRegistered", "web"),
                             ("Evaluation", "JobRegistered", "ev1")]
    job_ev, eval_ev = events
    assert job_ev.Index == eval_ev.Index == log.index
    assert job_ev.Namespace == "default" and job_ev.FilterKeys is None
    assert job_ev.Payload["Job"] is log.state.jobs[("default", "web")]
    assert job_ev.Payload["Job"].ModifyIndex == log.index
    assert eval_ev.FilterKeys == ["web", ""]
    assert eval_ev.Payload["Evaluation"].ID == "ev1"


def test_deregister_stops_the_job_and_purge_emits_only_the_eval():
    log = Log()
    log.apply(e.JobRegister(Job=job()))
    events = log.apply(e.JobDeregister(Namespace="default", JobID="web",
                                       Eval=evaluation("ev2")))
    assert kinds(events) == [("Job", "JobDeregistered", "web"),
                             ("Evaluation", "JobDeregistered", "ev2")]
    assert events[0].Payload["Job"].Stop is True
    events = log.apply(e.JobDeregister(Namespace="default", JobID="web", Purge=True,
                                       Eval=evaluation("ev3")))
    assert kinds(events) == [("Evaluation", "JobDeregistered", "ev3")]


def test_plan_result_allocs_without_job_plus_eval_and_job_status():
    log = Log()
    j = job()
    log.apply(e.JobRegister(Job=j, Eval=evaluation()))
    d = Deployment(ID="d1", Namespace="default", JobID="web", Status="running",
                   TaskGroups={"g": DeploymentState(DesiredTotal=1)})
    events = log.apply(e.ApplyPlanResults(
        Job=j, AllocsUpdated=[alloc(DeploymentID="d1")], Deployment=d,
        Evals=[evaluation(status="complete")]))
    assert kinds(events) == [("Job", "PlanResult", "web"),
                             ("Deployment", "PlanResult", "d1"),
                             ("Allocation", "PlanResult", "a1"),
                             ("Evaluation", "PlanResult", "ev1")]
    job_ev, dep_ev, alloc_ev, _ = events
    assert job_ev.Payload["Job"].Status == "running"
    assert dep_ev.FilterKeys == ["web"] and dep_ev.Payload["Deployment"].TaskGroups[
        "g"].PlacedAllocs == 1
    payload = alloc_ev.Payload["Allocation"]
    assert payload.Job is None and payload.ID == "a1" and payload.ModifyIndex == log.index
    assert log.state.allocs["a1"].Job is not None  # the stored alloc keeps its job
    assert alloc_ev.FilterKeys == ["web", "d1"] and alloc_ev.Namespace == "default"


def test_client_update_and_desired_transition():
    log = Log()
    j = job()
    log.apply(e.JobRegister(Job=j))
    log.apply(e.ApplyPlanResults(Job=j, AllocsUpdated=[alloc()]))
    events = log.apply(e.AllocClientUpdate(Allocs=[Allocation(ID="a1", ClientStatus="running"),
                                                   Allocation(ID="gone")]))
    assert kinds(events) == [("Allocation", "AllocationUpdated", "a1")]
    assert events[0].Payload["Allocation"].ClientStatus == "running"
    events = log.apply(e.AllocUpdateDesiredTransition(
        Transitions={"a1": DesiredTransition(Migrate=True)}))
    assert kinds(events) == [("Allocation", "AllocationUpdateDesiredStatus", "a1")]


def test_replacement_alloc_also_reports_the_linked_previous_alloc():
    log = Log()
    j = job()
    log.apply(e.JobRegister(Job=j))
    log.apply(e.ApplyPlanResults(Job=j, AllocsUpdated=[alloc()]))
    events = log.apply(e.ApplyPlanResults(Job=j, AllocsUpdated=[
        alloc("a2", PreviousAllocation="a1")]))
    allocs = {ev.Key: ev.Payload["Allocation"] for ev in events if ev.Topic == "Allocation"}
    assert set(allocs) == {"a1", "a2"} and allocs["a1"].NextAllocation == "a2"


def test_node_lifecycle_events():
    log = Log()
    events = log.apply(e.NodeRegister(Node=Node(ID="n1", SecretID="secret", Name="n1",
                                                Status="ready")))
    assert kinds(events) == [("Node", "NodeRegistration", "n1")]
    assert events[0].Namespace == "" and events[0].FilterKeys is None
    assert events[0].Payload["Node"].SecretID == ""  # sanitized, as Nomad does
    assert log.state.nodes["n1"].SecretID == "secret"
    assert kinds(log.apply(e.NodeUpdateStatus(NodeID="n1", Status="down"))) == [
        ("Node", "NodeEvent", "n1")]
    assert kinds(log.apply(e.NodeUpdateEligibility(NodeID="n1", Eligibility="ineligible"))) \
        == [("Node", "NodeDrain", "n1")]
    events = log.apply(e.NodeUpdateDrain(NodeID="n1", DrainStrategy=DrainStrategy()))
    assert kinds(events) == [("Node", "NodeDrain", "n1")]
    assert events[0].Payload["Node"].Drain is True
    assert kinds(log.apply(e.NodesDrainComplete(NodeIDs=["n1"]))) == [
        ("Node", "NodeDrain", "n1")]
    events = log.apply(e.NodeDeregister(NodeIDs=["n1"]))
    assert kinds(events) == [("Node", "NodeDeregistration", "n1")]
    assert events[0].Payload["Node"].ID == "n1"


def test_eval_update_and_deployment_entries():
    log = Log()
    j = job()
    log.apply(e.JobRegister(Job=j))
    assert kinds(log.apply(e.EvalUpdate(Evals=[evaluation("ev9")]))) == [
        ("Evaluation", "EvaluationUpdated", "ev9")]
    d = Deployment(ID="d1", Namespace="default", JobID="web", Status="running",
                   TaskGroups={"g": DeploymentState(DesiredTotal=1, DesiredCanaries=1)})
    log.apply(e.ApplyPlanResults(Job=j, Deployment=d))
    events = log.apply(e.DeploymentPromotion(DeploymentID="d1", All=True))
    assert kinds(events) == [("Deployment", "DeploymentPromotion", "d1")]
    events = log.apply(e.DeploymentStatusChange(Update=DeploymentStatusUpdate(
        DeploymentID="d1", Status="paused", StatusDescription="paused")))
    assert kinds(events) == [("Deployment", "DeploymentStatusUpdate", "d1")]
    assert events[0].Payload["Deployment"].Status == "paused"
    events = log.apply(e.DeploymentAllocHealth(DeploymentID="d1"))
    assert kinds(events) == []  # nothing changed, nothing published


def test_entries_without_events():
    log = Log()
    log.apply(e.JobRegister(Job=job()))
    assert log.apply(e.JobStability(Namespace="default", JobID="web", Version=0,
                                    Stable=True)) == []
    assert log.apply(e.JobSummariesReconcile()) == []
