"""The `java` driver: runs a jar or a class on the host's JVM with exec's isolation.

Task config as Nomad's: `jar_path`, `class`, `class_path`, `jvm_options`, `args`, and
the isolation options (`pid_mode`, `ipc_mode`, `cap_add`, `cap_drop`). The command is
`java [jvm_options] [-cp class_path] [-jar jar_path] [class] [args]`, run from the task
directory (`/` inside the chroot, so `local/app.jar` works). On Linux the task is
isolated (root and cgroups required, as Nomad); elsewhere it runs as a plain process,
as Nomad's java driver does without libcontainer. Signals and `nomad alloc exec` work
as for exec tasks (Nomad's java driver implements both, though its capabilities table
says otherwise).

Fingerprint: `driver.java.version`, `driver.java.runtime` and `driver.java.vm` from
`java -version` (run once; the JVM on a host rarely changes under a running agent).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from typing import Any

import msgspec

from pynomad.client.driver import DriverError, ExecOptions, ExitResult, TaskConfig, TaskHandle
from pynomad.drivers.isolation import chroot
from pynomad.drivers.isolation.driver import IsolatedDriver, IsolationOptions
from pynomad.drivers.raw_exec.driver import RawExecDriver, _args
from pynomad.structs import DriverInfo

VERSION_TIMEOUT_S = 20.0
_VERSION_RE = re.compile(r"([.\d_]+)")


def parse_java_version(output: str) -> tuple[str, str, str]:
    """Nomad's parseJavaVersionOutput: (version, runtime, vm) from `java -version`."""
    lines = output.strip().splitlines()
    if lines and "Picked up _JAVA_OPTIONS" in lines[0]:
        lines = lines[1:]
    if len(lines) < 3:
        return "", "", ""
    version = lines[0].strip()
    match = _VERSION_RE.search(version)
    if match:
        version = match.group(1)
    return version, lines[1].strip(), lines[2].strip()


def java_args(config: dict[str, Any]) -> list[str]:
    """Nomad's javaCmdArgs."""
    out = [str(o) for o in config.get("jvm_options") or []]
    if config.get("class_path"):
        out += ["-cp", str(config["class_path"])]
    if config.get("jar_path"):
        out += ["-jar", str(config["jar_path"])]
    if config.get("class"):
        out.append(str(config["class"]))
    return out + _args(config)


def find_java() -> str:
    """The real path of `java` on PATH ("" when there is none)."""
    found = shutil.which("java")
    return os.path.realpath(found) if found else ""


class JavaDriver(IsolatedDriver):
    name = "java"

    def __init__(self, *args: Any, isolate: bool | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.isolate = sys.platform.startswith("linux") if isolate is None else isolate
        if not self.isolate:
            self.executor_path = RawExecDriver.executor_path
            self.fs_isolation = "none"
        self._version: tuple[str, str, str] | None = None

    def capabilities(self):
        caps = super().capabilities()
        if caps is not None and not self.isolate:
            caps.fs_isolation, caps.mount_configs = "none", "none"
        return caps

    # -- fingerprint ----------------------------------------------------------------
    def java_version(self) -> tuple[str, str, str]:
        if self._version is None:
            java = find_java()
            out = ""
            if java:
                try:
                    out = subprocess.run([java, "-version"], capture_output=True, text=True,
                                         timeout=VERSION_TIMEOUT_S).stderr
                except (OSError, subprocess.SubprocessError):
                    out = ""
            self._version = parse_java_version(out)
        return self._version

    def fingerprint(self) -> DriverInfo:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if self.isolate:
            detected, healthy, desc = self.isolation_status()
            if not (detected and healthy):
                return DriverInfo(Attributes=None, Detected=detected, Healthy=healthy,
                                  HealthDescription=desc, UpdateTime=now)
        version, runtime, vm = self.java_version()
        if not version:
            return DriverInfo(Attributes=None, Detected=False, Healthy=False,
                              HealthDescription="", UpdateTime=now)
        return DriverInfo(Attributes={"driver.java": "1", "driver.java.version": version,
                                      "driver.java.runtime": runtime, "driver.java.vm": vm},
                          Detected=True, Healthy=True, HealthDescription="Healthy",
                          UpdateTime=now)

    # -- start ----------------------------------------------------------------------
    def _java(self) -> str:
        java = find_java()
        if not java:
            raise DriverError('failed to find java binary: failed to resolve path to "java" '
                              'executable')
        return java

    def _check(self, cfg: TaskConfig) -> None:
        if not cfg.config.get("class") and not cfg.config.get("jar_path"):
            raise DriverError("jar_path or class must be specified")
        IsolationOptions.from_config(cfg.config)

    def command_line(self, cfg: TaskConfig, root_binds: list[chroot.Bind]) -> list[str]:
        self._check(cfg)
        java = self._java()
        if not os.path.isfile(chroot.host_path(cfg.task_dir, root_binds, java)):
            raise DriverError(f"java binary {java} is not inside the task's chroot")
        return [java, *java_args(cfg.config)]

    def _spec(self, cfg: TaskConfig) -> dict[str, Any]:
        if self.isolate:
            return super()._spec(cfg)
        self._check(cfg)
        plain = msgspec.structs.replace(
            cfg, config={"command": self._java(), "args": java_args(cfg.config)})
        return RawExecDriver._spec(self, plain)

    async def start(self, cfg: TaskConfig) -> TaskHandle:
        if self.isolate:
            return await super().start(cfg)
        return await RawExecDriver.start(self, cfg)

    async def stop(self, handle: TaskHandle, kill_timeout_s: float, signal_name: str) -> None:
        if self.isolate:
            return await super().stop(handle, kill_timeout_s, signal_name)
        return await RawExecDriver.stop(self, handle, kill_timeout_s, signal_name)

    async def exec_streaming(self, handle: TaskHandle, opts: ExecOptions) -> ExitResult:
        if self.isolate:
            return await super().exec_streaming(handle, opts)
        return await RawExecDriver.exec_streaming(self, handle, opts)
