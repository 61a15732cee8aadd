"""The one candle schema every source returns, and the one validator every frame passes.

Schema: index ``timestamp`` (tz-aware UTC, sorted, unique); float64 columns ``open high low close
volume`` (CoinGecko candles carry ``close volume market_cap`` only), plus ``quote_volume`` and
``trades`` where the source has them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError

__all__ = [
    "INTERVALS",
    "MAX_EPOCH_MS",
    "MAX_PRICE",
    "MIN_EPOCH_MS",
    "OHLCV_COLUMNS",
    "OPTIONAL_COLUMNS",
    "GapPolicy",
    "check_interval",
    "stamp",
    "find_gaps",
    "validate_candles",
]

OHLCV_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
OPTIONAL_COLUMNS: tuple[str, ...] = ("quote_volume", "trades", "market_cap")
INTERVALS: dict[str, pd.Timedelta] = {"1d": pd.Timedelta(days=1), "4h": pd.Timedelta(hours=4)}
GapPolicy = Literal["raise", "drop", "ffill"]
#: candle open times a source may send, in epoch milliseconds: 1970-01-01 .. 2100-01-01
MIN_EPOCH_MS = 0
MAX_EPOCH_MS = 4_102_444_800_000
#: no asset trades above this (in the quote currency); larger values are corrupt data, and they
#: would overflow the features' arithmetic
MAX_PRICE = 1e12


def check_interval(interval: str) -> pd.Timedelta:
    """Return the spacing of ``interval``; raise :class:`DataError` for an unknown one."""
    try:
        return INTERVALS[interval]
    except (KeyError, TypeError):
        raise DataError(
            f"unknown interval {interval!r}; use one of {', '.join(INTERVALS)}"
        ) from None


def _fail(rule: str, df: pd.DataFrame, mask: np.ndarray | pd.Series, fix: str) -> None:
    bad = df.index[np.asarray(mask, dtype=bool)]
    if len(bad):
        shown = ", ".join(str(t) for t in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise DataError(f"{rule} at {shown}{more} ({len(bad)} row(s)). {fix}")


def find_gaps(index: pd.DatetimeIndex, interval: str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Return ``(last_present, next_present)`` pairs where candles are missing."""
    step = check_interval(interval)
    if len(index) < 2:
        return []
    diffs = index[1:] - index[:-1]
    where = np.flatnonzero(diffs > step)
    return [(index[i], index[i + 1]) for i in where]


