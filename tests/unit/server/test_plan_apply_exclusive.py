"""The plan applier re-checks reserved cores and device instances, not only cpu/memory."""

from pynomad.server.plan_apply import evaluate_plan, result_entry
from pynomad.state import StateStore
from pynomad.state import entries as e
from pynomad.state.fsm import FSM
from pynomad.structs import (AllocatedCpuResources, AllocatedMemoryResources,
                             AllocatedResources, AllocatedSharedResources,
                             AllocatedTaskResources, Allocation, DriverInfo, Job, Node,
                             NodeCpuResources, NodeDiskResources, NodeMemoryResources,
                             NodeResources, Plan, Resources, Task, TaskGroup, canonicalize)

GPU = {"Vendor": "nvidia", "Type": "gpu", "Name": "1080ti", "Attributes": {},
       "Instances": [{"ID": "g0", "Healthy": True}, {"ID": "g1", "Healthy": True}]}


def _node() -> Node:
    return Node(ID="20000000-0000-0000-0000-000000000001", SecretID="s", Name="n1",
                Datacenter="dc1", Status="ready", Attributes={"driver.mock": "1"},
                Drivers={"mock": DriverInfo(Detected=True, Healthy=True)},
                NodeResources=NodeResources(
                    Cpu=NodeCpuResources(CpuShares=8000, TotalCpuCores=4,
                                         ReservableCpuCores=[0, 1, 2, 3]),
                    Memory=NodeMemoryResources(MemoryMB=8192),
                    Disk=NodeDiskResources(DiskMB=10_000), Devices=[GPU]))


def _alloc(alloc_id: str, job: Job, cores=None, device_ids=None) -> Allocation:
    devices = [{"Vendor": "nvidia", "Type": "gpu", "Name": "1080ti",
                "DeviceIDs": device_ids}] if device_ids else None
    task = AllocatedTaskResources(Cpu=AllocatedCpuResources(CpuShares=2000, ReservedCores=cores),
                                  Memory=AllocatedMemoryResources(MemoryMB=64), Devices=devices)
    return Allocation(ID=alloc_id, Namespace="default", JobID=job.ID, Job=job, TaskGroup="g",
                      Name=f"{job.ID}.g[0]", NodeID=_node().ID, DesiredStatus="run",
                      ClientStatus="pending",
                      AllocatedResources=AllocatedResources(
                          Tasks={"t": task}, Shared=AllocatedSharedResources(DiskMB=10)))


def _state_with(existing: Allocation, job: Job) -> StateStore:
    state = StateStore()
    fsm = FSM(state)
    fsm.apply(e.NodeRegister(Node=_node()), 1)
    fsm.apply(e.JobRegister(Job=job), 2)
    plan = Plan(EvalID="e0", Job=job)
    plan.append_alloc(existing)
    fsm.apply(result_entry(plan, evaluate_plan(state, plan), 0), 3)
    return state


def _job() -> Job:
    task = Task(Name="t", Driver="mock", Resources=Resources(Cores=1, MemoryMB=64))
    return canonicalize(Job(ID="ml", TaskGroups=[TaskGroup(Name="g", Count=2, Tasks=[task])]))


def _verdict(state: StateStore, job: Job, alloc: Allocation) -> bool:
    plan = Plan(EvalID="e1", Job=job)
    plan.append_alloc(alloc)
    result = evaluate_plan(state, plan)
    return alloc.NodeID in result.NodeAllocation


def test_a_core_or_instance_already_held_is_refused():
    job = _job()
    state = _state_with(_alloc("a0", job, cores=[0], device_ids=["g0"]), job)
    assert state.alloc_by_id("a0") is not None
    assert not _verdict(state, job, _alloc("a1", job, cores=[0]))
    assert not _verdict(state, job, _alloc("a2", job, device_ids=["g0"]))
    assert not _verdict(state, job, _alloc("a3", job, cores=[9]))  # not reservable here
    assert _verdict(state, job, _alloc("a4", job, cores=[1], device_ids=["g1"]))
