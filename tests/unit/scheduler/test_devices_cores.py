"""`device` requests and `resources { cores }`: feasibility, assignment, ranking, metrics."""

import random

import pytest
from sched_harness import FakeState, make_job, make_node, run_eval

from pynomad.jobspec import parse_job
from pynomad.scheduler.context import EvalContext
from pynomad.scheduler.feasible.attribute import Attribute
from pynomad.scheduler.feasible.device import DeviceChecker, device_matches
from pynomad.scheduler.group import Group
from pynomad.scheduler.plan_fit import exclusive_fit, plan_exclusive_fit
from pynomad.scheduler.rank.base import RankedNode
from pynomad.scheduler.rank.cores import CoreAssigner
from pynomad.scheduler.rank.devices import DeviceAssigner
from pynomad.structs import Allocation, Job, NodeUsage, Plan, Task
from pynomad.structs.defaults import canonicalize
from pynomad.structs.validate import job_errors


def gpu(name, ids, memory_mib=4096, vendor="nvidia", healthy=True):
    return {"Vendor": vendor, "Type": "gpu", "Name": name,
            "Attributes": {"memory": {"Int": memory_mib, "Unit": "MiB"},
                           "cuda_cores": {"Int": 3584}},
            "Instances": [{"ID": i, "Healthy": healthy, "HealthDescription": ""} for i in ids]}


def gpu_node(i, *devices, cores=0, cpu=4000):
    node = make_node(i, cpu=cpu)
    node.NodeResources.Devices = list(devices)
    if cores:
        node.NodeResources.Cpu.TotalCpuCores = cores
        node.NodeResources.Cpu.ReservableCpuCores = list(range(cores))
    return node


def device_job(job_id="ml", count=1, *requests, cores=0, tasks=1):
    job = make_job(job_id, count=count, cpu=0 if cores else 100)
    tg = job.TaskGroups[0]
    tg.Tasks = [Task(Name=f"t{n}", Driver="mock", Config={"run_for": "1h"},
                     Resources=tg.Tasks[0].Resources.__copy__()) for n in range(tasks)]
    for task in tg.Tasks:
        task.Resources.Devices = [dict(r) for r in requests] or None
        if cores:
            task.Resources.Cores, task.Resources.CPU = cores, None
    return job


def _devices(alloc):
    return [d for t in alloc.AllocatedResources.Tasks.values() for d in t.Devices or ()]


# -- attributes ------------------------------------------------------------------------------
@pytest.mark.parametrize("left,right,expected", [
    (Attribute(4096, "MiB"), Attribute.parse("3.5 GiB"), 1),
    (Attribute(2, "GiB"), Attribute.parse("2048MiB"), 0),
    (Attribute(1, "GHz"), Attribute.parse("1500 MHz"), -1),
    (Attribute(3584), Attribute.parse("3584"), 0),
    (Attribute("1080ti"), Attribute.parse("1080ti"), 0),
    (Attribute(4096, "MiB"), Attribute.parse("4096"), None),    # unit vs none
    (Attribute(1, "W"), Attribute.parse("1 GiB"), None),         # other base
    (Attribute("a"), Attribute.parse("3"), None),                # string vs number
    (Attribute(True), Attribute.parse("true"), 0),
])
def test_attributes_compare_across_units(left, right, expected):
    assert left.compare(right) == expected


def test_device_names_and_constraints_select_device_groups():
    dev = gpu("1080ti", ["a"])
    assert device_matches(dev, {"Name": "gpu"})
    assert device_matches(dev, {"Name": "nvidia/gpu"})
    assert device_matches(dev, {"Name": "nvidia/gpu/1080ti"})
    assert not device_matches(dev, {"Name": "amd/gpu"})
    assert not device_matches(dev, {"Name": "fpga"})
    big = {"LTarget": "${device.attr.memory}", "Operand": ">=", "RTarget": "2 GiB"}
    huge = {"LTarget": "${device.attr.memory}", "Operand": ">=", "RTarget": "8 GiB"}
    model = {"LTarget": "${device.model}", "Operand": "regexp", "RTarget": "^10"}
    assert device_matches(dev, {"Name": "gpu", "Constraints": [big, model]})
    assert not device_matches(dev, {"Name": "gpu", "Constraints": [huge]})


def test_device_checker_counts_healthy_instances():
    node = gpu_node(0, gpu("1080ti", ["a", "b"]), gpu("k80", ["c"], healthy=False))
    job = canonicalize(device_job("ml", 1, {"Name": "nvidia/gpu", "Count": 2}))
    assert DeviceChecker.of(job.TaskGroups[0]).check(node) is None
    job = canonicalize(device_job("ml", 1, {"Name": "nvidia/gpu", "Count": 3}))
    assert DeviceChecker.of(job.TaskGroups[0]).check(node) == "missing devices"
    assert DeviceChecker.of(canonicalize(make_job()).TaskGroups[0]) is None


