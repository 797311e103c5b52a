"""Small checkers the job validator needs, each matching the Go library Nomad uses.

- :func:`cron_error` — hashicorp/cronexpr's parser (5/6/7 fields and ``@`` macros);
- :func:`version_constraint_error` / :func:`semver_constraint_error` — go-version;
- :func:`regexp_error` — Go ``regexp.Compile`` error text (approximated on Python's ``re``);
- :func:`multierror` — go-multierror's list format.
"""

from __future__ import annotations

import re

from ..helper.goformat import format_duration as go_duration  # noqa: F401



def multierror(errors: list[str]) -> str:
    """go-multierror's ``ListFormatFunc``: `N errors occurred:` then tab-star lines."""
    if len(errors) == 1:
        return f"1 error occurred:\n\t* {errors[0]}\n\n"
    points = "\n\t".join(f"* {e}" for e in errors)
    return f"{len(errors)} errors occurred:\n\t{points}\n\n"




# ----------------------------------------------------------------------- cron

_CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_FIELDS = (("second", 0, 59), ("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31),
           ("month", 1, 12), ("day-of-week", 0, 7), ("year", 1970, 2099))
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
_MONTH_NAMES = {**{m: i + 1 for i, m in enumerate(_MONTHS)},
                **{"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
                   "august": 8, "september": 9, "october": 10, "november": 11, "december": 12}}
_DAY_NAMES = {**{d: i for i, d in enumerate(_DAYS)},
              **{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4,
                 "friday": 5, "saturday": 6}}


def cron_error(spec: str) -> str | None:
    """Return cronexpr's error for ``spec``, or None when it parses."""
    text = spec.strip()
    if text.startswith("@"):
        return None if text.lower() in _CRON_MACROS else "missing field(s)"
    fields = text.split()
    if len(fields) < 5:
        return "missing field(s)"
    fields = fields[:7]
    if len(fields) == 5:
        fields = ["0", *fields, "*"]
    elif len(fields) == 6:
        fields = ["0", *fields]
    for (name, lo, hi), value in zip(_FIELDS, fields):
        if not _cron_field_ok(name, value, lo, hi):
            return f"syntax error in {name} field: '{value}'"
    return None


def _cron_atom(name: str, text: str) -> int | None:
    low = text.lower()
    if name == "month" and low in _MONTH_NAMES:
        return _MONTH_NAMES[low]
    if name == "day-of-week" and low in _DAY_NAMES:
        return _DAY_NAMES[low]
    return int(text) if text.isdigit() else None


def _cron_field_ok(name: str, value: str, lo: int, hi: int) -> bool:
    return all(_cron_part_ok(name, part, lo, hi) for part in value.split(","))


def _cron_part_ok(name: str, part: str, lo: int, hi: int) -> bool:
    """One comma-separated item: ``*``, ``?``, ``a``, ``a-b``, any of those ``/step``, L/W/#."""
    base, _, step = part.partition("/")
    if "/" in part and not (step.isdigit() and int(step) > 0):
        return False
    if base in ("*", "?"):
        return base == "*" or name in ("day-of-month", "day-of-week")
    if name == "day-of-month" and re.fullmatch(r"(L|LW|\d{1,2}W)", base, re.I):
        return True
    m = re.fullmatch(r"([0-7]|[a-z]{3})(L|#[1-5])", base, re.I) if name == "day-of-week" else None
    if m:
        return _cron_atom(name, m.group(1)) is not None
    lo_text, dash, hi_text = base.partition("-")
    first = _cron_atom(name, lo_text)
    if first is None or not lo <= first <= hi:
        return False
    if not dash:
        return True
    last = _cron_atom(name, hi_text)
    return last is not None and lo <= last <= hi


# ------------------------------------------------------ version constraints

_VERSION = (r"v?([0-9]+(\.[0-9]+)*?)"
            r"(-([0-9]+[0-9A-Za-z\-~]*(\.[0-9A-Za-z\-~]+)*)|(-?([A-Za-z\-~]+[0-9A-Za-z\-~]*"
            r"(\.[0-9A-Za-z\-~]+)*)))?(\+([0-9A-Za-z\-~]+(\.[0-9A-Za-z\-~]+)*))?")
_SEMVER = (r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?"
           r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?")
_VERSION_RE = re.compile(r"^\s*(=|!=|>|<|>=|<=|~>)?\s*(" + _VERSION + r")\s*$")
_SEMVER_RE = re.compile(r"^\s*(=|!=|>|<|>=|<=)?\s*(" + _SEMVER + r")\s*$")


def _constraint_error(text: str, pattern: re.Pattern[str]) -> str | None:
    for part in text.split(","):
        if not pattern.match(part):
            return f"Malformed constraint: {part}"
    return None


def version_constraint_error(text: str) -> str | None:
    """hashicorp/go-version ``NewConstraint`` error, or None."""
    return _constraint_error(text, _VERSION_RE)


def semver_constraint_error(text: str) -> str | None:
    """Nomad's helper/constraints/semver ``NewConstraint`` error, or None."""
    return _constraint_error(text, _SEMVER_RE)


# ------------------------------------------------------------------- regexp

_RE_MESSAGES = (
    ("missing ), unterminated subpattern", "missing closing )"),
    ("unbalanced parenthesis", "unexpected )"),
    ("unterminated character set", "missing closing ]"),
    ("nothing to repeat", "missing argument to repetition operator"),
    ("multiple repeat", "invalid nested repetition operator"),
    ("bad escape", "invalid escape sequence"),
    ("bad character range", "invalid character class range"),
)
_RE2_UNSUPPORTED = re.compile(r"\(\?[=!<]|\\[1-9]")


def regexp_error(expr: str) -> str | None:
    """Go ``regexp.Compile``'s error text for ``expr`` (RE2 syntax), or None."""
    if _RE2_UNSUPPORTED.search(expr):
        return f"error parsing regexp: invalid or unsupported Perl syntax: `{expr}`"
    try:
        re.compile(expr)
    except (re.error, OverflowError, RecursionError) as err:
        msg = str(err)
        code = next((go for py, go in _RE_MESSAGES if msg.startswith(py)), msg.split(" at ")[0])
        return f"error parsing regexp: {code}: `{expr}`"
    return None
