"""Checking CoinGecko's answers: ``/coins/list`` and ``/coins/{id}/market_chart/range``.

Pure functions from a decoded JSON payload to rows or candles; a bad field raises
:class:`~cryptoforecast.exceptions.SourceError` naming the list, the position and the value.
The HTTP side (keys, plans, retries) is :mod:`cryptoforecast.data.sources.coingecko`.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from cryptoforecast.data.schema import MAX_EPOCH_MS, MIN_EPOCH_MS, stamp
from cryptoforecast.exceptions import SourceError

__all__ = ["parse_catalogue", "parse_market_chart"]

_SERIES = (("prices", "close"), ("total_volumes", "volume"), ("market_caps", "market_cap"))
_DAY_MS = 86_400_000


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def parse_market_chart(payload: Any, label: str) -> pd.DataFrame:
    """Check a ``market_chart/range`` answer and return daily candles (``close volume market_cap``).

    The trailing "now" point is dropped; every other point must be at 00:00 UTC. Each point at
    day ``D`` becomes the candle opened at ``D - 1 day``. A bad field raises :class:`SourceError`
    naming the list, the position and the value.
    """
    if not isinstance(payload, dict):
        raise SourceError(
            f"{label}: expected a JSON object with prices, market_caps and total_volumes, got "
            f"{type(payload).__name__} ({str(payload)[:120]})"
        )
    missing = [key for key, _ in _SERIES if not isinstance(payload.get(key), list)]
    if missing:
        raise SourceError(
            f"{label}: the answer has no list {missing} (keys received: {sorted(payload)}). "
            "Check base_url points at the CoinGecko API v3."
        )
    columns: dict[str, list[float]] = {}
    times: list[int] | None = None
    for key, column in _SERIES:
        stamps: list[int] = []
        values: list[float] = []
        for pos, point in enumerate(payload[key]):
            if not isinstance(point, list) or len(point) != 2:
                raise SourceError(
                    f"{label}: {key}[{pos}] should be [ms, value], got {str(point)[:80]}"
                )
            ms, raw = point
            if isinstance(ms, float) and ms.is_integer():
                ms = int(ms)
            if (
                not isinstance(ms, int)
                or isinstance(ms, bool)
                or not MIN_EPOCH_MS <= ms <= MAX_EPOCH_MS
            ):
                raise SourceError(
                    f"{label}: {key}[{pos}][0] = {ms!r:.40} is not a time in ms from 1970 to 2100"
                )
            if stamps and ms <= stamps[-1]:
                raise SourceError(
                    f"{label}: {key}[{pos}] time {stamp(ms)} is not after the previous point "
                    f"({stamp(stamps[-1])}); points must be sorted and unique"
                )
            number = _number(raw)
            if number is None and not (column == "market_cap" and raw is None):
                raise SourceError(
                    f"{label}: {key}[{pos}] ({stamp(ms)}) value = {raw!r} is not a finite number"
                )
            stamps.append(ms)
            values.append(float("nan") if number is None else number)
        if times is None:
            times = stamps
        elif stamps != times:
            where = next(
                (i for i, (a, b) in enumerate(zip(stamps, times, strict=False)) if a != b),
                min(len(stamps), len(times)),
            )
            raise SourceError(
                f"{label}: {key} and prices disagree on the times at position {where} "
                f"({len(stamps)} vs {len(times)} points)"
            )
        columns[column] = values
    assert times is not None
    keep = list(range(len(times)))
    if keep and times[-1] % _DAY_MS != 0:
        keep.pop()  # the trailing "now" point is not a daily close
    for pos in keep:
        if times[pos] % _DAY_MS != 0:
            raise SourceError(
                f"{label}: prices[{pos}] at {stamp(times[pos])} is not at 00:00 UTC; daily points "
                "need a range of more than 90 days (hourly points come back for shorter ranges)"
            )
    index = pd.DatetimeIndex(
        pd.to_datetime([times[p] - _DAY_MS for p in keep], unit="ms", utc=True), name="timestamp"
    )
    return pd.DataFrame(
        {col: [columns[col][p] for p in keep] for _, col in _SERIES}, index=index, dtype="float64"
    )


def parse_catalogue(payload: Any) -> list[dict[str, str]]:
    """Check a ``/coins/list`` answer and return ``{id, symbol, name}`` rows."""
    if not isinstance(payload, list):
        raise SourceError(
            f"CoinGecko /coins/list: expected a JSON array, got {type(payload).__name__}"
        )
    rows = []
    for pos, item in enumerate(payload):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not isinstance(item.get("symbol"), str)
        ):
            raise SourceError(
                f"CoinGecko /coins/list: entry [{pos}] lacks string 'id'/'symbol': {str(item)[:80]}"
            )
        rows.append({"id": item["id"], "symbol": item["symbol"], "name": str(item.get("name", ""))})
    return rows
