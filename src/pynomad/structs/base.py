"""Shared base for every struct: Nomad's JSON field names, unknown fields rejected."""

from __future__ import annotations

import datetime
import os
import time
from typing import Any

import msgspec


class Base(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Base of all API/state objects. Field names are Nomad's JSON names.

    `gc=False`: these objects form trees, never reference cycles, so the cyclic garbage
    collector need not track (or repeatedly scan) the millions of them a large cluster has.
    """


def generate_uuid() -> str:
    """A random UUID in Nomad's format (8-4-4-4-12 lowercase hex)."""
    b = os.urandom(16).hex()
    return f"{b[:8]}-{b[8:12]}-{b[12:16]}-{b[16:20]}-{b[20:]}"


def now_ns() -> int:
    return time.time_ns()


def enc_hook(obj: Any) -> Any:
    """For encoders that may meet stored allocations: a value kept in a compact form
    (see packed.py) encodes as the value it stands for."""
    unpack = getattr(obj, "unpack", None)
    if unpack is None:
        raise NotImplementedError(f"cannot encode objects of type {type(obj).__name__}")
    return unpack()


def rfc3339(ns: int) -> str:
    """A UTC time in ns as RFC 3339 with microseconds (how the state store stamps times)."""
    dt = datetime.datetime.fromtimestamp(ns / 1e9, tz=datetime.timezone.utc)
    return dt.isoformat().replace("+00:00", "Z")


def parse_rfc3339_ns(text: str) -> int:
    """An RFC 3339 UTC time as ns (nanoseconds kept); 0 for empty or Go's zero time."""
    if not text or text.startswith("0001-01-01"):
        return 0
    t = text.rstrip("Z")
    frac_ns = 0
    if "." in t:
        t, frac = t.split(".", 1)
        frac_ns = int((frac + "000000000")[:9])
    dt = datetime.datetime.fromisoformat(t).replace(tzinfo=datetime.timezone.utc)
    return int(dt.timestamp()) * 1_000_000_000 + frac_ns


def to_builtins(obj: Any) -> Any:
    """Struct → plain dicts/lists (JSON-ready)."""
    return msgspec.to_builtins(obj, enc_hook=enc_hook)


SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
