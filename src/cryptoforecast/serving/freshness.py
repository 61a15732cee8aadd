"""How old the candles behind a forecast are: ``as_of``, staleness and the ``/healthz`` data block.

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

from cryptoforecast.data import CandleCache, load_ohlcv, snapshot_assets
from cryptoforecast.data.loader import LIVE_SOURCES
from cryptoforecast.data.schema import check_interval
from cryptoforecast.exceptions import CryptoForecastError

__all__ = ["Staleness", "data_freshness", "staleness"]


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
            else f"the {source!r} source is a fixed history; forecast from a live source "
            "(--source binance) for current prices"
        )
        reason = (
            f"the last {interval} candle closed at {closed.isoformat()}, "
            f"{age.total_seconds() / 3600:.1f} h ago; the next one closed at "
            f"{missing.isoformat()} and is not in the data ({where})"
        )
    hours = (now_utc - last).total_seconds() / 3600
    return Staleness(last, round(hours, 2), bool(stale), reason)


def _last_candles(source: str, interval: str, end: Any) -> dict[str, Any]:
    """Last candle per series. Never fetches: for a live source, only the series already in the
    local cache (``data update`` or the refresher fill it); a file that cannot be read is an
    error of that series, not of the probe."""
    lasts: dict[str, Any] = {}
    if source in LIVE_SOURCES:
        cache = CandleCache()
        for src, crypto_id, ival in cache.entries():
            if src != source or ival != interval:
                continue
            try:
                frame = cache.read(src, crypto_id, ival)
            except Exception as exc:  # a corrupt file
                lasts[crypto_id] = CryptoForecastError(
                    f"cannot read the cached candles: {type(exc).__name__}: {exc}"
                )
                continue
            if frame is not None and len(frame):
                lasts[crypto_id] = frame.index[-1]
    else:
        for asset in snapshot_assets():
            try:
                lasts[asset.id] = load_ohlcv(
                    asset.id, days=1, interval=interval, source=source, end=end
                ).index[-1]
            except CryptoForecastError as exc:
                lasts[asset.id] = exc
    return lasts


def data_freshness(
    source: str, interval: str, now: datetime, grace_seconds: float, end: Any = None
) -> tuple[dict[str, Any], bool]:
    """The ``/healthz`` data block (per series: last candle, age, staleness) and whether the
    service is degraded by it: a stale (or unreadable) series of a live source."""
    data: dict[str, Any] = {}
    degraded = False
    for crypto_id, last in _last_candles(source, interval, end).items():
        if isinstance(last, Exception):
            data[crypto_id] = {"error": str(last)}
            degraded = degraded or source in LIVE_SOURCES
            continue
        s = staleness(last, interval, now, grace_seconds, source)
        data[crypto_id] = {
            "last_candle": s.last_candle.isoformat(),
            "age_hours": s.age_hours,
            "stale": s.stale,
            "stale_reason": s.reason,
        }
        degraded = degraded or (s.stale and source in LIVE_SOURCES)
    return data, degraded
