"""The forecast target and the conversions between log returns and prices.

Every model predicts the h-step log return ``log(close[t+h] / close[t])`` made at origin ``t``;
the price forecast is ``close[t] * exp(prediction)``.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError

__all__ = ["log_return_to_price", "make_target", "price_to_log_return", "target_name"]

ArrayLike = TypeVar("ArrayLike", float, np.ndarray, pd.Series)


def target_name(horizon: int) -> str:
    """Column name of the ``horizon``-step target, e.g. ``target_h7``."""
    return f"target_h{horizon}"


def _check_horizon(horizon: object) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise DataError(f"horizon must be a whole number of candles >= 1, got {horizon!r}")
    return int(horizon)


def make_target(ohlcv: pd.DataFrame | pd.Series, horizon: int) -> pd.Series:
    """The target ``log(close[t + horizon] / close[t])``, NaN for the last ``horizon`` rows.

    ``ohlcv`` is a candle frame with a ``close`` column, or a close series. Raises
    :class:`DataError` for a bad horizon or non-positive / missing closes.
    """
    h = _check_horizon(horizon)
    close = ohlcv["close"] if isinstance(ohlcv, pd.DataFrame) else ohlcv
    if not isinstance(close, pd.Series):
        raise DataError(
            f"make_target needs candles with a close column, got {type(ohlcv).__name__}"
        )
    values = close.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"close must be positive and finite, got {float(values[i])!r} at {close.index[i]}; "
            "fix or drop those candles"
        )
    out = np.full(len(values), np.nan)
    if len(values) > h:
        out[:-h] = np.log(values[h:] / values[:-h])
    return pd.Series(out, index=close.index, name=target_name(h))


def log_return_to_price(close_at_origin: ArrayLike, log_return: ArrayLike) -> ArrayLike:
    """Price implied by a log return from the origin close: ``close * exp(log_return)``."""
    return close_at_origin * np.exp(log_return)  # type: ignore[return-value]


def price_to_log_return(close_at_origin: ArrayLike, price: ArrayLike) -> ArrayLike:
    """Log return from the origin close to ``price``: ``log(price / close)``; both must be > 0."""
    for name, value in (("close_at_origin", close_at_origin), ("price", price)):
        arr = np.asarray(value, dtype=np.float64)
        bad = ~(arr > 0)
        if bad.any():
            first = float(arr.reshape(-1)[np.flatnonzero(bad.reshape(-1))[0]])
            raise DataError(
                f"{name} must be positive to take a log return, got {first!r} "
                f"({int(bad.sum())} bad value(s)); drop or fix those prices"
            )
    return np.log(price / close_at_origin)  # type: ignore[return-value]
