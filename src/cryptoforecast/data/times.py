"""User-given times: the one parser of every ``as_of`` and ``end`` (API, command line, Python).

Accepted forms, the same everywhere:

- a date in ISO 8601, ``2025-01-01``;
- a date-time in ISO 8601, ``2025-01-01T12:00``, ``2025-01-01T12:00:30`` (fractions of a
  second allowed; a space may replace the ``T``), with an optional zone: ``Z`` or an offset such
  as ``+02:00``. A time with a zone is converted to UTC; a time without one is UTC;
- from Python also a ``datetime.date``, ``datetime.datetime``, ``pandas.Timestamp`` or
  ``numpy.datetime64`` (naive ones are UTC).

Times lie from 1970-01-01 to 2261-12-31 (UTC). Anything else (empty, ``nan``, ``NaT``, ``-1``,
``now``, a bare number, a week date, an impossible day) raises :class:`DataError` naming the
parameter, the value received and these forms.

*As of* a time (:func:`as_of_instant`) means what was known then: a date means that day's close
(the daily candle dated that day), a date-time the last candle that had closed at or before it.
A candle dated ``t`` (its open time) closes at ``t + interval``: a 1d candle dated D at D+1 00:00
UTC, a 4h candle four hours after it opens. So ``2025-01-01T00:00:01`` is answered from the daily
candle of 2024-12-31, since the one of 2025-01-01 closes only at 2025-01-02 00:00 UTC.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError

__all__ = ["EARLIEST", "LATEST", "TIME_FORMS", "as_of_instant", "parse_time"]

#: the first and the last instant a user-given time may name (UTC)
EARLIEST = pd.Timestamp("1970-01-01", tz="UTC")
LATEST = pd.Timestamp("2261-12-31 23:59:59.999999", tz="UTC")
#: the accepted forms, as every error about a time lists them
TIME_FORMS = (
    "give an ISO 8601 date (2025-01-01) or date-time (2025-01-01T12:00 or 2025-01-01T12:00:00, "
    "UTC unless it ends in Z or an offset such as +02:00), "
    f"from {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}"
)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?"
)


def _refuse(name: str, value: Any, why: str) -> DataError:
    shown = f"{value!r}" if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
    sep = " " if name.startswith("-") else "="
    return DataError(f"{name}{sep}{shown} is not a date or date-time ({why}); {TIME_FORMS}")


def _from_text(text: str, name: str, value: Any) -> tuple[pd.Timestamp, bool]:
    text = text.strip()
    date_only = _DATE.fullmatch(text) is not None
    if not text:
        raise _refuse(name, value, "it is empty")
    if not date_only and _DATE_TIME.fullmatch(text) is None:
        raise _refuse(name, value, "not in an accepted form")
    return _timestamp(text, name, value), date_only


def _timestamp(raw: Any, name: str, value: Any) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(raw)
    except (pd.errors.OutOfBoundsDatetime, OverflowError):  # the year 1 or 9999
        raise _refuse(name, value, "out of range") from None
    except ValueError:  # a month 13, a February 30th, an hour 25
        raise _refuse(name, value, "no such day or time") from None
    if ts is pd.NaT:
        raise _refuse(name, value, "not a time")
    return ts


def parse_time(value: Any, name: str = "end") -> tuple[pd.Timestamp, bool]:
    """``value`` as a UTC timestamp, and whether it was a date (which means the whole day).

    ``name`` is how the caller calls the value (``as_of``, ``end``, ``--end``): errors say it.
    Raises :class:`DataError` for anything but the forms of the module docstring.
    """
    if isinstance(value, str):
        ts, date_only = _from_text(value, name, value)
    elif value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        raise _refuse(name, value, "not a time")
    elif isinstance(value, pd.Timestamp | dt.datetime | np.datetime64):
        ts, date_only = _timestamp(value, name, value), False
    elif isinstance(value, dt.date):
        ts, date_only = _timestamp(value, name, value), True
    else:
        raise _refuse(name, value, "a date, a date-time or an ISO 8601 string is needed")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if not EARLIEST <= ts <= LATEST:
        raise _refuse(name, value, "out of range")
    return ts, date_only


def as_of_instant(value: Any, name: str = "as_of") -> pd.Timestamp:
    """The instant (UTC) a forecast "as of" ``value`` is made at: a date means that day's
    close, the next midnight UTC; a date-time means itself. Candles count once closed by then."""
    ts, date_only = parse_time(value, name)
    return ts.normalize() + pd.Timedelta(days=1) if date_only else ts
