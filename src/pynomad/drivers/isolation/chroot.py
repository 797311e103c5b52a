"""The chroot of an isolated task: which host paths appear inside its task directory.

`chroot_env` maps host paths to paths inside the task's root (Nomad's client
`chroot_env`, `DEFAULT_CHROOT_ENV` when unset). Instead of hard-linking every file
into each task directory, every entry is bind-mounted read-only at its destination
inside the task's own mount namespace: starting a task costs a few mounts instead of
one link per file (the default list is ~150k files here), the host's files cannot be
modified through the chroot, and nothing needs deleting when the task directory is
garbage collected. Missing sources are skipped, as Nomad does.

`plan` is pure: it takes a `probe(path) -> (kind, resolved)` so tests need no host.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import Callable

DEFAULT_CHROOT_ENV = {
    "/bin": "/bin", "/etc": "/etc", "/lib": "/lib", "/lib32": "/lib32", "/lib64": "/lib64",
    "/run/resolvconf": "/run/resolvconf", "/sbin": "/sbin", "/usr": "/usr",
    "/run/systemd/resolve": "/run/systemd/resolve",
}

# Paths the container setup owns; chroot entries may not cover them.
RESERVED = ("/", "/alloc", "/local", "/secrets", "/tmp", "/private", "/proc", "/dev", "/sys")


@dataclass(frozen=True)
class Bind:
    """Mount `source` (a host path, symlinks resolved) at `target` inside the root."""

    source: str
    target: str
    is_dir: bool = True
    read_only: bool = True
    recursive: bool = True
    propagation: str = "private"

    def to_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "is_dir": self.is_dir,
                "read_only": self.read_only, "recursive": self.recursive,
                "propagation": self.propagation}

    @classmethod
    def from_dict(cls, d: dict) -> "Bind":
        return cls(source=str(d["source"]), target=str(d["target"]),
                   is_dir=bool(d.get("is_dir", True)), read_only=bool(d.get("read_only", True)),
                   recursive=bool(d.get("recursive", True)),
                   propagation=str(d.get("propagation") or "private"))


Probe = Callable[[str], tuple[str, str]]   # path → ("dir" | "file" | "", resolved path)


def host_probe(path: str) -> tuple[str, str]:
    """What `path` is on this host, following symlinks."""
    resolved = os.path.realpath(path)
    if os.path.isdir(resolved):
        return "dir", resolved
    if os.path.exists(resolved):
        return "file", resolved
    return "", resolved


def clean_target(target: str) -> str:
    """An absolute, normalized path inside the root ("usr/" → "/usr", "../x" → "/x":
    nothing climbs out of it)."""
    if not target or "\x00" in target:
        raise ValueError(f"invalid chroot destination {target!r}")
    return posixpath.normpath("/" + target.lstrip("/"))


def _under(path: str, parent: str) -> bool:
    return parent == "/" or path == parent or path.startswith(parent + "/")


def plan(chroot_env: dict[str, str] | None = None, probe: Probe = host_probe) -> list[Bind]:
    """The read-only binds making up the chroot, parents before children.

    An entry nested inside an earlier one is kept only if its mount point exists in
    the earlier entry's source (nothing is ever created on the host); an entry whose
    destination is one the container reserves (`/proc`, `/alloc`, ...) is an error.
    """
    env = DEFAULT_CHROOT_ENV if chroot_env is None else chroot_env
    entries = sorted(((clean_target(dst), src) for src, dst in env.items()),
                     key=lambda e: (e[0].count("/"), e[0]))
    binds: list[Bind] = []
    for target, source in entries:
        if any(_under(target, r) for r in RESERVED if r != "/") or target == "/":
            raise ValueError(f"chroot_env destination {target} is reserved for the task")
        kind, resolved = probe(source)
        if not kind:
            continue
        parent = next((b for b in reversed(binds) if _under(target, b.target)), None)
        if parent is not None:
            inner = posixpath.join(parent.source, posixpath.relpath(target, parent.target))
            if probe(inner)[0] != kind:
                continue
        binds.append(Bind(source=resolved, target=target, is_dir=kind == "dir"))
    return binds


def mountpoints(binds: list[Bind]) -> list[tuple[str, bool]]:
    """(target, is_dir) to create in the task directory before mounting: the binds
    that are not nested in another bind (those already exist in their parent)."""
    out = []
    for i, b in enumerate(binds):
        if not any(_under(b.target, p.target) for p in binds[:i]):
            out.append((b.target, b.is_dir))
    return out


def host_path(root: str, binds: list[Bind], inside: str) -> str:
    """Where path `inside` (absolute, as the task sees it) lives on the host: under the
    deepest bind covering it, else under `root` (the task directory)."""
    inside = posixpath.normpath("/" + inside.lstrip("/"))
    for b in sorted(binds, key=lambda b: -b.target.count("/")):
        if _under(inside, b.target):
            rel = posixpath.relpath(inside, b.target)
            return b.source if rel == "." else posixpath.join(b.source, rel)
    return posixpath.join(root, inside.lstrip("/"))


def _is_file(path: str) -> bool:
    return os.path.isfile(path)


RESTRICTED_PATH = ("/usr/local/bin", "/usr/bin", "/bin")


def lookup_task_bin(command: str, root: str, binds: list[Bind],
                    is_file: Callable[[str], bool] = _is_file) -> tuple[str, str]:
    """Nomad's `lookupTaskBin`: (path inside the task, path on the host) of `command`,
    searched in the task's `local/`, the task directory, the mounts (`binds`: chroot
    entries and volumes, in order) and, for a bare name, `/usr/local/bin`, `/usr/bin`
    and `/bin` inside the chroot. ValueError if it is nowhere."""
    if not command:
        raise ValueError("missing command in task config")
    candidates = [posixpath.join("/local", command.lstrip("/")),
                  posixpath.normpath("/" + command.lstrip("/"))]
    if "/" not in command:
        candidates += [posixpath.join(d, command) for d in RESTRICTED_PATH]
    for inside in candidates:
        inside = posixpath.normpath(inside)
        if ".." in inside.split("/"):
            continue
        found = host_path(root, binds, inside)
        if is_file(found):
            return inside, found
    raise ValueError(f"file {command} not found under path {root}")


def resolv_conf(servers: list[str], searches: list[str], options: list[str],
                host_text: str = "") -> str:
    """Nomad's GenerateDNSMount content: the group's `dns` values, the host's
    resolv.conf for those not given (all of it when none are)."""
    if not (servers or searches or options):
        return host_text
    host: dict[str, list[str]] = {"nameserver": [], "search": [], "options": []}
    for line in host_text.splitlines():
        fields = line.split()
        if fields and fields[0] in host:
            host[fields[0]] += fields[1:2] if fields[0] == "nameserver" else fields[1:]
    lines = [f"nameserver {s}" for s in servers or host["nameserver"]]
    if searches or host["search"]:
        lines.append("search " + " ".join(searches or host["search"]))
    if options or host["options"]:
        lines.append("options " + " ".join(options or host["options"]))
    return "\n".join(lines) + "\n"
