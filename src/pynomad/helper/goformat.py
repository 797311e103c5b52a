"""Go's text formats, as Nomad's API, CLI and messages print them.

- `quote`: `strconv.Quote` (what `%q` prints for a string);
- `format_duration` / `parse_duration`: `time.Duration.String()` / `time.ParseDuration`;
- `format_rfc3339` / `parse_rfc3339`: `time.Time` in JSON (RFC 3339, nanoseconds, trailing
  zeros trimmed) and back; `format_go_time`: `time.Time.String()`.

Times are Unix nanoseconds (UTC) unless a `datetime` is given. Pure functions, no I/O.
"""

from __future__ import annotations

import datetime as _dt
import re
from fractions import Fraction

NANOSECOND = 1
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
MAX_DURATION = 2**63 - 1

ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero `time.Time` as JSON: what Nomad shows for a time never set."""

# ----------------------------------------------------------------------------- quoting

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
            "\v": "\\v", '"': '\\"', "\\": "\\\\"}


def quote(text: str) -> str:
    """Go's `strconv.Quote`: double-quoted, with Go escapes for what is not printable."""
    out = ['"']
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


# ---------------------------------------------------------------------------- durations

def _fraction(value: int, unit: int) -> str:
    """`value/unit` printed like Go: integer part, then the fraction without trailing zeros."""
    whole, frac = divmod(value, unit)
    if frac == 0:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{str(frac).rjust(digits, '0').rstrip('0')}"


def format_duration(ns: int | float | None) -> str:
    """Go's `time.Duration(ns).String()` ("1h2m3s", "1.5s", "300ms", "0s"; None is 0)."""
    ns = int(ns or 0)
    if ns == 0:
        return "0s"
    sign, u = ("-", -ns) if ns < 0 else ("", ns)
    if u < MICROSECOND:
        return f"{sign}{u}ns"
    if u < MILLISECOND:
        return f"{sign}{_fraction(u, MICROSECOND)}µs"
    if u < SECOND:
        return f"{sign}{_fraction(u, MILLISECOND)}ms"
    hours, rem = divmod(u, HOUR)
    minutes, rem = divmod(rem, MINUTE)
    secs = _fraction(rem, SECOND) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


_UNITS = {"ns": NANOSECOND, "us": MICROSECOND, "\u00b5s": MICROSECOND, "\u03bcs": MICROSECOND,
          "ms": MILLISECOND, "s": SECOND, "m": MINUTE, "h": HOUR}
_PART = re.compile(r"(\d*)(\.\d*)?([^\d.]*)")


def parse_duration(text: str | int | float) -> int:
    """Go's `time.ParseDuration` ("30s", "1h30m", "1.5h", "-2m") in nanoseconds, raising
    ValueError with Go's message. A number (not a string) is taken as nanoseconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(text)
    orig = s = str(text)
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if s == "":
        raise ValueError(f'time: invalid duration "{orig}"')
    total = Fraction(0)
    pos = 0
    while pos < len(s):
        m = _PART.match(s, pos)
        assert m is not None  # the pattern matches the empty string
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
    if total > MAX_DURATION + (1 if neg else 0):
        raise ValueError(f'time: invalid duration "{orig}"')
    ns = int(total)
    return -ns if neg else ns


# -------------------------------------------------------------------------------- times

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})?$")


def _clock_text(secs: int) -> str:
    return (_EPOCH + _dt.timedelta(seconds=secs)).strftime("%Y-%m-%dT%H:%M:%S")


def _frac_text(frac_ns: int) -> str:
    return "." + f"{frac_ns:09d}".rstrip("0") if frac_ns else ""


def format_rfc3339(ns: int, nano: bool = True) -> str:
    """Unix ns as Go's RFC3339Nano in UTC ("2024-01-02T15:04:05.123Z"; `nano=False`: whole
    seconds, Go's RFC3339). Zero or negative: Go's zero time."""
    if ns <= 0:
        return ZERO_TIME
    secs, frac = divmod(int(ns), SECOND)
    return _clock_text(secs) + (_frac_text(frac) if nano else "") + "Z"


def format_rfc3339_datetime(t: _dt.datetime, nano: bool = False) -> str:
    """An aware datetime in RFC 3339 with its own offset ("Z" for UTC); microseconds are
    printed only with `nano`."""
    offset = t.utcoffset() or _dt.timedelta(0)
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if nano and t.microsecond:
        text += _frac_text(t.microsecond * 1000)
    if not offset:
        return text + "Z"
    total = int(offset.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    return text + f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}"


def _parse(text: str) -> tuple[int, int]:
    """(Unix ns, the time's UTC offset in seconds)."""
    m = _RFC3339.match(text.strip())
    if m is None:
        raise ValueError(f'parsing time "{text}" as RFC 3339: cannot parse')
    year, mon, day, hh, mm, ss, frac, tz = m.groups()
    if int(year) <= 1:
        return 0, 0
    base = _dt.datetime(int(year), int(mon), int(day), int(hh), int(mm), int(ss),
                        tzinfo=_dt.timezone.utc)
    offset = 0
    if tz and tz not in "Zz":
        digits = tz[1:].replace(":", "")
        offset = (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * (1 if tz[0] == "+" else -1)
    seconds = (base - _EPOCH) // _dt.timedelta(seconds=1) - offset
    return seconds * SECOND + int((frac or "0").ljust(9, "0")[:9]), offset


def parse_rfc3339(text: str) -> int:
    """An RFC 3339 time (any offset, nanoseconds kept) as Unix ns; 0 for "" and for Go's
    zero time. ValueError for anything else."""
    return _parse(text)[0] if text else 0


def parse_rfc3339_datetime(text: str) -> _dt.datetime:
    """An RFC 3339 time as an aware datetime in its own offset (microsecond precision)."""
    ns, offset = _parse(text)
    zone = _dt.timezone(_dt.timedelta(seconds=offset))
    return (_EPOCH + _dt.timedelta(microseconds=ns // 1000)).astimezone(zone)


def format_go_time(ns: int) -> str:
    """Go's `time.Time.String()` in UTC ("2024-01-02 15:04:05.5 +0000 UTC")."""
    if ns <= 0:
        return "0001-01-01 00:00:00 +0000 UTC"
    secs, frac = divmod(int(ns), SECOND)
    return _clock_text(secs).replace("T", " ") + _frac_text(frac) + " +0000 UTC"
