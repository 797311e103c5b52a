"""The agent side of isolated drivers: what `exec` and `java` share.

An `IsolatedDriver` is a `raw_exec` driver whose executor starts the task through
`launch.launch` (namespaces, chroot, cgroup, user, capabilities): the executor still
survives the agent, writes the logs and the exit status (with an OOM kill), and a new
agent re-attaches to it through the same handle. Subclasses only say which command
runs (`command_line`). `nomad alloc exec` runs `enter.py`, which joins the task's
cgroup, namespaces and root.

Plugin options (`plugin "exec" { config { ... } }`) are Nomad's: `default_pid_mode`,
`default_ipc_mode`, `no_pivot_root`, `allow_caps`. Task options shared by both drivers:
`pid_mode`, `ipc_mode`, `cap_add`, `cap_drop`, and, beyond Nomad's exec driver,
`cpu_hard_limit` / `cpu_cfs_period` as the docker driver has them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal as _signal
import stat
import sys
import time
from dataclasses import dataclass
from typing import Any

from pynomad.client.driver import DriverError, ExecOptions, ExitResult, TaskConfig, TaskHandle
from pynomad.drivers.raw_exec import process as proc
from pynomad.drivers.raw_exec.driver import MB, STATUS_AFTER_KILL_S, RawExecDriver
from pynomad.drivers.raw_exec.host_exec import resolve, run_streaming
from pynomad.structs import DriverInfo

from . import capabilities as caps_mod
from . import cgroups, chroot
from .stats import CpuSampler, task_usage
from .users import lookup, task_capabilities

HERE = os.path.dirname(os.path.abspath(__file__))
EXECUTOR_MAIN = os.path.join(HERE, "executor_main.py")
ENTER_MAIN = os.path.join(HERE, "enter.py")
MODES = ("private", "host")
DEFAULT_USER = "nobody"
PLUGIN_DEFAULTS: dict[str, Any] = {
    "default_pid_mode": "private", "default_ipc_mode": "private", "no_pivot_root": False,
    "allow_caps": list(caps_mod.NOMAD_DEFAULTS),
}


def validate_plugin_config(conf: dict[str, Any]) -> dict[str, Any]:
    """Nomad's checks of the plugin block; ValueError with its message."""
    out = {**PLUGIN_DEFAULTS, **(conf or {})}
    for key in ("default_pid_mode", "default_ipc_mode"):
        if out[key] not in MODES:
            raise ValueError(f'{key} must be "private" or "host", got "{out[key]}"')
    if isinstance(out["allow_caps"], str):
        out["allow_caps"] = [c.strip() for c in out["allow_caps"].split(",") if c.strip()]
    bad = caps_mod.unsupported(out["allow_caps"])
    if bad:
        raise ValueError("allow_caps configured with capabilities not supported by system: "
                         + ", ".join(bad))
    out["no_pivot_root"] = bool(out["no_pivot_root"])
    return out


