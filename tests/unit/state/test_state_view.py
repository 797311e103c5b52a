"""Scheduler views of the state store: frozen at their index while the FSM writes, even
from another thread; refreshed on demand; closed views cost the writer nothing."""

import threading

from pynomad.state import FSM, StateStore
from pynomad.state import entries as e
from pynomad.structs import (Allocation, AllocatedCpuResources, AllocatedMemoryResources,
                             AllocatedResources, AllocatedTaskResources, Deployment,
                             Evaluation, Job, Node, TaskGroup)


def node(i: int, status: str = "ready") -> Node:
    return Node(ID=f"n{i}", Name=f"n{i}", Status=status)


def alloc(i: int, node_id: str = "n0", job_id: str = "web", cpu: int = 100) -> Allocation:
    res = AllocatedResources(Tasks={"t": AllocatedTaskResources(
        Cpu=AllocatedCpuResources(CpuShares=cpu),
        Memory=AllocatedMemoryResources(MemoryMB=10))})
    return Allocation(ID=f"a{i}", Name=f"{job_id}.g[{i}]", NodeID=node_id, JobID=job_id,
                      TaskGroup="g", AllocatedResources=res)


def log():
    state = StateStore()
    fsm = FSM(state)
    counter = iter(range(1, 10**9))
    return state, lambda entry: fsm.apply(entry, next(counter))


def test_view_is_frozen_while_the_fsm_writes():
    state, apply = log()
    apply(e.NodeRegister(Node=node(0)))
    apply(e.JobRegister(Job=Job(ID="web", Namespace="default", TaskGroups=[TaskGroup(Name="g", Count=3)])))
    apply(e.ApplyPlanResults(AllocsUpdated=[alloc(0), alloc(1)]))
    apply(e.EvalUpdate(Evals=[Evaluation(ID="ev1", JobID="web", Status="pending")]))
    view = state.snapshot()
    usage_before = view.node_usage("n0").cpu
    apply(e.ApplyPlanResults(AllocsUpdated=[alloc(2)],
                             AllocsStopped=[e.AllocStop(ID="a0", DesiredDescription="stop")]))
    apply(e.GCDelete(Allocs=["a1"]))
    apply(e.NodeRegister(Node=node(1)))
    apply(e.NodeUpdateStatus(NodeID="n0", Status="down"))
    apply(e.EvalUpdate(Evals=[Evaluation(ID="ev1", JobID="web", Status="complete")]))
    apply(e.JobRegister(Job=Job(ID="web", Namespace="default", TaskGroups=[TaskGroup(Name="g", Count=9)])))
    apply(e.ApplyPlanResults(Deployment=Deployment(ID="d1", JobID="web")))

    assert sorted(a.ID for a in view.allocs_by_node_id("n0")) == ["a0", "a1"]
    assert sorted(a.ID for a in view.allocs_by_job_id("default", "web")) == ["a0", "a1"]
    assert view.alloc_by_id("a0").DesiredStatus == "run" and view.alloc_by_id("a2") is None
    assert view.node_usage("n0").cpu == usage_before
    assert [n.ID for n in view.nodes_list()] == ["n0"] and view.node_by_id("n1") is None
    assert view.node_by_id("n0").Status == "ready"
    assert view.eval_by_id("ev1").Status == "pending"
    assert view.job_by_id("default", "web").TaskGroups[0].Count == 3
    assert view.latest_deployment_by_job_id("default", "web") is None
    # the live store moved on
    assert sorted(a.ID for a in state.allocs_by_node_id("n0")) == ["a0", "a2"]
    assert state.node_usage("n0").cpu != usage_before

    view.refresh()
    assert sorted(a.ID for a in view.allocs_by_node_id("n0")) == ["a0", "a2"]
    assert view.node_by_id("n0").Status == "down" and view.node_by_id("n1") is not None
    assert view.latest_deployment_by_job_id("default", "web").ID == "d1"
    assert view.latest_index == state.latest_index
    view.close()
    assert state._views == []


def test_view_read_from_another_thread_stays_consistent():
    state, apply = log()
    apply(e.NodeRegister(Node=node(0)))
    apply(e.ApplyPlanResults(AllocsUpdated=[alloc(i) for i in range(50)]))
    with state.snapshot() as view:
        seen, stop = set(), threading.Event()

        def reader():
            while not stop.is_set():
                allocs = view.allocs_by_node_id("n0")
                seen.add((len(allocs), len({a.ID for a in allocs}),
                          all(a.DesiredStatus == "run" for a in allocs),
                          view.node_usage("n0").cpu))
        t = threading.Thread(target=reader)
        t.start()
        for i in range(50, 2000):
            apply(e.ApplyPlanResults(AllocsUpdated=[alloc(i)], AllocsStopped=[
                e.AllocStop(ID=f"a{i - 50}", DesiredDescription="replaced")]))
            if i % 3 == 0:
                apply(e.GCDelete(Allocs=[f"a{i - 50}"]))
        stop.set()
        t.join()
    assert seen == {(50, 50, True, 5000)}
