"""Linux capability sets for isolated tasks (Nomad's `drivers/shared/capabilities`).

Names are normalized as Nomad does ("CAP_NET_RAW", "net_raw" and " Net_Raw " are one
capability); "all" expands to every capability the kernel supports. Pure functions;
`supported()` reads the kernel's last capability once.
"""

from __future__ import annotations

import functools
from typing import Iterable

# Capability numbers are the positions in this list (linux/capability.h).
NAMES = (
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
    "setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
    "net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
    "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
    "audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
    "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
)
NUMBERS = {name: i for i, name in enumerate(NAMES)}

# The `allow_caps` default: Docker's default set without NET_RAW.
NOMAD_DEFAULTS = ("audit_write", "chown", "dac_override", "fowner", "fsetid", "kill",
                  "mknod", "net_bind_service", "setfcap", "setgid", "setpcap", "setuid",
                  "sys_chroot")

# What tasks running as root get (Nomad keeps the pre-1.1 set for them).
LEGACY = tuple(n for n in NAMES[:NUMBERS["audit_read"] + 1])


def normalize(name: str) -> str:
    name = name.strip().lower()
    return name[4:] if name.startswith("cap_") else name


@functools.lru_cache(maxsize=1)
def supported(last_cap_path: str = "/proc/sys/kernel/cap_last_cap") -> frozenset[str]:
    """Capabilities this kernel knows (up to `cap_last_cap`)."""
    try:
        with open(last_cap_path, encoding="ascii") as f:
            last = int(f.read().strip())
    except (OSError, ValueError):
        last = NUMBERS["audit_read"]
    return frozenset(NAMES[:min(last, len(NAMES) - 1) + 1])


def to_set(caps: Iterable[str] | None) -> set[str]:
    """Normalized names; "all" expands to `supported()`."""
    out: set[str] = set()
    for cap in caps or ():
        name = normalize(str(cap))
        if name == "all":
            out |= supported()
        elif name:
            out.add(name)
    return out


def upper(caps: Iterable[str]) -> list[str]:
    """Sorted "CAP_X" names (how Nomad logs and hands them to the runtime)."""
    return sorted("CAP_" + c.upper() for c in caps)


def unsupported(caps: Iterable[str] | None) -> list[str]:
    """The names in `caps` that this kernel does not support (sorted)."""
    return sorted(to_set(caps) - supported())


def calculate(allow_caps: Iterable[str] | None, cap_add: Iterable[str] | None,
              cap_drop: Iterable[str] | None,
              basis: Iterable[str] = NOMAD_DEFAULTS) -> list[str]:
    """The effective capabilities of a task, as Nomad's `capabilities.Calculate`:
    (basis ∩ allow_caps) − cap_drop ∪ cap_add. Every added capability must be allowed;
    raises ValueError naming those that are not."""
    allow = to_set(allow_caps)
    adds = to_set(cap_add)
    missing = sorted(adds - allow)
    if missing:
        raise ValueError("driver does not allow the following capabilities: "
                         + ", ".join(missing))
    result = to_set(basis) & allow
    drops = [normalize(str(c)) for c in cap_drop or ()]
    if "all" in drops:
        result = set()
    result -= set(drops)
    return upper(result | adds)


def mask(caps: Iterable[str]) -> int:
    """The 64-bit mask of capability names ("CAP_X" or "x")."""
    out = 0
    for cap in caps:
        out |= 1 << NUMBERS[normalize(cap)]
    return out
