"""Inside the new mount namespace: build the task's root and switch into it.

Runs in the forked child after `unshare`, before `execve` (stdlib only). The root is
the task directory; into it go the chroot binds (read-only), the allocation's shared
directory at `/alloc`, the task's host volumes at their destinations, and, as runc
sets up a container for Nomad's exec driver, `/proc`, a small `/dev` (tmpfs with the
standard device nodes, devpts, shm, mqueue), a read-only `/sys`, masked and read-only
kernel paths. Then `pivot_root` (or a plain `chroot` with `no_pivot_root`).
"""

from __future__ import annotations

import os
import stat

from . import linux as L
from .chroot import Bind

DEFAULT_FLAGS = L.MS_NOEXEC | L.MS_NOSUID | L.MS_NODEV
DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
           ("urandom", 1, 9), ("tty", 5, 0))
DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
             ("ptmx", "pts/ptmx"))
MASKED = ("/proc/kcore", "/sys/firmware")
READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus")
PROPAGATION = {"private": L.MS_PRIVATE, "": L.MS_PRIVATE, "host-to-task": L.MS_SLAVE,
               "bidirectional": L.MS_SHARED}


def _inside(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _ensure_mountpoint(root: str, target: str, is_dir: bool, covered: list[str]) -> str:
    """Host path of `target` under `root`, created if it lies outside every read-only
    bind (inside one it must already exist: the host is never written to)."""
    path = _inside(root, target)
    real = os.path.realpath(path)
    if not any(target == c or target.startswith(c.rstrip("/") + "/") for c in covered) \
            and real != root and not real.startswith(root.rstrip("/") + "/"):
        raise OSError(1, f"mount destination {target} leads out of the task directory")
    if os.path.lexists(path):
        return path
    if any(target == c or target.startswith(c.rstrip("/") + "/") for c in covered):
        raise OSError(2, f"mount destination {target} does not exist in the chroot")
    if is_dir:
        os.makedirs(path, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
    return path


def bind(source: str, path: str, read_only: bool, recursive: bool = True,
         propagation: str = "private") -> None:
    L.mount(source, path, None, L.MS_BIND | (L.MS_REC if recursive else 0))
    L.mount(None, path, None, PROPAGATION.get(propagation, L.MS_PRIVATE) | L.MS_REC)
    if read_only:
        try:
            L.make_readonly_recursive(path)
        except OSError:
            L.mount(None, path, None, L.MS_REMOUNT | L.MS_BIND | L.MS_RDONLY)


def _mount_dev(root: str) -> None:
    dev = _inside(root, "/dev")
    os.makedirs(dev, exist_ok=True)
    L.mount("tmpfs", dev, "tmpfs", L.MS_NOSUID | L.MS_STRICTATIME, "mode=755")
    for name, major, minor in DEVICES:
        path = os.path.join(dev, name)
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        os.chmod(path, 0o666)
    for sub, source, fstype, flags, data in (
            ("pts", "devpts", "devpts", L.MS_NOSUID | L.MS_NOEXEC,
             "newinstance,ptmxmode=0666,mode=0620,gid=5"),
            ("shm", "shm", "tmpfs", DEFAULT_FLAGS, "mode=1777,size=65536k"),
            ("mqueue", "mqueue", "mqueue", DEFAULT_FLAGS, None)):
        path = os.path.join(dev, sub)
        os.mkdir(path, 0o755)
        L.mount(source, path, fstype, flags, data)
    for name, target in DEV_LINKS:
        os.symlink(target, os.path.join(dev, name))


def _mount_kernel_fs(root: str) -> None:
    proc = _inside(root, "/proc")
    sys_ = _inside(root, "/sys")
    for path in (proc, sys_):
        os.makedirs(path, exist_ok=True)
    L.mount("proc", proc, "proc", DEFAULT_FLAGS)
    L.mount("sysfs", sys_, "sysfs", DEFAULT_FLAGS | L.MS_RDONLY)
    for path in READ_ONLY:
        full = _inside(root, path)
        if os.path.exists(full):
            L.mount(full, full, None, L.MS_BIND | L.MS_REC)
            L.mount(None, full, None, L.MS_REMOUNT | L.MS_BIND | L.MS_RDONLY)
    for path in MASKED:
        full = _inside(root, path)
        if os.path.isdir(full):
            L.mount("tmpfs", full, "tmpfs", L.MS_RDONLY)
        elif os.path.exists(full):
            L.mount(_inside(root, "/dev/null"), full, None, L.MS_BIND)


def build_root(root: str, alloc_dir: str, chroot: list[Bind], volumes: list[Bind],
               devices: list[Bind] = ()) -> None:
    """Mount everything the task sees under `root` (we are in a private mount ns);
    `devices` are host device nodes bound at their paths in the task's /dev."""
    L.mount(None, "/", None, L.MS_REC | L.MS_PRIVATE)
    L.mount(root, root, None, L.MS_BIND | L.MS_REC)   # pivot_root needs a mount point
    covered: list[str] = []
    for b in chroot:
        path = _ensure_mountpoint(root, b.target, b.is_dir, covered)
        bind(b.source, path, read_only=True)
        covered.append(b.target)
    if alloc_dir:
        bind(alloc_dir, _ensure_mountpoint(root, "/alloc", True, covered), read_only=False)
    for v in volumes:
        path = _ensure_mountpoint(root, v.target, v.is_dir, covered)
        bind(v.source, path, read_only=v.read_only, propagation=v.propagation)
    _mount_dev(root)
    for d in devices:
        path = _inside(root, d.target)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        if not os.path.lexists(path):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
        L.mount(d.source, path, None, L.MS_BIND)
    _mount_kernel_fs(root)


def enter_root(root: str, no_pivot_root: bool = False) -> None:
    """Make `root` the process's `/`: pivot_root with the old root stacked on the new
    one and then detached (runc's trick: no directory for it), or a plain chroot."""
    os.chdir(root)
    if no_pivot_root:
        os.chroot(".")
    else:
        L.pivot_root(".", ".")
        L.umount2(".", L.MNT_DETACH)
    os.chdir("/")
