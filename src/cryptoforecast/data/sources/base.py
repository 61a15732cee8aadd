"""The source protocol: raw candles for one asset and interval, in the candle schema."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from cryptoforecast.assets import Asset
from cryptoforecast.data.schema import MAX_EPOCH_MS, MIN_EPOCH_MS
from cryptoforecast.exceptions import DataError

__all__ = ["CandleSource", "read_candle_csv"]


@runtime_checkable
class CandleSource(Protocol):
    """Fetch raw candles; the loader validates them (backends do I/O only)."""

    name: str

    def fetch(
        self,
        asset: Asset,
        interval: str,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame: ...


def _epoch_ms(times: pd.Series, label: str, column: str) -> pd.DatetimeIndex:
    """Epoch milliseconds as UTC times; seconds and out-of-range values get a message saying so."""
    values = pd.to_numeric(times, errors="coerce")
    if np.isinf(values).any():
        raise DataError(
            f"{label}: column {column!r} holds an infinite time; use epoch milliseconds or "
            "ISO 8601 times"
        )
    finite = values[np.isfinite(values)]
    if len(finite):
        low, high = float(finite.min()), float(finite.max())
        if low >= 1e8 and high < 1e11:  # 1973..5138 in seconds, but Jan-Feb 1970 in ms
            raise DataError(
                f"{label}: column {column!r} looks like epoch seconds (e.g. {low:.0f} = "
                f"{pd.Timestamp(low, unit='s', tz='UTC')}); the format wants epoch milliseconds: "
                "multiply the column by 1000, or write ISO 8601 times"
            )
        if low < MIN_EPOCH_MS or high > MAX_EPOCH_MS:
            bad = low if low < MIN_EPOCH_MS else high
            raise DataError(
                f"{label}: column {column!r} holds {bad:.0f}, outside epoch milliseconds from "
                f"{MIN_EPOCH_MS} (1970) to {MAX_EPOCH_MS} (2100); check the unit and the value"
            )
    try:
        return pd.DatetimeIndex(pd.to_datetime(values, unit="ms", utc=True))
    except (ValueError, OverflowError) as exc:  # OutOfBoundsDatetime is a ValueError
        raise DataError(f"{label}: column {column!r} is not epoch milliseconds: {exc}") from None


def read_candle_csv(file: object, label: str, compression: str = "infer") -> pd.DataFrame:
    """Read a CSV in the shared format: ``open_time`` (ISO 8601 UTC or epoch ms) + OHLCV columns."""
    try:
        raw = pd.read_csv(file, compression=compression)  # type: ignore[call-overload]
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read candles from {label}: {exc}") from exc
    names = [str(c).lower().strip() for c in raw.columns]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        both = [str(c) for c in raw.columns if str(c).lower().strip() in clashes]
        raise DataError(
            f"{label}: columns {both} differ only in case or spaces and would all be read as "
            f"{clashes}; keep one of each (column names are case-insensitive)"
        )
    cols = {c.lower().strip(): c for c in raw.columns}
    time_col = next(
        (cols[c] for c in ("open_time", "timestamp", "date", "time") if c in cols), None
    )
    if time_col is None:
        raise DataError(
            f"{label}: no time column; expected 'open_time' (ISO 8601 UTC or epoch milliseconds), "
            f"got columns {list(raw.columns)}"
        )
    times = raw[time_col]
    if pd.api.types.is_bool_dtype(times):
        raise DataError(f"{label}: column {time_col!r} holds booleans, not ISO 8601 or epoch ms")
    if pd.api.types.is_numeric_dtype(times):
        index = _epoch_ms(times, label, str(time_col))
    else:
        try:
            index = pd.to_datetime(times, utc=True, format="ISO8601")
        except (ValueError, TypeError, OverflowError) as exc:  # OutOfBoundsDatetime too
            raise DataError(
                f"{label}: column {time_col!r} is not ISO 8601 or epoch ms: {str(exc)[:200]}"
            ) from None
    frame = raw.drop(columns=[time_col])
    frame.columns = [c.lower().strip() for c in frame.columns]
    frame.index = pd.DatetimeIndex(index, name="timestamp")
    return frame