def validate_candles(
    df: pd.DataFrame,
    interval: str = "1d",
    on_gap: GapPolicy = "raise",
    name: str = "candles",
) -> pd.DataFrame:
    """Validate ``df`` against the candle schema and return a clean copy.

    Checks: a UTC ``DatetimeIndex``, sorted and unique; numeric columns as float64; no NaN or
    non-positive prices; ``high >= max(open, close)`` and ``low <= min(open, close)``; volume >= 0;
    regular spacing for ``interval``. Missing candles are handled by ``on_gap``: ``"raise"``
    (default) reports them, ``"drop"`` keeps the series as it is, ``"ffill"`` inserts the missing
    candles at the previous close with zero volume. Any failure raises :class:`DataError` naming
    the timestamp and the rule.
    """
    step = check_interval(interval)
    if on_gap not in ("raise", "drop", "ffill"):
        raise DataError(f"on_gap must be 'raise', 'drop' or 'ffill', got {on_gap!r}")
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{name}: expected a pandas DataFrame, got {type(df).__name__}")
    if df.empty:
        raise DataError(
            f"{name}: no candles (empty frame). Check the id, the date range or the file."
        )
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(
            f"{name}: index must be a DatetimeIndex of candle open times, got {type(df.index).__name__}"
        )
    has_ohlc = all(c in df.columns for c in ("open", "high", "low"))
    required = ("close", "volume")
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError(
            f"{name}: missing column(s) {missing}; candles need at least close and volume"
        )
    partial = [c for c in ("open", "high", "low") if c in df.columns]
    if partial and not has_ohlc:
        raise DataError(
            f"{name}: has {partial} but not all of open, high, low; give all three or none"
        )

    out = df.copy()
    idx = out.index
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    out.index = idx.rename("timestamp")
    if out.index.hasnans:
        _fail(
            f"{name}: missing timestamp",
            out,
            out.index.isna(),
            "Every row needs a candle open time.",
        )

    dup = out.index.duplicated(keep=False)
    _fail(f"{name}: duplicate timestamp", out, dup, "Remove the repeated candles.")
    if not out.index.is_monotonic_increasing:
        order = np.r_[False, np.asarray(out.index[1:] < out.index[:-1])]
        _fail(f"{name}: timestamps out of order", out, order, "Sort the candles by open time.")

    cols = [c for c in (*OHLCV_COLUMNS, *OPTIONAL_COLUMNS) if c in out.columns]
    for col in cols:
        try:
            out[col] = pd.to_numeric(out[col], errors="raise").astype("float64")
        except (ValueError, TypeError) as exc:
            raise DataError(f"{name}: column {col!r} is not numeric ({exc})") from None
    out = out[cols]

    price_cols = [c for c in ("open", "high", "low", "close") if c in out.columns]
    for col in price_cols:
        _fail(f"{name}: {col} is NaN", out, out[col].isna(), "Fill or drop the incomplete candles.")
        _fail(f"{name}: {col} is not finite", out, np.isinf(out[col]), "Fix the value.")
        _fail(f"{name}: {col} <= 0", out, out[col] <= 0, "Prices must be positive.")
        _fail(
            f"{name}: {col} > {MAX_PRICE:g}",
            out,
            out[col] > MAX_PRICE,
            "No asset trades that high: the value is corrupt (check the column and its unit).",
        )
    _fail(f"{name}: volume is NaN", out, out["volume"].isna(), "Use 0 for no volume.")
    _fail(f"{name}: volume is not finite", out, np.isinf(out["volume"]), "Fix the value.")
    _fail(f"{name}: volume < 0", out, out["volume"] < 0, "Volume must be >= 0.")
    if has_ohlc:
        tol = 1e-9
        hi = out[["open", "close"]].max(axis=1)
        lo = out[["open", "close"]].min(axis=1)
        _fail(
            f"{name}: high < max(open, close)",
            out,
            out["high"] < hi * (1 - tol),
            "Check the high column.",
        )
        _fail(
            f"{name}: low > min(open, close)",
            out,
            out["low"] > lo * (1 + tol),
            "Check the low column.",
        )
        _fail(f"{name}: high < low", out, out["high"] < out["low"], "Check the high/low columns.")

    off_grid = (out.index - out.index.normalize()) % step != pd.Timedelta(0)
    _fail(
        f"{name}: timestamp not on the {interval} grid",
        out,
        off_grid,
        f"Candle open times must be multiples of {interval} from midnight UTC.",
    )

    gaps = find_gaps(out.index, interval)
    if gaps and on_gap == "raise":
        shown = "; ".join(
            f"after {a} (next candle {b}, {int((b - a) / step) - 1} missing)" for a, b in gaps[:5]
        )
        more = f" and {len(gaps) - 5} more gaps" if len(gaps) > 5 else ""
        raise DataError(
            f"{name}: missing {interval} candles {shown}{more}. "
            "Pass on_gap='ffill' to fill them at the previous close, or on_gap='drop' to keep the gaps."
        )
    if gaps and on_gap == "ffill":
        full = pd.date_range(out.index[0], out.index[-1], freq=step, tz="UTC", name="timestamp")
        filled = out.reindex(full)
        close = filled["close"].ffill()
        for col in ("open", "high", "low"):
            if col in filled.columns:
                filled[col] = filled[col].fillna(close)
        filled["close"] = close
        for col in ("volume", "quote_volume", "trades"):
            if col in filled.columns:
                filled[col] = filled[col].fillna(0.0)
        if "market_cap" in filled.columns:
            filled["market_cap"] = filled["market_cap"].ffill()
        out = filled
    return out


def stamp(ms: object) -> str:
    """An epoch-milliseconds value as ISO 8601 for a message; never raises (bad values as-is)."""
    try:
        return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat()  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return f"{ms!r} ms"
