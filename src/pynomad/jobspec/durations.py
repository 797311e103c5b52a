"""Go's ``time.ParseDuration`` for HCL duration fields (result in nanoseconds)."""

from __future__ import annotations

import re
from fractions import Fraction

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_PART = re.compile(r"(\d*)(\.\d*)?([^\d.]*)")
_MAX = 2 ** 63 - 1


def parse_duration(text: str) -> int:
    """Parse e.g. "30s", "1h30m", "1.5h", "-2m"; raise ValueError like Go does."""
    orig = text
    neg = False
    if text and text[0] in "+-":
        neg = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0
    if text == "":
        raise ValueError(f'time: invalid duration "{orig}"')
    total = Fraction(0)
    pos = 0
    while pos < len(text):
        m = _PART.match(text, pos)
        whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
        if m.end() == pos or (whole == "" and frac in ("", ".")):
            raise ValueError(f'time: invalid duration "{orig}"')
        if unit == "":
            raise ValueError(f'time: missing unit in duration "{orig}"')
        if unit not in _UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{orig}"')
        value = Fraction(int(whole or "0"))
        if len(frac) > 1:
            value += Fraction(int(frac[1:]), 10 ** (len(frac) - 1))
        total += value * _UNITS[unit]
        pos = m.end()
    if total > _MAX + (1 if neg else 0):
        raise ValueError(f'time: invalid duration "{orig}"')
    ns = int(total)
    return -ns if neg else ns
