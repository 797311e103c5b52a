"""/v1/client/stats and /v1/client/allocation/:id/{stats,restart,signal}: host and task
resource usage, and acting on a running allocation."""

from __future__ import annotations

import time

import psutil
from aiohttp import web

from ...client.driver import DriverError
from ...server.errors import BadRequest, NotFound
from ..common import AGENT, decode_body, reply

MEASURED_MEM = ["RSS", "Swap"]
MEASURED_CPU = ["System Mode", "User Mode", "Percent"]


def setup(app: web.Application, r: web.RouteTableDef) -> None:
    @r.get("/v1/client/allocation/{alloc}/stats")
    async def alloc_stats(request):
        client = request.app[AGENT].client
        runner = client.alloc_runner(request.match_info["alloc"]) if client else None
        if runner is None:
            raise NotFound("Unknown allocation")
        tasks = {name: _task_usage(tr.handle.state if tr.handle else {})
                 for name, tr in runner.tasks.items()}
        return reply(request, {"ResourceUsage": _sum([t["ResourceUsage"] for t in tasks.values()]),
                               "Tasks": tasks, "Timestamp": time.time_ns()})

    @r.route("PUT", "/v1/client/allocation/{alloc}/restart")
    @r.post("/v1/client/allocation/{alloc}/restart")
    async def alloc_restart(request):
        runner, body = await _runner_and_body(request)
        task = None if body.get("AllTasks") else (body.get("TaskName") or None)
        await _act(runner.restart(task))
        return reply(request, {})

    @r.route("PUT", "/v1/client/allocation/{alloc}/signal")
    @r.post("/v1/client/allocation/{alloc}/signal")
    async def alloc_signal(request):
        runner, body = await _runner_and_body(request)
        await _act(runner.signal(body.get("Signal") or "SIGKILL", body.get("Task") or None))
        return reply(request, {})

    @r.get("/v1/client/stats")
    async def host_stats(request):
        if request.app[AGENT].client is None:
            raise NotFound("Nomad client is not enabled on this agent")
        return reply(request, _host_stats())


async def _runner_and_body(request):
    client = request.app[AGENT].client
    runner = client.alloc_runner(request.match_info["alloc"]) if client else None
    if runner is None:
        raise NotFound("Unknown allocation")
    raw = await request.read()
    body = await decode_body(request, dict) if raw.strip() else {}
    return runner, body


async def _act(action) -> None:
    """Run a restart/signal; unknown tasks and tasks that are not running are 400s."""
    try:
        await action
    except KeyError as err:
        raise BadRequest(str(err).strip("'\"")) from None
    except DriverError as err:
        raise BadRequest(str(err)) from None


def _task_usage(handle_state: dict) -> dict:
    rss = swap = 0
    system = user = percent = 0.0
    pid = handle_state.get("task_pid") if isinstance(handle_state, dict) else None
    procs = []
    if pid:
        try:
            root = psutil.Process(pid)
            procs = [root] + root.children(recursive=True)
        except psutil.Error:
            procs = []
    for p in procs:
        try:
            with p.oneshot():
                mem, cpu = p.memory_info(), p.cpu_times()
                rss += mem.rss
                system += cpu.system
                user += cpu.user
                percent += p.cpu_percent(interval=None)
        except psutil.Error:
            continue
    usage = {"MemoryStats": {"RSS": rss, "Cache": 0, "Swap": swap, "Usage": rss, "MaxUsage": 0,
                             "KernelUsage": 0, "KernelMaxUsage": 0,
                             "Measured": MEASURED_MEM if procs else []},
             "CpuStats": {"SystemMode": system, "UserMode": user, "TotalTicks": system + user,
                          "ThrottledPeriods": 0, "ThrottledTime": 0, "Percent": percent,
                          "Measured": MEASURED_CPU if procs else []},
             "DeviceStats": None}
    return {"ResourceUsage": usage, "Timestamp": time.time_ns(),
            "Pids": {str(p.pid): None for p in procs} or None}


def _sum(usages: list[dict]) -> dict:
    total = {"MemoryStats": {"RSS": 0, "Cache": 0, "Swap": 0, "Usage": 0, "MaxUsage": 0,
                             "KernelUsage": 0, "KernelMaxUsage": 0, "Measured": MEASURED_MEM},
             "CpuStats": {"SystemMode": 0.0, "UserMode": 0.0, "TotalTicks": 0.0,
                          "ThrottledPeriods": 0, "ThrottledTime": 0, "Percent": 0.0,
                          "Measured": MEASURED_CPU},
             "DeviceStats": None}
    for u in usages:
        for section in ("MemoryStats", "CpuStats"):
            for key, value in u[section].items():
                if key != "Measured":
                    total[section][key] += value
    return total


def _host_stats() -> dict:
    vm = psutil.virtual_memory()
    cpus = psutil.cpu_times_percent(interval=None, percpu=True)
    disk = psutil.disk_usage("/")
    return {"Memory": {"Total": vm.total, "Available": vm.available, "Used": vm.used,
                       "Free": vm.free},
            "CPU": [{"CPU": f"cpu{i}", "User": c.user, "System": c.system, "Idle": c.idle,
                     "Total": 100.0 - c.idle} for i, c in enumerate(cpus)],
            "DiskStats": [{"Device": "/", "Mountpoint": "/", "Size": disk.total,
                           "Used": disk.used, "Available": disk.free,
                           "UsedPercent": disk.percent, "InodesUsedPercent": 0.0}],
            "AllocDirStats": None, "Uptime": int(time.time() - psutil.boot_time()),
            "Timestamp": time.time_ns(), "CPUTicksConsumed": 0.0}
