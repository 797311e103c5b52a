"""Go-compatible time helpers: `time.Duration` strings and RFC 3339 timestamps.

Nomad's messages embed Go's `Duration.String()` ("15s", "30m0s", "1.5ms") and its
JSON carries `time.Time` as RFC 3339 with nanoseconds; job files use Go duration
literals ("10s", "1h30m"). Pure functions, no I/O.
"""

from __future__ import annotations

import re
import time

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

ZERO_TIME = "0001-01-01T00:00:00Z"

_UNITS = {"ns": NANOSECOND, "us": MICROSECOND, "µs": MICROSECOND, "μs": MICROSECOND,
          "ms": MILLISECOND, "s": SECOND, "m": MINUTE, "h": HOUR}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def _fraction(value: int, unit: int) -> str:
    """`value/unit` printed like Go: integer part, then the fraction without trailing zeros."""
    whole, frac = divmod(value, unit)
    if frac == 0:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"


def format_duration(ns: int | float) -> str:
    """Go's `time.Duration(ns).String()`."""
    ns = int(ns)
    if ns == 0:
        return "0s"
    sign, u = ("-", -ns) if ns < 0 else ("", ns)
    if u < MICROSECOND:
        text = f"{u}ns"
    elif u < MILLISECOND:
        text = _fraction(u, MICROSECOND) + "µs"
    elif u < SECOND:
        text = _fraction(u, MILLISECOND) + "ms"
    else:
        hours, rem = divmod(u, HOUR)
        minutes, rem = divmod(rem, MINUTE)
        secs = _fraction(rem, SECOND) + "s"
        if hours:
            text = f"{hours}h{minutes}m{secs}"
        elif minutes:
            text = f"{minutes}m{secs}"
        else:
            text = secs
    return sign + text


def parse_duration(text: str | int | float) -> int:
    """Go's `time.ParseDuration`, returning nanoseconds. Numbers are taken as nanoseconds."""
    if isinstance(text, (int, float)):
        return int(text)
    s = text.strip()
    if s in ("0", ""):
        return 0
    sign = 1
    if s[0] in "+-":
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    pos, total = 0, 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            raise ValueError(f"time: invalid duration {text!r}")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos == 0:
        raise ValueError(f"time: invalid duration {text!r}")
    return sign * int(round(total))


def format_rfc3339(ns: int) -> str:
    """Unix nanoseconds → Go's RFC3339Nano in UTC ("2024-01-02T15:04:05.123Z")."""
    if ns <= 0:
        return ZERO_TIME
    secs, frac = divmod(ns, SECOND)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs))
    if frac:
        base += "." + str(frac).rjust(9, "0").rstrip("0")
    return base + "Z"
