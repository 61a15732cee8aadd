"""Durations for people: ``1 year 2 months``, ``3 days 4 h``, ``45 min``, never ``10361.0 h``.

Every age or wait shown to a person (the CLI, the dashboard, the service's stale reasons, the
report) is worded by :func:`human_duration`. It names the largest whole unit and, when not zero,
the next one down, truncating (an age of 1 year 2.9 months reads ``1 year 2 months``: it is at
least that old). A month is 30.44 days and a year 365.25 days, their calendar averages.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = ["human_duration"]

_DAY = 86_400.0
#: (seconds in the unit, singular, plural), largest first
_UNITS = (
    (365.25 * _DAY, "year", "years"),
    (30.44 * _DAY, "month", "months"),
    (_DAY, "day", "days"),
    (3_600.0, "h", "h"),
    (60.0, "min", "min"),
    (1.0, "s", "s"),
)


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def human_duration(delta: timedelta) -> str:
    """``delta`` in at most two adjacent units, largest first: ``1 year 2 months``, ``14 days``,
    ``3 days 4 h``, ``1 h 5 min``, ``45 min``, ``12 s``; ``0 s`` under a second. A negative
    duration (a clock ahead of the data) keeps its sign: ``-5 min``."""
    if not isinstance(delta, timedelta):
        raise TypeError(
            f"human_duration needs a datetime.timedelta, got {type(delta).__name__} {delta!r}; "
            "pass e.g. timedelta(hours=h)"
        )
    seconds = delta.total_seconds()
    sign, rest = ("-" if seconds < 0 else ""), abs(seconds)
    for i, (size, singular, plural) in enumerate(_UNITS):
        whole = int(rest // size)
        if whole == 0 and size > 1.0:
            continue
        text = _count(whole, singular, plural)
        if i + 1 < len(_UNITS):
            next_size, next_singular, next_plural = _UNITS[i + 1]
            part = int((rest - whole * size) // next_size)
            if part:
                text += " " + _count(part, next_singular, next_plural)
        return sign + text
    return "0 s"  # pragma: no cover - the loop returns at the last unit
