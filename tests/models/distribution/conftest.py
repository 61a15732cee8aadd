"""Snapshot candles (daily and 4h) for the distribution tests."""

from __future__ import annotations

import pandas as pd
import pytest

from cryptoforecast.data import load_ohlcv
from cryptoforecast.models.distribution import MarketData


@pytest.fixture(scope="session")
def btc_market() -> MarketData:
    """The last 1,000 days of bitcoin, with their 4h candles."""
    daily = load_ohlcv("BTCUSDT").iloc[-1000:]
    intraday = load_ohlcv("BTCUSDT", interval="4h")
    intraday = intraday.loc[intraday.index >= daily.index[0]]
    return MarketData(daily, intraday)


def perturb_after(market: MarketData, t: pd.Timestamp, seed: int = 0) -> MarketData:
    """The same candles up to ``t``; every candle after it (daily and 4h) scaled at random."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def shake(frame: pd.DataFrame, after: pd.Series) -> pd.DataFrame:
        out = frame.copy()
        k = int(after.sum())
        factor = np.exp(np.cumsum(rng.normal(0, 0.05, k)))
        for col in ("open", "high", "low", "close"):
            out.loc[after, col] = out.loc[after, col].to_numpy() * factor
        return out

    daily = shake(market.daily, market.daily.index > t)
    intraday = None
    if market.intraday is not None:
        intraday = shake(market.intraday, market.intraday.index >= t + pd.Timedelta(days=1))
    return MarketData(daily, intraday)
