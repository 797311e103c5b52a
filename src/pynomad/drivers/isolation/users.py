"""Who an isolated process runs as: the user's ids and its capability sets (stdlib only).

As Nomad's libcontainer executor: a task running as root keeps the legacy capability
set (bounding, permitted, effective); any other user gets exactly the task's computed
capabilities in its bounding, permitted, inheritable and ambient sets, so they survive
the `execve` of an unprivileged program.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass, field

from . import capabilities as C
from . import linux as L


@dataclass
class Credentials:
    name: str
    uid: int
    gid: int
    groups: list[int] = field(default_factory=list)
    home: str = "/"

    def to_dict(self) -> dict:
        return {"name": self.name, "uid": self.uid, "gid": self.gid, "groups": self.groups,
                "home": self.home}

    @classmethod
    def from_dict(cls, d: dict) -> "Credentials":
        return cls(name=str(d["name"]), uid=int(d["uid"]), gid=int(d["gid"]),
                   groups=[int(g) for g in d.get("groups") or []], home=str(d.get("home") or "/"))


def lookup(user: str) -> Credentials:
    """The user's ids from the host's passwd/group (the chroot shares the host's /etc)."""
    try:
        pw = pwd.getpwnam(user) if not user.isdigit() else pwd.getpwuid(int(user))
    except KeyError:
        raise OSError(f"user {user!r} not found") from None
    groups = os.getgrouplist(pw.pw_name, pw.pw_gid)
    return Credentials(name=pw.pw_name, uid=pw.pw_uid, gid=pw.pw_gid, groups=groups,
                       home=pw.pw_dir)


def task_capabilities(creds: Credentials, computed: list[str]) -> list[str]:
    """The capability names the process ends up with."""
    return C.upper(C.LEGACY) if creds.uid == 0 else list(computed)


def permitted_mask(status_path: str = "/proc/self/status") -> int:
    """Our own permitted capabilities (an agent in a container may lack some)."""
    try:
        with open(status_path, encoding="ascii") as f:
            for line in f:
                if line.startswith("CapPrm:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError, IndexError):
        pass
    return (1 << 64) - 1


def become(creds: Credentials, caps: list[str]) -> None:
    """Drop to `creds` keeping exactly `caps` (call as root, right before execve);
    capabilities the agent itself does not hold cannot be granted and are left out."""
    keep = C.mask(caps) & permitted_mask()
    last = max(C.NUMBERS[n] for n in C.supported())
    for number in range(last + 1):
        if not keep & (1 << number):
            L.prctl(L.PR_CAPBSET_DROP, number)
    if creds.uid == 0:
        os.setgroups(creds.groups or [creds.gid])
        os.setresgid(creds.gid, creds.gid, creds.gid)
        L.capset(keep, keep, 0)
        return
    L.prctl(L.PR_SET_KEEPCAPS, 1)
    os.setgroups(creds.groups or [creds.gid])
    os.setresgid(creds.gid, creds.gid, creds.gid)
    os.setresuid(creds.uid, creds.uid, creds.uid)
    L.capset(keep, keep, keep)
    for number in range(last + 1):
        if keep & (1 << number):
            L.prctl(L.PR_CAP_AMBIENT, L.PR_CAP_AMBIENT_RAISE, number)
    L.prctl(L.PR_SET_KEEPCAPS, 0)
