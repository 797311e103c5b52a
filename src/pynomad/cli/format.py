"""Text formatting helpers that reproduce the Nomad CLI's output exactly.

Nomad lays out tables with ryanuber/columnize: each input line is split on
``|``, every field is trimmed, empty fields become ``<none>`` (for
:func:`format_list` / :func:`format_kv`), each column but the last is
left-justified to the widest cell of that column, and columns are joined with
two spaces (``" = "`` for key/value blocks). The last column is never padded.

Times and durations follow Go: ``formatTime`` (RFC 3339 in local time, ``Z``
for UTC), ``prettyTimeDiff`` (``"5m3s ago"``) and ``time.Duration.String``.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone

from pynomad.helper.goformat import format_duration as go_duration  # noqa: F401
from pynomad.helper.goformat import format_rfc3339_datetime, parse_rfc3339
from pynomad.helper.goformat import quote as go_quote  # noqa: F401

SHORT_ID = 8
FULL_ID = 36

_NS = 1_000_000_000


# --------------------------------------------------------------------------- #
# columnize
# --------------------------------------------------------------------------- #


def columnize(lines: list[str], glue: str = "  ", empty: str = "", no_trim: bool = False) -> str:
    """Format ``|``-delimited lines into aligned columns (ryanuber/columnize)."""
    rows: list[list[str]] = []
    for line in lines:
        fields = line.split("|")
        cells = []
        for field in fields:
            value = field if no_trim else field.strip()
            if value == "" and empty:
                value = empty
            cells.append(value)
        rows.append(cells)
    widths: list[int] = []
    for cells in rows:
        for i, cell in enumerate(cells):
            if i >= len(widths):
                widths.append(len(cell))
            elif len(cell) > widths[i]:
                widths[i] = len(cell)
    out = []
    for cells in rows:
        parts = []
        last = len(cells) - 1
        for i, cell in enumerate(cells):
            parts.append(cell if i == last else cell.ljust(widths[i]) + glue)
        out.append("".join(parts))
    return "\n".join(out)


def format_list(lines: list[str]) -> str:
    """Nomad's ``formatList``: columns glued by two spaces, blanks become ``<none>``."""
    return columnize(lines, empty="<none>")


def format_list_with_spaces(lines: list[str]) -> str:
    """Nomad's ``formatListWithSpaces``: like :func:`format_list` but blanks stay blank."""
    return columnize(lines)


def format_kv(lines: list[str]) -> str:
    """Nomad's ``formatKV``: ``key = value`` pairs, blanks become ``<none>``."""
    return columnize(lines, glue=" = ", empty="<none>")


def limit(value: str | None, length: int) -> str:
    """Truncate ``value`` to ``length`` characters (Go's ``limit``)."""
    value = value or ""
    return value if len(value) < length else value[:length]


# --------------------------------------------------------------------------- #
# times
# --------------------------------------------------------------------------- #

def parse_time_ns(value: object) -> int:
    """Convert an API time (int nanoseconds or RFC 3339 string) to Unix nanoseconds.

    Go's zero time (``0001-01-01T00:00:00Z``), missing and unreadable values map to ``0``.
    """
    if value is None or value == "" or isinstance(value, bool):
        return 0
    if isinstance(value, (int, float)):
        return int(value)
    try:
        return parse_rfc3339(str(value))
    except ValueError:
        return 0


def format_time_ns(nanos: int) -> str:
    """Go's ``formatTime``: ISO 8601 in local time; empty for times before 1970-01-01T00:00:01."""
    if nanos // _NS < 1:
        return ""
    dt = datetime.fromtimestamp(nanos // _NS, tz=timezone.utc).astimezone()
    return format_rfc3339_datetime(dt)


def format_time(value: object) -> str:
    """Format an API time value (int ns or RFC 3339 string) like Go's ``formatTime``."""
    return format_time_ns(parse_time_ns(value))


def format_task_time(value: object) -> str:
    """Task-state times: ``N/A`` for the zero time."""
    nanos = parse_time_ns(value)
    return "N/A" if nanos == 0 else format_time_ns(nanos)


def now_str() -> str:
    """The current time as printed by Nomad's monitors."""
    return format_time_ns(time.time_ns())


def _round_second(nanos: int) -> int:
    return (nanos + _NS // 2) // _NS


def pretty_time_diff(first_ns: int, second_ns: int | None = None) -> str:
    """Go's ``prettyTimeDiff``: the two largest units, e.g. ``"10mo12d ago"``."""
    if first_ns == 0:
        return ""
    if second_ns is None:
        second_ns = time.time_ns()
    first = _round_second(first_ns)
    second = _round_second(second_ns)
    suffix = "ago"
    if second >= first:
        secs = second - first
    else:
        secs = first - second
        suffix = "from now"
    parts: list[str] = []
    units = [(60, "s"), (60, "m"), (24, "h"), (30, "d"), (12, "mo")]
    remaining = secs
    for i, (size, name) in enumerate(units):
        value = remaining % size
        if value > 0:
            parts.append(f"{value}{name}")
        remaining //= size
        if remaining == 0:
            break
        if i == len(units) - 1 and remaining > 0:
            parts.append(f"{remaining}y")
    if not parts:
        return "0s " + suffix
    parts.reverse()
    return "".join(parts[:2]) + " " + suffix


def format_time_difference(first_ns: int, second_ns: int) -> str:
    """Go's ``formatTimeDifference`` truncated to seconds."""
    return go_duration((second_ns // _NS - first_ns // _NS) * _NS)


# --------------------------------------------------------------------------- #
# durations and sizes
# --------------------------------------------------------------------------- #


def ibytes(size: int | float | None) -> str:
    """go-humanize ``IBytes``: ``"300 MiB"``, ``"1.0 GiB"``, ``"5 B"``."""
    size = int(size or 0)
    if size < 10:
        return f"{size} B"
    sizes = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    exp = int(math.floor(math.log(size) / math.log(1024)))
    exp = min(exp, len(sizes) - 1)
    value = math.floor(size / (1024**exp) * 10 + 0.5) / 10
    if value < 10:
        return f"{value:.1f} {sizes[exp]}"
    return f"{value:.0f} {sizes[exp]}"


def go_bool(value: object) -> str:
    """Go's ``%v`` of a bool."""
    return "true" if value else "false"


# --------------------------------------------------------------------------- #
# JSON output
# --------------------------------------------------------------------------- #


def to_json(data: object) -> str:
    """Pretty JSON like Nomad's ``-json`` output (4-space indent, UTF-8 as-is)."""
    import json

    return json.dumps(data, indent=4, ensure_ascii=False)


def to_go_json(data: object) -> str:
    """Pretty JSON like Go's ``json.MarshalIndent(v, "", "    ")`` (HTML-escaped)."""
    text = to_json(data)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text