def _strings(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise DriverError(f"failed driver config validation: {what} must be a list")
    return [str(v) for v in value]


@dataclass
class IsolationOptions:
    """The task config options every isolated driver accepts, validated."""

    pid_mode: str = ""
    ipc_mode: str = ""
    cap_add: list[str] | None = None
    cap_drop: list[str] | None = None
    cpu_hard_limit: bool = False
    cpu_cfs_period: int = cgroups.DEFAULT_CFS_PERIOD_US

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "IsolationOptions":
        opts = cls(pid_mode=str(config.get("pid_mode") or ""),
                   ipc_mode=str(config.get("ipc_mode") or ""),
                   cap_add=_strings(config.get("cap_add"), "cap_add"),
                   cap_drop=_strings(config.get("cap_drop"), "cap_drop"),
                   cpu_hard_limit=bool(config.get("cpu_hard_limit", False)))
        try:
            opts.cpu_cfs_period = int(config.get("cpu_cfs_period")
                                      or cgroups.DEFAULT_CFS_PERIOD_US)
        except (TypeError, ValueError):
            raise DriverError("failed driver config validation: cpu_cfs_period must be "
                              "a number") from None
        for key in ("pid_mode", "ipc_mode"):
            value = getattr(opts, key)
            if value not in ("", *MODES):
                raise DriverError(f'failed driver config validation: {key} must be '
                                  f'"private" or "host", got "{value}"')
        for key in ("cap_add", "cap_drop"):
            bad = caps_mod.unsupported(getattr(opts, key))
            if bad:
                raise DriverError(f"failed driver config validation: {key} configured with "
                                  "capabilities not supported by system: " + ", ".join(bad))
        return opts


def _volume_binds(cfg: TaskConfig) -> list[chroot.Bind]:
    out = []
    for m in getattr(cfg, "mounts", None) or []:
        try:
            target = chroot.clean_target(m.task_path)
        except ValueError as e:
            raise DriverError(str(e)) from None
        kind, resolved = chroot.host_probe(m.host_path)
        if not kind:
            raise DriverError(f"mount source {m.host_path} does not exist")
        out.append(chroot.Bind(source=resolved, target=target, is_dir=kind == "dir",
                               read_only=bool(m.readonly),
                               propagation=m.propagation_mode or "private"))
    return out


def _dns_bind(cfg: TaskConfig) -> list[chroot.Bind]:
    """The group's `dns` block as the task's /etc/resolv.conf (a file in the task dir)."""
    dns = getattr(cfg, "dns", None)
    if dns is None:
        return []
    try:
        with open("/etc/resolv.conf", encoding="utf-8") as f:
            host_text = f.read()
    except OSError:
        host_text = ""
    path = os.path.join(cfg.task_dir, "resolv.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(chroot.resolv_conf(list(dns.servers or []), list(dns.searches or []),
                                   list(dns.options or []), host_text))
    return [chroot.Bind(source=path, target="/etc/resolv.conf", is_dir=False)]


def _devices(cfg: TaskConfig) -> tuple[list[chroot.Bind], list[str]]:
    """Binds of the task's devices into its /dev and their device cgroup rules."""
    binds, rules = [], []
    for dev in getattr(cfg, "devices", None) or []:
        try:
            st = os.stat(dev.host_path)
        except OSError as e:
            raise DriverError(f"failed to make device out for {dev.host_path}: {e}") from None
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
            kind = "c" if stat.S_ISCHR(st.st_mode) else "b"
        else:
            raise DriverError(f"{dev.host_path} is not a device")
        target = chroot.clean_target(dev.task_path or dev.host_path)
        if not target.startswith("/dev/"):
            raise DriverError(f"device path {target} is not under /dev")
        binds.append(chroot.Bind(source=dev.host_path, target=target, is_dir=False,
                                 read_only=False, recursive=False))
        rules.append(cgroups.device_rule(kind, os.major(st.st_rdev), os.minor(st.st_rdev),
                                         getattr(dev, "permissions", "rwm")))
    return binds, rules