# -- placement -------------------------------------------------------------------------------
def test_device_placement_never_gives_an_instance_twice():
    state = FakeState()
    state.add_node(gpu_node(0, gpu("1080ti", ["g0", "g1", "g2"])))
    out = run_eval(state, device_job("ml", 2, {"Name": "nvidia/gpu", "Count": 1}, tasks=1))
    allocs = state.live("ml")
    assert len(allocs) == 2 and out.eval.FailedTGAllocs is None
    held = [i for a in allocs for d in _devices(a) for i in d["DeviceIDs"]]
    assert sorted(held) == ["g0", "g1"]
    assert _devices(allocs[0])[0]["Vendor"] == "nvidia" and _devices(allocs[0])[0]["Name"] == "1080ti"
    # two more instances don't fit: only g2 is left
    out = run_eval(state, device_job("ml2", 1, {"Name": "gpu", "Count": 2}))
    metric = out.eval.FailedTGAllocs["g"]
    assert metric.DimensionExhausted == {"devices: no devices match request": 1}
    assert metric.NodesExhausted == 1


def test_tasks_of_one_placement_get_distinct_instances():
    state = FakeState()
    state.add_node(gpu_node(0, gpu("1080ti", ["g0", "g1"])))
    run_eval(state, device_job("ml", 1, {"Name": "gpu"}, tasks=2))
    (alloc,) = state.live("ml")
    per_task = {name: t.Devices[0]["DeviceIDs"] for name, t in alloc.AllocatedResources.Tasks.items()}
    assert sorted(sum(per_task.values(), [])) == ["g0", "g1"]


def test_nodes_without_matching_devices_are_filtered():
    state = FakeState()
    state.add_node(make_node(0))
    state.add_node(gpu_node(1, gpu("k80", ["x"], memory_mib=1024)))
    big = {"LTarget": "${device.attr.memory}", "Operand": ">=", "RTarget": "2 GiB"}
    out = run_eval(state, device_job("ml", 1, {"Name": "gpu", "Constraints": [big]}))
    metric = out.eval.FailedTGAllocs["g"]
    assert metric.ConstraintFiltered == {"missing devices": 2} and metric.NodesFiltered == 2


def test_device_affinity_prefers_the_matching_group_and_scores_devices():
    state = FakeState()
    state.add_node(gpu_node(0, gpu("k80", ["k0"], memory_mib=2048),
                            gpu("1080ti", ["t0"], memory_mib=11264)))
    prefer = {"LTarget": "${device.attr.memory}", "Operand": ">=", "RTarget": "4 GiB",
              "Weight": 75}
    run_eval(state, device_job("ml", 1, {"Name": "gpu", "Affinities": [prefer]}))
    (alloc,) = state.live("ml")
    assert _devices(alloc) == [{"Vendor": "nvidia", "Type": "gpu", "Name": "1080ti",
                                "DeviceIDs": ["t0"]}]
    assert alloc.Metrics.ScoreMetaData[0].Scores["devices"] == 1.0


def test_device_ids_constraint_narrows_instances():
    state = FakeState()
    state.add_node(gpu_node(0, gpu("1080ti", ["g0", "g1", "g2"])))
    only = {"LTarget": "${device.ids}", "Operand": "set_contains_any", "RTarget": "g2,g9"}
    run_eval(state, device_job("ml", 1, {"Name": "gpu", "Constraints": [only]}))
    assert _devices(state.live("ml")[0])[0]["DeviceIDs"] == ["g2"]


def test_cores_are_reserved_without_overlap_and_priced_in_mhz():
    state = FakeState()
    state.add_node(gpu_node(0, cores=4, cpu=8000))
    out = run_eval(state, device_job("db", 2, cores=1, tasks=2))
    assert out.eval.FailedTGAllocs is None
    tasks = [t for a in state.live("db") for t in a.AllocatedResources.Tasks.values()]
    assert sorted(c for t in tasks for c in t.Cpu.ReservedCores) == [0, 1, 2, 3]
    assert {t.Cpu.CpuShares for t in tasks} == {2000}  # 8000 MHz / 4 cores
    out = run_eval(state, device_job("more", 1, cores=1))
    assert out.eval.FailedTGAllocs["g"].DimensionExhausted == {"cores": 1}


def test_cores_choose_a_node_with_free_cores():
    state = FakeState()
    busy = state.add_node(gpu_node(0, cores=2))
    free = state.add_node(gpu_node(1, cores=2))
    run_eval(state, device_job("a", 1, cores=2))
    first = state.live("a")[0].NodeID
    run_eval(state, device_job("b", 1, cores=2))
    second = state.live("b")[0].NodeID
    assert {first, second} == {busy.ID, free.ID}


