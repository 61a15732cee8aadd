"""Fixtures for the feature tests: embedded candles, loaded once per session."""

from __future__ import annotations

import pandas as pd
import pytest

ASSET_IDS = (
    "bitcoin",
    "ethereum",
    "binancecoin",
    "solana",
    "cardano",
    "dogecoin",
    "avalanche-2",
    "litecoin",
)


@pytest.fixture(scope="session")
def daily() -> dict[str, pd.DataFrame]:
    """Daily candles of the 8 embedded assets."""
    from cryptoforecast.data import load_ohlcv

    return {a: load_ohlcv(a) for a in ASSET_IDS}


@pytest.fixture(scope="session")
def btc_4h() -> pd.DataFrame:
    """Bitcoin 4h candles (about 16,500 rows, with the exchange's real outages as gaps)."""
    from cryptoforecast.data import load_ohlcv

    return load_ohlcv("bitcoin", interval="4h")
