"""Shared base for every struct: Nomad's JSON field names; unknown fields are ignored, as
Nomad's decoder does, so a newer client sending newer fields keeps working."""

from __future__ import annotations

import os
import time
from typing import Any

import msgspec

from ..helper.goformat import HOUR, MINUTE, SECOND  # noqa: F401


class Base(msgspec.Struct, kw_only=True, gc=False):
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


def to_builtins(obj: Any) -> Any:
    """Struct → plain dicts/lists (JSON-ready)."""
    return msgspec.to_builtins(obj, enc_hook=enc_hook)


