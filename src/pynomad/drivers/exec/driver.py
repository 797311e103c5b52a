"""The `exec` driver: a command isolated in its own namespaces, chroot and cgroup.

Task config as Nomad's: `command` (looked up in `local/`, the task directory, the
mounts and then `/usr/local/bin`, `/usr/bin`, `/bin` inside the chroot), `args`, plus
the isolation options of `IsolatedDriver` (`pid_mode`, `ipc_mode`, `cap_add`,
`cap_drop`, `cpu_hard_limit`). The task runs as `user` (default `nobody`).
"""

from __future__ import annotations

import os
import stat

from pynomad.client.driver import DriverError, TaskConfig
from pynomad.drivers.isolation import chroot
from pynomad.drivers.isolation.driver import IsolatedDriver
from pynomad.drivers.raw_exec.driver import _args


def _make_executable(path: str) -> None:
    """Nomad makes the task's binary executable (an artifact often is not)."""
    mode = os.stat(path).st_mode
    wanted = mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
    if wanted != mode:
        os.chmod(path, wanted)


class ExecDriver(IsolatedDriver):
    name = "exec"

    def command_line(self, cfg: TaskConfig, root_binds: list[chroot.Bind]) -> list[str]:
        command = str(cfg.config.get("command") or "")
        try:
            inside, host = chroot.lookup_task_bin(command, cfg.task_dir, root_binds)
        except ValueError as e:
            raise DriverError(str(e)) from None
        if host.startswith(cfg.task_dir.rstrip("/") + "/"):
            _make_executable(host)     # never touches the host's own files
        return [inside, *_args(cfg.config)]