def test_core_and_device_assigners_alone():
    state = FakeState()
    node = state.add_node(gpu_node(0, gpu("1080ti", ["g0"]), cores=2, cpu=3000))
    ctx = EvalContext(state, Plan(EvalID="e"), random.Random(1))
    job = canonicalize(device_job("ml", 1, {"Name": "gpu"}, cores=2))
    option = RankedNode(node, Group(job.TaskGroups[0]), NodeUsage())
    assert CoreAssigner.of(ctx, job.TaskGroups[0]).assign(option, False) is None
    assert option.cores == {"t0": ([0, 1], 3000)} and option.cpu == 3000
    assert DeviceAssigner.of(ctx, job.TaskGroups[0]).assign(option, False) is None
    assert option.devices["t0"][0]["DeviceIDs"] == ["g0"]
    resources = option.resources.Tasks["t0"]
    assert resources.Cpu.ReservedCores == [0, 1] and resources.Cpu.CpuShares == 3000
    assert CoreAssigner.of(ctx, canonicalize(make_job()).TaskGroups[0]) is None


JOBSPEC = """
job "train" {
  datacenters = ["*"]
  group "g" {
    task "t" {
      driver = "mock"
      resources {
        cores  = 2
        memory = 256
        device "nvidia/gpu" {
          count = 2
          constraint {
            attribute = "${device.attr.memory}"
            operator  = ">="
            value     = "2 GiB"
          }
        }
      }
    }
  }
}
"""


def test_a_job_file_with_cores_and_devices_validates_and_places():
    import msgspec

    job = canonicalize(msgspec.convert(parse_job(JOBSPEC), Job))
    assert job_errors(job) == []
    res = job.TaskGroups[0].Tasks[0].Resources
    assert (res.CPU, res.Cores, res.Devices[0]["Count"]) == (0, 2, 2)
    state = FakeState()
    small = state.add_node(gpu_node(0, gpu("k80", ["k0", "k1"], memory_mib=1024), cores=4))
    good = state.add_node(gpu_node(1, gpu("1080ti", ["t0", "t1"]), cores=4, cpu=8000))
    out = run_eval(state, job)
    (alloc,) = state.live("train")
    assert alloc.NodeID == good.ID and small.ID != good.ID
    task = alloc.AllocatedResources.Tasks["t"]
    assert task.Cpu.ReservedCores == [0, 1] and task.Cpu.CpuShares == 4000
    assert task.Devices[0]["DeviceIDs"] == ["t0", "t1"]
    assert out.eval.FailedTGAllocs is None


# -- the plan applier's re-check -------------------------------------------------------------
def _holding(alloc_id, node, cores=(), devices=()):
    job = canonicalize(make_job())
    res = Group(job.TaskGroups[0])._build(None, {"t": list(devices)} if devices else None,
                                          {"t": (list(cores), 100)} if cores else None)
    return Allocation(ID=alloc_id, Namespace="default", JobID="web", TaskGroup="g", Job=job,
                      NodeID=node.ID, DesiredStatus="run", ClientStatus="running",
                      AllocatedResources=res)


def test_exclusive_fit_rejects_shared_cores_and_instances():
    node = gpu_node(0, gpu("1080ti", ["g0", "g1"]), cores=4)
    d0 = {"Vendor": "nvidia", "Type": "gpu", "Name": "1080ti", "DeviceIDs": ["g0"]}
    d1 = dict(d0, DeviceIDs=["g1"])
    assert exclusive_fit(node, [_holding("a", node, [0], [d0]), _holding("b", node, [1], [d1])]) \
        == (True, "")
    assert exclusive_fit(node, [_holding("a", node, [0]), _holding("b", node, [0])]) == \
        (False, "cores")
    assert exclusive_fit(node, [_holding("a", node, [7])]) == (False, "cores")
    assert exclusive_fit(node, [_holding("a", node, devices=[d0]),
                                _holding("b", node, devices=[d0])]) == \
        (False, "device oversubscribed")


def test_plan_exclusive_fit_counts_what_the_plan_stops():
    state = FakeState()
    node = state.add_node(gpu_node(0, cores=2))
    old = _holding("old", node, [0])
    state.put_alloc(old)
    plan = Plan(EvalID="e")
    new = _holding("new", node, [0])
    assert plan_exclusive_fit(state, plan, node, [new]) == (False, "cores")
    plan.append_stopped(old, "replaced")
    assert plan_exclusive_fit(state, plan, node, [new]) == (True, "")
    assert plan_exclusive_fit(state, Plan(EvalID="e"), node, [_holding("x", node)]) == (True, "")
