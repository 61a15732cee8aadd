"""How old the candles behind a forecast are: its ``as_of`` and whether that makes it stale.

A candle stamped ``t`` (its open time) closes at ``t + interval``. The series is *stale* when the
next candle closed more than a grace period ago and is still not in the data: the last candle's
close is older than one interval plus the grace (``now > as_of + 2 * interval + grace``). A live
service's refresher fetches each new candle a few seconds after it closes, so a stale live series
means the refresher is failing; the embedded snapshot and CSV files are fixed histories, stale by
nature once time has moved past them, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from cryptoforecast.data.loader import LIVE_SOURCES
from cryptoforecast.data.schema import check_interval
from cryptoforecast.durations import human_duration

__all__ = ["Staleness", "staleness"]


@dataclass(frozen=True)
class Staleness:
    """Age of a series' last candle and whether that makes it stale (with why)."""

    last_candle: datetime
    age_hours: float
    stale: bool
    reason: str | None


def _utc(value: Any) -> datetime:
    if isinstance(value, pd.Timestamp) or not isinstance(value, datetime):
        value = pd.Timestamp(value).to_pydatetime()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def staleness(
    as_of: Any, interval: str, now: datetime, grace_seconds: float, source: str
) -> Staleness:
    """Whether candles ending at ``as_of`` (open time of the last one) are stale at ``now``.

    ``age_hours`` is the time since the last candle's stamp (its open time). The reason names
    the newer candle that is missing and what to do about it for this kind of source. Plain
    datetime arithmetic: this runs on every cache hit.
    """
    step = check_interval(interval).to_pytimedelta()
    last, now_utc = _utc(as_of), _utc(now)
    closed = last + step
    age = now_utc - closed
    stale = age > step + timedelta(seconds=grace_seconds)
    reason = None
    if stale:
        missing = closed + step  # when the first missing candle closed
        where = (
            "the candle refresher of a running service (or `cryptoforecast data update`) should "
            "have fetched it: check its errors in /healthz and /metrics"
            if source in LIVE_SOURCES
            else "these candles come from a file, which ends where it ends; import a newer file "
            "(`cryptoforecast data import COIN FILE`) to forecast from later candles"
            if source == "csv"
            else f"the {source!r} source is a fixed history; forecast from a live source "
            "(--source binance) for current prices"
        )
        reason = (
            f"the last {interval} candle closed at {closed.isoformat()}, "
            f"{human_duration(age)} ago; the next one closed at "
            f"{missing.isoformat()} and is not in the data ({where})"
        )
    hours = (now_utc - last).total_seconds() / 3600
    return Staleness(last, round(hours, 2), bool(stale), reason)
