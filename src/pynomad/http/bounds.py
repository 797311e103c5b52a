"""Bounds on what a request may carry, checked at the edge before anything acts on it.

Nomad's Go decoder refuses what does not fit its types: an integer beyond its field's range,
a negative index, nesting past its depth limit. The same inputs are refused here with a 400
and one line, so nothing beyond these bounds reaches the state store, the encoders or the
scheduler. Request bodies are capped per endpoint (413).
"""

from __future__ import annotations

from typing import Any

from ..server.errors import BadRequest

MAX_DEPTH = 64
"""JSON nesting depth allowed in a request body (a job is about 8 deep)."""

INT64 = (-(2**63), 2**63 - 1)
UINT64 = (0, 2**64 - 1)

KiB = 1024
MiB = 1024 * KiB
DEFAULT_BODY_LIMIT = 1 * MiB
JOB_BODY_LIMIT = 16 * MiB
SNAPSHOT_BODY_LIMIT = 512 * MiB
MAX_BODY_LIMIT = SNAPSHOT_BODY_LIMIT

# route pattern -> largest body accepted (bytes); the rest get DEFAULT_BODY_LIMIT
BODY_LIMITS = {
    "/v1/jobs": JOB_BODY_LIMIT,
    "/v1/jobs/parse": JOB_BODY_LIMIT,
    "/v1/validate/job": JOB_BODY_LIMIT,
    "/v1/job/{id}": JOB_BODY_LIMIT,
    "/v1/job/{id}/plan": JOB_BODY_LIMIT,
    "/v1/operator/snapshot": SNAPSHOT_BODY_LIMIT,
}


class TooLarge(Exception):
    """A request body over its endpoint's limit (413)."""


def body_limit(route: str | None) -> int:
    return BODY_LIMITS.get(route or "", DEFAULT_BODY_LIMIT)


def int_range(key: str) -> tuple[int, int]:
    """The Go type range of a JSON field by its name: Nomad's indexes are uint64, every
    other integer field is an int or int64 (or smaller, refused by validation)."""
    return UINT64 if key.endswith("Index") else INT64


def check_json(doc: Any) -> None:
    """Refuse a decoded JSON document nested deeper than MAX_DEPTH or holding an integer out
    of its field's range. Iterative, so any depth is refused without recursion."""
    stack: list[tuple[Any, str, int]] = [(doc, "", 1)]
    while stack:
        value, key, depth = stack.pop()
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            lo, hi = int_range(key)
            if not lo <= value <= hi:
                raise BadRequest(f"Failed to decode request body: {key or 'value'}: "
                                 f"{_short(value)} out of range")
            continue
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise BadRequest(f"Failed to decode request body: nested deeper than "
                                 f"{MAX_DEPTH} levels")
            if isinstance(value, dict):
                stack.extend((v, k, depth + 1) for k, v in value.items())
            else:
                stack.extend((v, key, depth + 1) for v in value)


def parse_int(text: str, what: str, lo: int = INT64[0], hi: int = INT64[1]) -> int:
    """A query-string integer within [lo, hi], else a 400 naming `what`."""
    text = text.strip()
    if len(text) > 20 or not text.lstrip("+-").isdigit():
        raise BadRequest(f"Failed to parse {what}: {text[:40]!r} is not an integer")
    value = int(text)
    if not lo <= value <= hi:
        raise BadRequest(f"Failed to parse {what}: {value} out of range")
    return value


def _short(value: int) -> str:
    text = str(value) if value.bit_length() < 4000 else "a number"
    return text if len(text) <= 40 else text[:20] + "..."
