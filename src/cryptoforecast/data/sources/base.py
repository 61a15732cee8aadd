"""The source protocol: raw candles for one asset and interval, in the candle schema."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pandas as pd

from cryptoforecast.data.assets import Asset

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


def read_candle_csv(file: object, label: str, compression: str = "infer") -> pd.DataFrame:
    """Read a CSV in the shared format: ``open_time`` (ISO 8601 UTC or epoch ms) + OHLCV columns."""
    from cryptoforecast.exceptions import DataError

    try:
        raw = pd.read_csv(file, compression=compression)  # type: ignore[call-overload]
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read candles from {label}: {exc}") from exc
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
    if pd.api.types.is_numeric_dtype(times):
        index = pd.to_datetime(times, unit="ms", utc=True)
    else:
        try:
            index = pd.to_datetime(times, utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"{label}: column {time_col!r} is not ISO 8601 or epoch ms: {exc}"
            ) from None
    frame = raw.drop(columns=[time_col])
    frame.columns = [c.lower().strip() for c in frame.columns]
    frame.index = pd.DatetimeIndex(index, name="timestamp")
    return frame
