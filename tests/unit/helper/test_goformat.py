"""Go duration / time formatting."""

import pytest

from pynomad.helper.goformat import (HOUR, MINUTE, SECOND, format_duration, format_rfc3339,
                                   parse_duration)


@pytest.mark.parametrize("ns,text", [
    (0, "0s"), (15 * SECOND, "15s"), (30 * MINUTE, "30m0s"), (24 * HOUR, "24h0m0s"),
    (1500 * 10**6, "1.5s"), (500 * 10**6, "500ms"), (1500, "1.5µs"), (999, "999ns"),
    (HOUR + 2 * MINUTE + 3 * SECOND, "1h2m3s"), (15_123_456_789, "15.123456789s"),
    (-2 * SECOND, "-2s"), (90 * SECOND, "1m30s"),
])
def test_format_duration(ns, text):
    assert format_duration(ns) == text


@pytest.mark.parametrize("text,ns", [
    ("10s", 10 * SECOND), ("1h30m", 90 * MINUTE), ("250ms", 250 * 10**6), ("1.5s", 1500 * 10**6),
    ("0", 0), ("2us", 2000), ("3µs", 3000), (5, 5), ("-1s", -SECOND),
])
def test_parse_duration(text, ns):
    assert parse_duration(text) == ns


@pytest.mark.parametrize("bad", ["abc", "10", "1x", "s"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_rfc3339():
    assert format_rfc3339(0) == "0001-01-01T00:00:00Z"
    assert format_rfc3339(1_700_000_000 * SECOND) == "2023-11-14T22:13:20Z"
    assert format_rfc3339(1_700_000_000 * SECOND + 120_000_000) == "2023-11-14T22:13:20.12Z"
