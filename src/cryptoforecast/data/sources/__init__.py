"""Candle sources. Backends do raw I/O only; :func:`cryptoforecast.data.load_ohlcv` validates."""

from __future__ import annotations

from cryptoforecast.data.sources.base import CandleSource
from cryptoforecast.data.sources.csv import CSVSource
from cryptoforecast.data.sources.snapshot import SnapshotSource

__all__ = ["BinanceSource", "CSVSource", "CandleSource", "CoinGeckoSource", "SnapshotSource"]


def __getattr__(name: str) -> object:
    """Import the live sources (and httpx) only when they are first used."""
    if name == "BinanceSource":
        from cryptoforecast.data.sources.binance import BinanceSource

        return BinanceSource
    if name == "CoinGeckoSource":
        from cryptoforecast.data.sources.coingecko import CoinGeckoSource

        return CoinGeckoSource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