class IsolatedDriver(RawExecDriver):
    """Base of `exec` and `java`: subclasses implement `command_line`."""

    name = ""
    executor_path = EXECUTOR_MAIN
    fs_isolation = "chroot"
    config_spec = PLUGIN_DEFAULTS

    def __init__(self, chroot_env: dict[str, str] | None = None,
                 cgroup_parent: str = cgroups.DEFAULT_PARENT, python: str = sys.executable):
        super().__init__(enabled=True, python=python)
        self.chroot_env = chroot_env
        self.cgroup_parent = cgroup_parent or cgroups.DEFAULT_PARENT
        self.plugin_config = dict(PLUGIN_DEFAULTS)
        self._samplers: dict[str, CpuSampler] = {}

    # -- configuration --------------------------------------------------------------
    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        try:
            return validate_plugin_config(config)
        except ValueError as e:
            raise _config_error(f'plugin "{self.name}": {e}') from None

    def set_config(self, raw: dict[str, Any] | None) -> None:
        self.plugin_config = self.validate_config(raw or {})

    def capabilities(self):
        from pynomad.client import driver as d
        if not hasattr(d, "Capabilities"):
            return None
        return d.Capabilities(send_signals=True, exec=True, fs_isolation="chroot",
                              network_isolation_modes=["host", "group"], mount_configs="all")

    # -- fingerprint ----------------------------------------------------------------
    def isolation_status(self) -> tuple[bool, bool, str]:
        """(detected, healthy, description) of the isolation this host offers."""
        if not sys.platform.startswith("linux"):
            return False, False, f"{self.name} driver unsupported on client OS"
        if os.geteuid() != 0:
            return False, False, "Driver must run as root"
        ok, why = cgroups.available()
        if not ok:
            return True, False, why
        return True, True, "Healthy"

    def fingerprint(self) -> DriverInfo:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        detected, healthy, desc = self.isolation_status()
        attrs = {f"driver.{self.name}": "1"} if detected and healthy else None
        return DriverInfo(Attributes=attrs, Detected=detected, Healthy=healthy,
                          HealthDescription=desc, UpdateTime=now)

    # -- start ----------------------------------------------------------------------
    def command_line(self, cfg: TaskConfig, root_binds: list[chroot.Bind]) -> list[str]:
        """[path inside the task, *args] of what the task runs."""
        raise NotImplementedError

    def _cgroup(self, cfg: TaskConfig) -> cgroups.Cgroup:
        return cgroups.Cgroup.for_task(
            cgroups.task_path(self.cgroup_parent, cfg.alloc_id, cfg.task_name))

    def _spec(self, cfg: TaskConfig) -> dict[str, Any]:
        opts = IsolationOptions.from_config(cfg.config)
        pc = self.plugin_config
        try:
            computed = caps_mod.calculate(pc["allow_caps"], opts.cap_add, opts.cap_drop)
            binds = chroot.plan(self.chroot_env)
        except ValueError as e:
            raise DriverError(str(e)) from None
        volumes = _volume_binds(cfg) + _dns_bind(cfg)
        devices, device_rules = _devices(cfg)
        argv = self.command_line(cfg, binds + volumes)
        try:
            creds = lookup(cfg.user or DEFAULT_USER)
        except OSError as e:
            raise DriverError(str(e)) from None
        limits = cgroups.limits_for(cfg.cpu, cfg.memory_mb, cfg.memory_max_mb,
                                    opts.cpu_hard_limit, _total_compute(), os.cpu_count() or 1,
                                    opts.cpu_cfs_period)
        isolation = {
            "root": cfg.task_dir, "alloc_dir": cfg.alloc_dir,
            "chroot": [b.to_dict() for b in binds], "volumes": [v.to_dict() for v in volumes],
            "pid_mode": opts.pid_mode or pc["default_pid_mode"],
            "ipc_mode": opts.ipc_mode or pc["default_ipc_mode"],
            "no_pivot_root": pc["no_pivot_root"], "cgroup": self._cgroup(cfg).paths,
            "limits": limits.__dict__, "credentials": creds.to_dict(),
            "caps": task_capabilities(creds, computed),
            "netns": getattr(getattr(cfg, "network", None), "path", "") or "",
            "devices": [d.to_dict() for d in devices], "device_rules": device_rules,
        }
        return {
            "command": argv[0], "args": argv[1:], "env": cfg.env, "cwd": "/",
            "stdout": cfg.stdout_path, "stderr": cfg.stderr_path,
            "logs_disabled": cfg.logs_disabled, "max_files": cfg.log_max_files,
            "max_file_size": cfg.log_max_file_size_mb * MB,
            "status_path": os.path.join(cfg.task_dir, "executor.status"),
            "executor_log": os.path.join(cfg.task_dir, "executor.out"),
            "isolation": isolation,
        }

    async def start(self, cfg: TaskConfig) -> TaskHandle:
        handle = await super().start(cfg)
        with open(handle.state["spec_path"], encoding="utf-8") as f:
            iso = json.load(f)["isolation"]
        enter = {"pid": handle.state["task_pid"], "cgroup": iso["cgroup"],
                 "credentials": iso["credentials"], "caps": iso["caps"], "env": cfg.env,
                 "cwd": "/"}
        enter_path = os.path.join(cfg.task_dir, "enter.json")
        fd = os.open(enter_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(enter, f)
        handle.state.update({"cgroup": iso["cgroup"], "enter_path": enter_path})
        return handle

    def _handle_cgroup(self, handle: TaskHandle) -> cgroups.Cgroup:
        return cgroups.Cgroup(handle.state.get("cgroup") or {})

    async def _orphaned(self, handle: TaskHandle) -> ExitResult:
        cg = self._handle_cgroup(handle)
        oom = cg.oom_killed()
        await asyncio.to_thread(cg.destroy)
        return ExitResult(exit_code=-1, err="executor exited unexpectedly", oom_killed=oom)

    # -- control --------------------------------------------------------------------
    async def stop(self, handle: TaskHandle, kill_timeout_s: float, signal_name: str) -> None:
        """As libcontainer: `signal_name` to the task's init, then SIGKILL to everything
        in its cgroup once `kill_timeout_s` passed."""
        if self._status(handle) is not None:
            return
        try:
            sig = proc.signal_number(signal_name or "SIGINT")
        except ValueError as e:
            raise DriverError(str(e)) from e
        if kill_timeout_s > 0 and self._task_alive(handle):
            try:
                os.kill(handle.state["task_pid"], sig)
            except ProcessLookupError:
                pass
            if await self._wait_status(handle, kill_timeout_s):
                return
        await asyncio.to_thread(self._handle_cgroup(handle).signal_all, _signal.SIGKILL)
        if self._task_alive(handle):
            proc.kill_group(handle.state["task_pid"], _signal.SIGKILL)
        await self._wait_status(handle, STATUS_AFTER_KILL_S)

    async def exec_streaming(self, handle: TaskHandle, opts: ExecOptions) -> ExitResult:
        if self._status(handle) is not None or not self._task_alive(handle):
            raise DriverError("task is not running")
        if not opts.command:
            raise DriverError("command is not present")
        pid = handle.state["task_pid"]
        resolve(opts.command[0], "/", handle.config.env, root=f"/proc/{pid}/root")
        argv = [self.python, "-I", "-S", ENTER_MAIN, handle.state["enter_path"], "--",
                *opts.command]
        return await run_streaming(argv, opts, cwd=handle.config.task_dir, env={})

    async def stats(self, handle: TaskHandle) -> dict[str, Any] | None:
        if "cgroup" not in handle.state:    # not isolated (java off Linux)
            base = getattr(super(), "stats", None)
            return await base(handle) if base is not None else None
        if self._status(handle) is not None:
            return None
        cg = self._handle_cgroup(handle)
        sampler = self._samplers.setdefault(handle.config.id, CpuSampler())
        if sampler.empty():
            sampler.sample(await asyncio.to_thread(cg.cpu_usage), time.monotonic_ns())
            await asyncio.sleep(0.1)
        return await asyncio.to_thread(task_usage, cg, sampler, _mhz_per_core())

    async def destroy(self, handle: TaskHandle) -> None:
        self._samplers.pop(handle.config.id, None)
        cg = self._handle_cgroup(handle)
        if cg.exists():
            await asyncio.to_thread(cg.destroy)


def _config_error(msg: str) -> Exception:
    from pynomad.client import driver as d
    return getattr(d, "PluginConfigError", ValueError)(msg)


def _mhz_per_core() -> float:
    try:
        import psutil
        freq = psutil.cpu_freq()
        return float(freq.max or freq.current) if freq else 1000.0
    except Exception:  # noqa: BLE001 - no frequency: use Nomad's fallback
        return 1000.0


def _total_compute() -> int:
    return int(_mhz_per_core() * (os.cpu_count() or 1))


__all__ = ["IsolatedDriver", "IsolationOptions", "validate_plugin_config"]
