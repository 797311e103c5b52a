"""The client agent: fingerprint, register, heartbeat, watch allocations, run them.

`Client(config, rpc, drivers, clock)`; `await start()` returns once the node is
fingerprinted and stored allocations are restored (re-attached, never started twice);
registration, heartbeats, the allocation watch and the 200 ms status sync run in the
background. `await shutdown()` stops supervising but leaves tasks running, like
`nomad agent` exiting.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from pynomad.structs import Allocation, Node
from pynomad.structs import rpc as r
from pynomad.structs.rpc import RPC, AllocsReply  # noqa: F401  (AllocsReply: the reply callers decode)

from .allocrunner import AllocRunner
from ..helper.clock import SYSTEM_CLOCK, Clock
from .config import ClientConfig
from .driver import Driver
from .fingerprint import HostFacts, detect_host, fingerprint
from ..helper.goformat import SECOND
from .rpc import RPCError
from .state import StateDB

log = logging.getLogger(__name__)


class Client:
    """One client node."""

    def __init__(self, config: ClientConfig, rpc: RPC, drivers: dict[str, Driver],
                 clock: Clock = SYSTEM_CLOCK, host_facts: HostFacts | None = None,
                 host_env: dict[str, str] | None = None):
        self.config = config
        self.rpc = rpc
        self.drivers = dict(drivers)
        self.clock = clock
        self.host_facts = host_facts
        self.host_env = host_env
        self.runners: dict[str, AllocRunner] = {}
        self._seen_index: dict[str, int] = {}     # alloc id → AllocModifyIndex handled
        self._dirty: set[str] = set()
        self._registered = asyncio.Event()
        self._loops: list[asyncio.Task] = []
        self._gc: set[asyncio.Task] = set()
        self._node: Node | None = None
        self._db: StateDB | None = None
        self.heartbeat_ttl_s = 0.0
        self._rng = random.Random()

    # -- public API -----------------------------------------------------------
    @property
    def node(self) -> Node:
        assert self._node is not None, "Client.start() not called"
        return self._node

    @property
    def node_id(self) -> str:
        return self.node.ID

    @property
    def registered(self) -> bool:
        return self._registered.is_set()

    async def wait_registered(self, timeout_s: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self._registered.wait(), timeout_s)
            return True
        except asyncio.TimeoutError:
            return False

    def alloc_dir(self, alloc_id: str) -> str | None:
        """Host path of an allocation's directory, if this client has it."""
        runner = self.runners.get(alloc_id)
        if runner is not None:
            return runner.alloc_dir.dir
        path = os.path.join(self.config.alloc_root, alloc_id)
        return path if os.path.isdir(path) else None

    def alloc_runner(self, alloc_id: str) -> AllocRunner | None:
        return self.runners.get(alloc_id)

    async def start(self) -> None:
        """Fingerprint, restore stored allocations and start the background loops."""
        os.makedirs(self.config.client_dir, exist_ok=True)
        facts = self.host_facts or await asyncio.to_thread(
            detect_host, self.config.data_dir, self.config.network_interface)
        infos = {name: d.fingerprint() for name, d in self.drivers.items()}
        self._node = fingerprint(self.config, infos, facts)
        self._db = StateDB(self.config.client_dir, fsync=self.config.state_fsync)
        self._restore()
        loop = asyncio.get_running_loop()
        self._loops = [loop.create_task(self._heartbeat_loop(), name="client heartbeat"),
                       loop.create_task(self._watch_allocs(), name="client alloc watch"),
                       loop.create_task(self._sync_loop(), name="client alloc sync")]

    async def shutdown(self) -> None:
        """Stop the loops and runners; tasks keep running for the next start, except in
        dev mode, where nothing persists and every allocation is destroyed (as Nomad does)."""
        for t in self._loops:
            t.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops = []
        if self._dirty and self.registered:
            try:
                await asyncio.wait_for(self._sync_once(), 2.0)
            except Exception as e:  # noqa: BLE001 - best effort on the way out
                log.debug("final alloc sync failed: %s", e)
        if self.config.dev_mode:
            await asyncio.gather(*(r.destroy() for r in self.runners.values()),
                                 return_exceptions=True)
        else:
            await asyncio.gather(*(r.shutdown() for r in self.runners.values()),
                                 return_exceptions=True)
        for t in list(self._gc):
            t.cancel()

    # -- restore ----------------------------------------------------------------
    def _restore(self) -> None:
        assert self._db is not None
        for alloc_id, rec in self._db.get_all().items():
            runner = self._new_runner(rec.Alloc, restored=rec.Tasks)
            self._seen_index[alloc_id] = rec.Alloc.AllocModifyIndex
            runner.start()
            self._dirty.add(alloc_id)
            log.info("restored allocation %s", alloc_id)

    def _new_runner(self, alloc: Allocation, restored=None) -> AllocRunner:
        runner = AllocRunner(alloc=alloc, node=self._node, drivers=self.drivers,
                             config=self.config, clock=self.clock, db=self._db,
                             on_update=self._alloc_updated, restored=restored,
                             host_env=self.host_env, rpc=self.rpc)
        self.runners[alloc.ID] = runner
        return runner

    def _alloc_updated(self, runner: AllocRunner) -> None:
        if self.runners.get(runner.id) is runner:
            self._dirty.add(runner.id)

    # -- registration and heartbeats ------------------------------------------------
    def _retry_s(self, base: float) -> float:
        base = self.config.retry_interval(base)
        return base + self._rng.uniform(0, base)

    async def _register(self) -> None:
        """Node.Register until it succeeds."""
        while True:
            try:
                reply = await self.rpc.call(r.NODE_REGISTER, r.RegisterArgs(Node=self.node),
                                            r.NodeUpdateReply)
            except RPCError as e:
                log.warning("node registration failed: %s", e)
                await self.clock.sleep(self._retry_s(self.config.register_retry_s))
                continue
            except (ConnectionError, OSError, asyncio.TimeoutError) as e:
                # Nomad's noServerRetryIntv: retry quickly while no server answers
                log.warning("node registration failed: %s", e)
                await self.clock.sleep(self._retry_s(1.0))
                continue
            self.heartbeat_ttl_s = reply.HeartbeatTTL / SECOND
            self._registered.set()
            log.info("node registration complete (ttl %.1fs)", self.heartbeat_ttl_s)
            return

    async def _heartbeat_loop(self) -> None:
        await self._register()
        stagger = self.config.initial_heartbeat_stagger_s
        delay = 0.0 if self.config.dev_mode else self._rng.uniform(0, stagger)
        while True:
            await self.clock.sleep(delay)
            delay = await self._heartbeat()

    async def _heartbeat(self) -> float:
        """One Node.UpdateStatus; returns the delay before the next one."""
        try:
            reply = await self.rpc.call(r.NODE_UPDATE_STATUS,
                                        r.UpdateStatusArgs(NodeID=self.node_id, Status="ready"),
                                        r.NodeUpdateReply)
        except RPCError as e:
            if e.not_found:
                log.info("server does not know this node; registering again")
                await self._register()
                return 0.0
            log.warning("heartbeat failed: %s", e)
            return self._heartbeat_retry_s()
        except (ConnectionError, OSError, asyncio.TimeoutError) as e:
            log.warning("heartbeat failed: %s", e)
            return self._heartbeat_retry_s()
        self.node.Status = "ready"
        self.heartbeat_ttl_s = reply.HeartbeatTTL / SECOND
        return max(self.heartbeat_ttl_s, 0.05)

    def _heartbeat_retry_s(self) -> float:
        if self.config.dev_mode:
            return 1.0
        ttl = self.heartbeat_ttl_s or self.config.register_retry_s
        return max(1.0, min(self.config.register_retry_s, ttl / 3))

    # -- allocation watch ---------------------------------------------------------------
    async def _watch_allocs(self) -> None:
        await self._registered.wait()
        index = 0
        while True:
            try:
                reply = await self.rpc.call(
                    r.NODE_GET_CLIENT_ALLOCS,
                    r.ClientAllocsArgs(NodeID=self.node_id, SecretID=self.node.SecretID,
                                       MinQueryIndex=index,
                                       MaxQueryTime=int(self.config.max_query_time_s * SECOND)),
                    r.ClientAllocsReply, timeout_s=self.config.max_query_time_s + 30)
            except (RPCError, ConnectionError, OSError, asyncio.TimeoutError) as e:
                log.warning("watching allocations failed: %s", e)
                await self.clock.sleep(self.config.retry_interval(5.0))
                continue
            if reply.Index <= index and index:
                continue
            try:
                await self._reconcile(reply.Allocs)
            except (RPCError, ConnectionError, OSError, asyncio.TimeoutError) as e:
                log.warning("pulling allocations failed: %s", e)
                await self.clock.sleep(self.config.retry_interval(5.0))
                continue
            index = reply.Index

    async def _reconcile(self, server_allocs: dict[str, int]) -> None:
        """Start, update and garbage-collect runners to match the server's list."""
        for alloc_id in [a for a in self.runners if a not in server_allocs]:
            self._collect(alloc_id)
        for alloc_id in [a for a in self._seen_index if a not in server_allocs]:
            self._seen_index.pop(alloc_id, None)
        pull = [a for a, mi in server_allocs.items()
                if a not in self._seen_index or mi > self._seen_index[a]]
        if not pull:
            return
        reply = await self.rpc.call(r.ALLOC_GET_ALLOCS, r.GetAllocsArgs(AllocIDs=pull),
                                    r.AllocsReply)
        for alloc in reply.allocations():
            self._apply(alloc)

    def _apply(self, alloc: Allocation) -> None:
        self._seen_index[alloc.ID] = alloc.AllocModifyIndex
        runner = self.runners.get(alloc.ID)
        if runner is not None:
            runner.update(alloc)
            return
        if alloc.terminal():
            return   # never ran here and already stopped: nothing to do
        if not alloc.NodeID:
            alloc.NodeID = self.node_id
        runner = self._new_runner(alloc)
        runner.start()
        self._dirty.add(alloc.ID)

    def _collect(self, alloc_id: str) -> None:
        """The server forgot the alloc: stop it and delete its directory and state."""
        runner = self.runners.pop(alloc_id)
        self._dirty.discard(alloc_id)
        task = asyncio.ensure_future(runner.destroy())
        self._gc.add(task)
        task.add_done_callback(self._gc.discard)

    # -- status sync --------------------------------------------------------------------
    async def _sync_loop(self) -> None:
        while True:
            await self.clock.sleep(self.config.alloc_sync_interval_s)
            if not self._dirty or not self.registered:
                continue
            try:
                await self._sync_once()
            except (RPCError, ConnectionError, OSError, asyncio.TimeoutError) as e:
                log.warning("alloc status update failed: %s", e)
                await self.clock.sleep(self.config.retry_interval(self.config.alloc_sync_retry_s))

    async def _sync_once(self) -> None:
        batch = set(self._dirty)
        self._dirty.clear()
        updates = []
        for alloc_id in sorted(batch):
            runner = self.runners.get(alloc_id)
            if runner is not None:
                upd = runner.client_alloc()
                upd.NodeID = upd.NodeID or self.node_id
                updates.append(upd)
        if not updates:
            return
        try:
            await self.rpc.call(r.NODE_UPDATE_ALLOC, r.UpdateAllocArgs(Alloc=updates),
                                r.IndexReply)
        except BaseException:
            self._dirty |= {a for a in batch if a in self.runners}
            raise
