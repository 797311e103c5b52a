"""Typed device attributes with units (Nomad's plugins/shared/structs.Attribute).

A device reports attributes as `{"Int": 11, "Unit": "GiB"}`, `{"Float": 1.5, "Unit":
"GHz"}`, `{"String": "..."}` or `{"Bool": true}`; a constraint's literal ("2 GiB", "true",
"1080ti") is parsed the same way. Numbers compare across units of the same base (bytes,
byte rates, hertz, watts), so "4096 MiB" >= "3.5 GiB".
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

_BYTES, _RATE, _HERTZ, _WATT = "byte", "byte/s", "hertz", "watt"


def _units() -> dict[str, tuple[str, Fraction]]:
    units: dict[str, tuple[str, Fraction]] = {}
    for i, prefix in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), start=1):
        units[f"{prefix}B"] = (_BYTES, Fraction(1 << (10 * i)))
        units[f"{prefix}B/s"] = (_RATE, Fraction(1 << (10 * i)))
    for i, prefix in enumerate(("k", "M", "G", "T", "P", "E"), start=1):
        units[f"{prefix}B"] = (_BYTES, Fraction(1000 ** i))
        units[f"{prefix}B/s"] = (_RATE, Fraction(1000 ** i))
    units["KB"], units["KB/s"] = units["kB"], units["kB/s"]
    units["MHz"], units["GHz"] = (_HERTZ, Fraction(1000 ** 2)), (_HERTZ, Fraction(1000 ** 3))
    units.update({"mW": (_WATT, Fraction(1, 1000)), "W": (_WATT, Fraction(1)),
                  "kW": (_WATT, Fraction(1000)), "MW": (_WATT, Fraction(10 ** 6)),
                  "GW": (_WATT, Fraction(10 ** 9))})
    return units


UNITS = _units()
_BY_LENGTH = sorted(UNITS, key=len, reverse=True)
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


class Attribute:
    __slots__ = ("value", "unit")

    def __init__(self, value: int | float | str | bool, unit: str = "") -> None:
        self.value = value
        self.unit = unit

    @classmethod
    def from_json(cls, raw: Any) -> "Attribute | None":
        """A node device's attribute as Nomad encodes it."""
        if not isinstance(raw, dict):
            return None
        for key in ("Int", "Float", "String", "Bool"):
            if raw.get(key) is not None:
                return cls(raw[key], raw.get("Unit") or "")
        return None

    @classmethod
    def parse(cls, text: str) -> "Attribute":
        """Nomad's ParseAttribute: a number with an optional known unit, a bool, or text."""
        numeric, unit = text, ""
        if text and text[-1].isalpha():
            unit = next((u for u in _BY_LENGTH if text.endswith(u)), "")
            if unit:
                numeric = text[:-len(unit)].strip()
        for conv in (int, float):
            try:
                return cls(conv(numeric), unit)
            except ValueError:
                pass
        if text in _TRUE or text in _FALSE:
            return cls(text in _TRUE)
        return cls(text)

    @property
    def text(self) -> str | None:
        return self.value if isinstance(self.value, str) else None

    def _kind(self) -> str:
        if isinstance(self.value, bool):
            return "bool"
        return "str" if isinstance(self.value, str) else "num"

    def compare(self, other: "Attribute") -> int | None:
        """-1, 0 or 1; None when the two can't be compared (types or unit bases differ)."""
        kind = self._kind()
        if kind != other._kind():
            return None
        mine, theirs = UNITS.get(self.unit), UNITS.get(other.unit)
        if (mine is None) != (theirs is None) or (mine and theirs and mine[0] != theirs[0]):
            return None
        if kind == "bool":
            return 0 if self.value == other.value else 1
        if kind == "str":
            a, b = str(self.value), str(other.value)
            return (a > b) - (a < b)
        x, y = self._scaled(), other._scaled()
        return (x > y) - (x < y)

    def _scaled(self) -> Fraction:
        unit = UNITS.get(self.unit)
        return Fraction(self.value) * (unit[1] if unit else 1)  # type: ignore[arg-type]

    def __str__(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return f"{self.value}{self.unit}"
