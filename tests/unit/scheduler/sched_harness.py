"""A tiny in-memory State and plan applier to drive schedulers without a server."""

from __future__ import annotations

import random
from collections import Counter

from msgspec.structs import replace

from pynomad.scheduler import new_scheduler
from pynomad.scheduler.plan_fit import exclusive_fit
from pynomad.structs import (Allocation, Deployment, DriverInfo, Evaluation, Job, Node, NodeCpuResources,
                             NodeDiskResources, NodeMemoryResources, NodeResources, PlanResult,
                             Resources, Task, TaskGroup, allocs_fit, generate_uuid)
from pynomad.structs.defaults import canonicalize
from pynomad.structs import NodeUsage
from pynomad.structs.node import compute_class

NOW = 1_700_000_000_000_000_000


class FakeState:
    """Implements the scheduler's State protocol over plain dicts."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.jobs: dict[tuple[str, str], Job] = {}
        self.allocs: dict[str, Allocation] = {}
        self.by_node: dict[str, dict[str, Allocation]] = {}
        self.by_job: dict[tuple[str, str], dict[str, Allocation]] = {}
        self.deployments: dict[str, Deployment] = {}
        self.latest_index = 1

    # -- State protocol ------------------------------------------------------------------
    def job_by_id(self, namespace, job_id):
        return self.jobs.get((namespace, job_id))

    def node_by_id(self, node_id):
        return self.nodes.get(node_id)

    def nodes_list(self):
        return self.nodes.values()

    def allocs_by_job_id(self, namespace, job_id):
        return list(self.by_job.get((namespace, job_id), {}).values())

    def allocs_by_node_id(self, node_id):
        return list(self.by_node.get(node_id, {}).values())

    def eval_by_id(self, eval_id):
        return None

    def alloc_by_id(self, alloc_id):
        return self.allocs.get(alloc_id)

    def node_usage(self, node_id):
        usage = NodeUsage()
        for a in self.by_node.get(node_id, {}).values():
            if not a.terminal():
                usage.add(a)
        return usage

    def latest_deployment_by_job_id(self, namespace, job_id):
        deps = [d for d in self.deployments.values()
                if (d.Namespace, d.JobID) == (namespace, job_id)]
        return max(deps, key=lambda d: d.CreateIndex) if deps else None

    # -- writes --------------------------------------------------------------------------
    def add_node(self, node: Node) -> Node:
        node.ComputedClass = compute_class(node)
        self.nodes[node.ID] = node
        return node

    def put_job(self, job: Job) -> Job:
        canonicalize(job)
        job.JobModifyIndex = self.latest_index
        self.jobs[(job.Namespace, job.ID)] = job
        return job

    def put_alloc(self, alloc: Allocation) -> None:
        self.allocs[alloc.ID] = alloc
        self.by_node.setdefault(alloc.NodeID, {})[alloc.ID] = alloc
        self.by_job.setdefault((alloc.Namespace, alloc.JobID), {})[alloc.ID] = alloc

    def apply(self, plan) -> PlanResult:
        """Commit a plan, re-checking fit per node like the plan applier."""
        self.latest_index += 1
        result = PlanResult(NodeUpdate=plan.NodeUpdate, NodePreemptions=plan.NodePreemptions)
        if plan.Deployment is not None:
            self.deployments[plan.Deployment.ID] = replace(plan.Deployment,
                                                           CreateIndex=self.latest_index)
        for u in plan.DeploymentUpdates:
            d = self.deployments[u.DeploymentID]
            self.deployments[d.ID] = replace(d, Status=u.Status,
                                             StatusDescription=u.StatusDescription)
        for node_id, allocs in plan.NodeUpdate.items():
            for a in allocs:
                self.put_alloc(replace(self.allocs[a.ID], DesiredStatus="stop",
                                       DesiredDescription=a.DesiredDescription))
        for node_id, allocs in plan.NodePreemptions.items():
            for a in allocs:
                self.put_alloc(replace(self.allocs[a.ID], DesiredStatus="evict",
                                       PreemptedByAllocation=a.PreemptedByAllocation))
        for node_id, allocs in plan.NodeAllocation.items():
            live = {a.ID: a for a in self.allocs_by_node_id(node_id) if not a.terminal()}
            live.update({a.ID: a for a in allocs})
            ok, _ = allocs_fit(self.nodes[node_id], live.values())
            ok = ok and exclusive_fit(self.nodes[node_id], live.values())[0]
            if not ok:
                result.RefreshIndex = self.latest_index
                continue
            result.NodeAllocation[node_id] = allocs
            for a in allocs:
                self.put_alloc(a)
        return result

    # -- queries for tests ---------------------------------------------------------------
    def live(self, job_id: str, namespace: str = "default") -> list[Allocation]:
        return [a for a in self.allocs_by_job_id(namespace, job_id) if not a.terminal()]

    def per_node(self, job_id: str) -> Counter:
        return Counter(a.NodeID for a in self.live(job_id))


def make_node(i: int, dc: str = "dc1", cpu: int = 4000, mem: int = 8192, attrs=None,
              meta=None, node_class: str = "", status: str = "ready") -> Node:
    attributes = {"kernel.name": "linux", "driver.mock": "1", "unique.hostname": f"n{i}",
                  "cpu.arch": "amd64"}
    attributes.update(attrs or {})
    return Node(ID=f"{i:08d}-0000-0000-0000-000000000000", Name=f"node-{i}", Datacenter=dc,
                Status=status, NodeClass=node_class, Attributes=attributes, Meta=dict(meta or {}),
                Drivers={"mock": DriverInfo(Detected=True, Healthy=True)},
                NodeResources=NodeResources(Cpu=NodeCpuResources(CpuShares=cpu),
                                            Memory=NodeMemoryResources(MemoryMB=mem),
                                            Disk=NodeDiskResources(DiskMB=100_000)))


def make_job(job_id: str = "web", count: int = 1, typ: str = "service", cpu: int = 100,
             mem: int = 64, priority: int = 50, driver: str = "mock", **tg_fields) -> Job:
    task = Task(Name="t", Driver=driver, Config={"run_for": "1h"},
                Resources=Resources(CPU=cpu, MemoryMB=mem))
    tg = TaskGroup(Name="g", Count=count, Tasks=[task], **tg_fields)
    return Job(ID=job_id, Type=typ, Priority=priority, Datacenters=["*"], TaskGroups=[tg])


def run_eval(state: FakeState, job: Job, config=None, seed: int = 1, algorithm="binpack"):
    """Register `job` and run one evaluation of it to completion; returns the Outcome."""
    state.put_job(job)
    ev = Evaluation(ID=generate_uuid(), Namespace=job.Namespace, Priority=job.Priority,
                    Type=job.Type, TriggeredBy="job-register", JobID=job.ID,
                    JobModifyIndex=job.JobModifyIndex)
    sched = new_scheduler(job.Type, state, NOW, algorithm, config=config)
    sched.rng = random.Random(seed)
    gen = sched.process(ev)
    try:
        plan = next(gen)
        while True:
            plan = gen.send(state.apply(plan))
    except StopIteration as stop:
        return stop.value
