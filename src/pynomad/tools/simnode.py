"""A simulated client node (Nomad nodesim's `sim` alloc runner): the real RPC protocol,
no processes and no alloc directories.

Each node registers, heartbeats within the TTL the server returns and long-polls its
allocations. Allocations it is asked to run go Received → Task Setup → Started and report
`running`; tasks whose mock config sets `run_for` finish after it (`exit_code` decides
complete or failed), `start_error` fails at once; stopped allocations report `complete`.
Allocations also report their deployment health like a real client
(`client.health.Tracker`): healthy once running for the group's `min_healthy_time` (the
update block's in a deployment, the migrate block's for other service allocs), unhealthy
if they finish or fail first; a new deployment (in-place update) is tracked again.
Status updates from every node are batched every 200 ms into `Node.UpdateAlloc` calls of
at most 1,000 allocations each.
"""

from __future__ import annotations

import asyncio
import logging
import time

import msgspec

from ..helper.goformat import format_rfc3339
from ..client.health import Tracker, health_params, tracked_tasks
from ..client.rpc import RPCClient, RPCError
from ..structs import rpc as r
from ..structs import (AllocDeploymentStatus, Allocation, DriverInfo, Node, NodeCpuResources,
                       NodeDiskResources, NodeMemoryResources, NodeResources, NetworkResource,
                       TaskEvent, TaskState, generate_uuid)

log = logging.getLogger("pynomad.nodesim")
SYNC_INTERVAL_S = 0.2
SYNC_BATCH = 1000  # allocs per Node.UpdateAlloc call: real clients send per-node batches


def sim_node(name: str, datacenter: str, node_class: str, meta: dict[str, str], cpu: int,
             memory: int, disk: int) -> Node:
    from .. import __version__

    attrs = {"kernel.name": "linux", "os.name": "nodesim", "cpu.arch": "amd64",
             "cpu.numcores": "8", "cpu.totalcompute": str(cpu),
             "memory.totalbytes": str(memory * 1024 * 1024), "nomad.version": __version__,
             "driver.mock_driver": "1", "unique.hostname": name,
             "unique.network.ip-address": "127.0.0.1"}
    return Node(ID=generate_uuid(), SecretID=generate_uuid(), Name=name, Datacenter=datacenter,
                NodeClass=node_class, Meta=dict(meta), Attributes=attrs, Status="ready",
                HTTPAddr="127.0.0.1:0",
                Drivers={"mock_driver": DriverInfo(Detected=True, Healthy=True,
                                                   HealthDescription="Healthy")},
                NodeResources=NodeResources(
                    Cpu=NodeCpuResources(CpuShares=cpu, TotalCpuCores=8),
                    Memory=NodeMemoryResources(MemoryMB=memory),
                    Disk=NodeDiskResources(DiskMB=disk),
                    Networks=[NetworkResource(Mode="host", Device="lo", IP="127.0.0.1",
                                              CIDR="127.0.0.1/32")]))


class Syncer:
    """Collects alloc status updates from all simulated nodes and sends them in batches."""

    def __init__(self, rpc: RPCClient) -> None:
        self.rpc = rpc
        self.pending: dict[str, Allocation] = {}

    def update(self, alloc: Allocation) -> None:
        self.pending[alloc.ID] = alloc

    async def run(self) -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL_S)
            if not self.pending:
                continue
            pending, self.pending = list(self.pending.values()), {}
            for start in range(0, len(pending), SYNC_BATCH):
                batch = pending[start:start + SYNC_BATCH]
                try:
                    await self.rpc.call(r.NODE_UPDATE_ALLOC, r.UpdateAllocArgs(Alloc=batch),
                                        r.IndexReply)
                except (RPCError, OSError, asyncio.TimeoutError) as err:
                    log.warning("alloc sync failed: %s", err)
                    for a in batch:
                        self.pending.setdefault(a.ID, a)


