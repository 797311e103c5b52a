"""Start a task in its own namespaces, cgroup and chroot (runs in the executor).

`launch(spec, out_w, err_w)` is the executor's launcher for isolated tasks. It
creates the task's cgroup, `unshare`s a pid namespace (so the next child is pid 1 of
it) and forks. The child, in new mount/uts/ipc namespaces, waits until the parent has
moved it into the cgroup, builds its root (container.build_root), enters it, drops to
the task's user and capabilities and `execve`s the command. Setup errors travel back
over a close-on-exec pipe: EOF without a message means the command is running.

The returned `IsolatedProcess` looks like a `subprocess.Popen` to the executor, and
its `finish()` reports an OOM kill and removes the cgroup once the task is gone. The
executor must not fork again after `launch` (its next child would join the task's pid
namespace), and it does not.
"""

from __future__ import annotations

import os
import signal as _signal
import traceback

from . import linux as L
from .cgroups import Cgroup, Limits
from .chroot import Bind
from .container import build_root, enter_root
from .users import Credentials, become

OOM_KILLED = "OOM Killed"
ERR_LIMIT = 4096


class IsolatedProcess:
    """The task's pid 1 (host pid `pid`), as the executor sees it."""

    def __init__(self, pid: int, cgroup: Cgroup):
        self.pid = pid
        self.cgroup = cgroup
        self.returncode: int | None = None

    def _reaped(self, status: int) -> int:
        self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -1
                return self.returncode
            if pid:
                return self._reaped(status)
        return self.returncode

    def wait(self) -> int:
        while self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                return self._reaped(status)
            except ChildProcessError:
                self.returncode = -1
            except InterruptedError:
                continue
        return self.returncode

    def finish(self) -> dict:
        """After the task exited: was it OOM killed? Then remove its cgroup."""
        oom = self.cgroup.oom_killed()
        self.cgroup.destroy()
        return {"oom_killed": True, "err": OOM_KILLED} if oom else {}


def _child(iso: dict, argv: list[str], env: dict[str, str], creds: Credentials,
           go_r: int, err_w: int, out_w: int, errf_w: int) -> None:
    """Everything between fork and execve; never returns."""
    try:
        os.setsid()
        os.dup2(out_w, 1)
        os.dup2(errf_w, 2)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        if os.read(go_r, 1) != b"1":
            raise OSError("the executor did not place the task in its cgroup")
        if iso.get("netns"):    # the allocation's network namespace (group networking)
            fd = os.open(iso["netns"], os.O_RDONLY | os.O_CLOEXEC)
            L.setns(fd, L.CLONE_NEWNET)
            os.close(fd)
        flags = L.CLONE_NEWNS | L.CLONE_NEWUTS
        if iso.get("ipc_mode", "private") == "private":
            flags |= L.CLONE_NEWIPC
        L.unshare(flags)
        if iso.get("hostname"):
            L.sethostname(iso["hostname"])
        with open("/proc/self/oom_score_adj", "w", encoding="ascii") as f:
            f.write("0")
        build_root(iso["root"], iso.get("alloc_dir", ""),
                   [Bind.from_dict(b) for b in iso.get("chroot") or []],
                   [Bind.from_dict(b) for b in iso.get("volumes") or []],
                   [Bind.from_dict(b) for b in iso.get("devices") or []])
        enter_root(iso["root"], bool(iso.get("no_pivot_root")))
        become(creds, list(iso.get("caps") or []))
        os.execve(argv[0], argv, env)
    except BaseException as e:  # noqa: BLE001 - report anything to the parent
        msg = str(e) if isinstance(e, OSError) else "".join(
            traceback.format_exception_only(type(e), e)).strip()
        try:
            os.write(err_w, msg.encode(errors="replace")[:ERR_LIMIT])
        finally:
            os._exit(127)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, ERR_LIMIT):
        chunks.append(chunk)
    return b"".join(chunks)


def launch(spec: dict, out_w: int, err_w: int) -> IsolatedProcess:
    """Start `spec["command"]` isolated as `spec["isolation"]` says; OSError on failure."""
    iso = spec["isolation"]
    argv = [spec["command"], *spec.get("args", [])]
    env = dict(spec.get("env") or {})
    creds = Credentials.from_dict(iso["credentials"])
    env.setdefault("USER", creds.name)
    env.setdefault("HOME", creds.home)
    cgroup = Cgroup(iso.get("cgroup") or {})
    cgroup.create(Limits(**(iso.get("limits") or {})), iso.get("device_rules") or ())
    go_r, go_w = os.pipe()
    msg_r, msg_w = os.pipe2(os.O_CLOEXEC)
    if iso.get("pid_mode", "private") == "private":
        L.unshare(L.CLONE_NEWPID)
    pid = os.fork()
    if pid == 0:
        os.close(go_w)
        os.close(msg_r)
        _child(iso, argv, env, creds, go_r, msg_w, out_w, err_w)
    os.close(go_r)
    os.close(msg_w)
    proc = IsolatedProcess(pid, cgroup)
    try:
        cgroup.join(pid)
        os.write(go_w, b"1")
    except OSError as e:
        _abort(proc)
        raise OSError(f"failed to place the task in its cgroup: {e}") from e
    finally:
        os.close(go_w)
    try:
        err = _read_all(msg_r)
    finally:
        os.close(msg_r)
    if err:
        _abort(proc)
        raise OSError(err.decode(errors="replace"))
    return proc


def _abort(proc: IsolatedProcess) -> None:
    try:
        os.kill(proc.pid, _signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()
    proc.cgroup.destroy()
