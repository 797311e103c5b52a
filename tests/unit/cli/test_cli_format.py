"""Column layout, time and size formatting identical to the Nomad CLI."""

from __future__ import annotations

from pynomad.cli.format import (columnize, format_kv, format_list, format_list_with_spaces,
                                format_time, go_duration, go_quote, ibytes, limit,
                                parse_time_ns, pretty_time_diff)

S = 1_000_000_000


def test_format_list_aligns_and_fills_blanks() -> None:
    out = format_list(["ID|Type|Priority|Status", "job1|service|80|running",
                       "job22|batch||dead"])
    assert out == ("ID     Type     Priority  Status\n"
                   "job1   service  80        running\n"
                   "job22  batch    <none>    dead")


def test_format_kv() -> None:
    out = format_kv(["ID|example", "Submit Date|x", "Class|"])
    assert out == "ID          = example\nSubmit Date = x\nClass       = <none>"


def test_last_column_not_padded_and_spaces_kept() -> None:
    out = format_list_with_spaces(["CPU|Memory|Disk|Addresses", "100 MHz|300 MiB|300 MiB|",
                                   "|Max: 1 GiB||"])
    lines = out.split("\n")
    assert lines[0] == "CPU      Memory      Disk     Addresses"
    assert lines[1] == "100 MHz  300 MiB     300 MiB  "
    assert lines[2] == "         Max: 1 GiB           "


def test_columnize_trims_and_ragged_rows() -> None:
    assert columnize([" a | b ", "ccc|d|e"]) == "a    b\nccc  d  e"
    assert columnize([]) == ""


def test_limit() -> None:
    assert limit("0123456789abcdef", 8) == "01234567"
    assert limit("abc", 8) == "abc"
    assert limit(None, 8) == ""


def test_pretty_time_diff() -> None:
    now = 1_700_000_000 * S
    assert pretty_time_diff(0, now) == ""
    assert pretty_time_diff(now, now) == "0s ago"
    assert pretty_time_diff(now - 5 * S, now) == "5s ago"
    assert pretty_time_diff(now - 65 * S, now) == "1m5s ago"
    assert pretty_time_diff(now - (3600 + 61) * S, now) == "1h1m ago"
    assert pretty_time_diff(now - (3 * 86400 + 7200 + 5) * S, now) == "3d2h ago"
    assert pretty_time_diff(now - (400 * 86400) * S, now) == "1y1mo ago"
    assert pretty_time_diff(now + 90 * S, now) == "1m30s from now"


def test_go_duration() -> None:
    assert go_duration(0) == "0s"
    assert go_duration(90 * S) == "1m30s"
    assert go_duration(3600 * S) == "1h0m0s"
    assert go_duration(1_500_000_000) == "1.5s"
    assert go_duration(300_000_000) == "300ms"
    assert go_duration(2_500) == "2.5µs"
    assert go_duration(15 * 3600 * S + 17 * 60 * S + 24 * S) == "15h17m24s"


def test_ibytes() -> None:
    assert ibytes(5) == "5 B"
    assert ibytes(300 * 1024 * 1024) == "300 MiB"
    assert ibytes(2 * 1024**3) == "2.0 GiB"
    assert ibytes(int(6.3 * 1024 * 1024)) == "6.3 MiB"
    assert ibytes(24 * 1024**3) == "24 GiB"


def test_times_utc() -> None:
    assert format_time(1495755675837638000) == "2017-05-25T23:41:15Z"
    assert format_time(0) == ""
    assert format_time("0001-01-01T00:00:00Z") == ""
    assert parse_time_ns("2018-04-18T21:16:45.174397466Z") == 1524086205174397466
    assert parse_time_ns("2018-04-18T23:16:45+02:00") == 1524086205 * S


def test_go_quote() -> None:
    assert go_quote('a "b"\n') == '"a \\"b\\"\\n"'