class SimNode:
    def __init__(self, node: Node, rpc: RPCClient, syncer: Syncer) -> None:
        self.node = node
        self.rpc = rpc
        self.syncer = syncer
        self.ttl = 10.0
        self.seen: dict[str, int] = {}
        self.running: dict[str, asyncio.TimerHandle] = {}
        self.deployments: dict[str, str] = {}      # alloc id → deployment health tracked for
        self.health: dict[str, Tracker] = {}       # alloc id → undecided health tracker
        self.health_timers: dict[str, asyncio.TimerHandle] = {}

    async def register(self) -> None:
        reply = await self.rpc.call(r.NODE_REGISTER, r.RegisterArgs(Node=self.node),
                                    r.NodeUpdateReply)
        self.ttl = reply.HeartbeatTTL / 1e9

    async def heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.ttl * 0.5))
            try:
                reply = await self.rpc.call(
                    r.NODE_UPDATE_STATUS, r.UpdateStatusArgs(NodeID=self.node.ID, Status="ready"),
                    r.NodeUpdateReply)
                self.ttl = reply.HeartbeatTTL / 1e9
            except RPCError as err:
                if err.not_found:
                    await self.register()
            except (OSError, asyncio.TimeoutError) as err:
                log.warning("heartbeat of %s failed: %s", self.node.Name, err)

    async def watch_loop(self) -> None:
        index = 0
        while True:
            try:
                reply = await self.rpc.call(
                    r.NODE_GET_CLIENT_ALLOCS,
                    r.ClientAllocsArgs(NodeID=self.node.ID, SecretID=self.node.SecretID,
                                       MinQueryIndex=index, MaxQueryTime=300 * 10**9),
                    r.ClientAllocsReply, timeout_s=330)
                changed = [a for a, i in reply.Allocs.items() if self.seen.get(a) != i]
                if changed:
                    allocs = await self.rpc.call(r.ALLOC_GET_ALLOCS,
                                                 r.GetAllocsArgs(AllocIDs=changed),
                                                 r.AllocsReply)
                    for alloc in allocs.allocations():
                        self._apply(alloc)
                index = max(index, reply.Index)
            except (RPCError, OSError, asyncio.TimeoutError) as err:
                log.warning("watch of %s failed: %s", self.node.Name, err)
                await asyncio.sleep(1.0)

    def _apply(self, alloc: Allocation) -> None:
        first = alloc.ID not in self.seen
        self.seen[alloc.ID] = alloc.AllocModifyIndex
        if alloc.server_terminal():
            self._untrack(alloc.ID)
            handle = self.running.pop(alloc.ID, None)
            if handle is not None:
                handle.cancel()
                self._report(alloc, "complete", "Killed", 0)
            return
        if not first:
            self._retrack(alloc)
            return
        if alloc.client_terminal():
            return
        self._track(alloc)
        tg = alloc.Job.lookup_task_group(alloc.TaskGroup) if alloc.Job else None
        config = (tg.Tasks[0].Config or {}) if tg and tg.Tasks else {}
        if config.get("start_error"):
            self._report(alloc, "failed", "Driver Failure", 1)
            return
        self._report(alloc, "running", "Started", 0)
        run_for = _seconds(config.get("run_for", 0))
        if run_for > 0:
            code = int(config.get("exit_code", 0))
            self.running[alloc.ID] = asyncio.get_running_loop().call_later(
                run_for, self._finish, alloc, code)

    def _finish(self, alloc: Allocation, code: int) -> None:
        self.running.pop(alloc.ID, None)
        self._report(alloc, "failed" if code else "complete", "Terminated", code)

    def _report(self, alloc: Allocation, status: str, event: str, code: int) -> None:
        now = time.time_ns()
        dead = status in ("complete", "failed")
        stamp = format_rfc3339(now)
        events = [TaskEvent(Type="Received", Time=now, DisplayMessage="Task received by client"),
                  TaskEvent(Type=event, Time=now, ExitCode=code)]
        states = {t.Name: TaskState(State="dead" if dead else "running", Failed=status == "failed",
                                    StartedAt=stamp, FinishedAt=stamp if dead else
                                    "0001-01-01T00:00:00Z", Events=events)
                  for t in _tasks(alloc)}
        upd = Allocation(ID=alloc.ID, NodeID=alloc.NodeID, ClientStatus=status,
                         TaskStates=states)
        self.syncer.update(self._observe(upd))

    # -- deployment health --------------------------------------------------------------
    def _track(self, alloc: Allocation) -> None:
        """Track the alloc's health (for its deployment, or for migrations outside one)
        unless it already is (or needn't be)."""
        if alloc.DeploymentID == self.deployments.get(alloc.ID):
            return
        self._untrack(alloc.ID)
        params = health_params(alloc)
        if params is None:
            return
        self.deployments[alloc.ID] = alloc.DeploymentID
        self.health[alloc.ID] = Tracker(params, tracked_tasks(_tasks(alloc)), time.monotonic)

    def _retrack(self, alloc: Allocation) -> None:
        """An in-place update may move a running alloc into a new deployment."""
        if alloc.client_terminal() or alloc.DeploymentID == self.deployments.get(alloc.ID, ""):
            return
        self._track(alloc)
        if alloc.ID in self.health and alloc.ClientStatus == "running":
            upd = Allocation(ID=alloc.ID, NodeID=alloc.NodeID, ClientStatus=alloc.ClientStatus,
                             TaskStates=alloc.TaskStates)
            decided = self._observe(upd)
            if decided.DeploymentStatus is not None:
                self.syncer.update(decided)

    def _untrack(self, alloc_id: str) -> None:
        self.deployments.pop(alloc_id, None)
        self.health.pop(alloc_id, None)
        handle = self.health_timers.pop(alloc_id, None)
        if handle is not None:
            handle.cancel()

    def _observe(self, upd: Allocation) -> Allocation:
        """Feed a status update to the alloc's tracker; returns it with health once decided."""
        tracker = self.health.get(upd.ID)
        if tracker is None:
            return upd
        tracker.observe(upd.TaskStates or {}, upd.ClientStatus)
        return self._decided(upd, tracker)

    def _decided(self, upd: Allocation, tracker: Tracker) -> Allocation:
        """`upd` with the tracker's decision, or unchanged with a timer for its next check."""
        old = self.health_timers.pop(upd.ID, None)
        if old is not None:
            old.cancel()
        due = tracker.next_check()
        if due is not None:
            self.health_timers[upd.ID] = asyncio.get_running_loop().call_later(
                max(0.0, due - time.monotonic()), self._health_due, upd, tracker)
            return upd
        self.health.pop(upd.ID, None)
        status = AllocDeploymentStatus(Healthy=tracker.healthy,
                                       Timestamp=format_rfc3339(time.time_ns()))
        return msgspec.structs.replace(upd, DeploymentStatus=status)

    def _health_due(self, upd: Allocation, tracker: Tracker) -> None:
        self.health_timers.pop(upd.ID, None)
        if self.health.get(upd.ID) is not tracker:
            return
        tracker.check()
        decided = self._decided(upd, tracker)
        if decided.DeploymentStatus is not None:
            self.syncer.update(decided)


def _tasks(alloc: Allocation):
    tg = alloc.Job.lookup_task_group(alloc.TaskGroup) if alloc.Job else None
    return tg.Tasks or () if tg else ()


def _seconds(value) -> float:
    if isinstance(value, (int, float)):
        return value / 1e9 if value > 10**6 else float(value)
    from ..helper.goformat import parse_duration

    try:
        return parse_duration(str(value)) / 1e9
    except Exception:  # noqa: BLE001 - an unparsable run_for means "run forever"
        return 0.0
