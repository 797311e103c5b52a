"""Run a command inside a running isolated task (`nomad alloc exec` for exec/java).

`python -I -S enter.py SPEC.json -- COMMAND [ARGS...]`: joins the task's cgroup, enters
its namespaces (those that differ from ours: ipc, uts, net, pid, mnt) and its root,
then forks; the child drops to the task's user and capabilities and `execvpe`s the
command with the task's environment (PATH resolved inside the chroot). The parent
waits and exits with the child's status (128+n for a signal). stdin/stdout/stderr are
inherited, so a pseudo-terminal given by the agent reaches the command.
"""

from __future__ import annotations

import json
import os
import signal
import sys

NAMESPACES = (("ipc", 0x08000000), ("uts", 0x04000000), ("net", 0x40000000),
              ("pid", 0x20000000), ("mnt", 0x00020000))
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH)


def _fail(msg: str) -> int:
    os.write(2, (msg.rstrip() + "\n").encode(errors="replace"))
    return 126


def _enter(spec: dict) -> None:
    from pynomad.drivers.isolation import linux as L   # imported before the root changes

    pid = int(spec["pid"])
    for path in (spec.get("cgroup") or {}).values():
        with open(os.path.join(path, "cgroup.procs"), "w", encoding="ascii") as f:
            f.write(str(os.getpid()))
    fds = []
    for name, flag in NAMESPACES:
        theirs = f"/proc/{pid}/ns/{name}"
        try:
            if os.stat(theirs).st_ino == os.stat(f"/proc/self/ns/{name}").st_ino:
                continue
        except FileNotFoundError:
            continue
        fds.append((os.open(theirs, os.O_RDONLY | os.O_CLOEXEC), flag))
    root = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    for fd, flag in fds:
        L.setns(fd, flag)
        os.close(fd)
    os.fchdir(root)
    os.chroot(".")
    os.close(root)
    os.chdir("/")


def _exec_child(spec: dict, argv: list[str]) -> None:
    from pynomad.drivers.isolation.users import Credentials, become

    try:
        become(Credentials.from_dict(spec["credentials"]), list(spec.get("caps") or []))
        os.chdir(spec.get("cwd") or "/")
        env = dict(spec.get("env") or {})
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        os._exit(_fail(f'exec: "{argv[0]}": executable file not found in $PATH') + 1)
    except OSError as e:
        os._exit(_fail(f"exec: {argv[0]!r}: {e}"))


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        return _fail("usage: enter.py SPEC.json -- COMMAND [ARGS...]")
    with open(argv[0], encoding="utf-8") as f:
        spec = json.load(f)
    from pynomad.drivers.isolation import users  # noqa: F401 - load before entering the root

    try:
        _enter(spec)
    except OSError as e:
        return _fail(f"failed to enter the task: {e}")
    child = os.fork()
    if child == 0:
        _exec_child(spec, argv[2:])
    for sig in FORWARDED:
        signal.signal(sig, lambda s, _f: os.kill(child, s))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.dirname(os.path.abspath(__file__))))))
    sys.exit(main(sys.argv[1:]))
