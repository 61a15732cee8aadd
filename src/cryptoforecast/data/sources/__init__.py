"""Candle sources. Backends do raw I/O only; :func:`cryptoforecast.data.load_ohlcv` validates."""

from __future__ import annotations

from cryptoforecast.data.sources.base import CandleSource
from cryptoforecast.data.sources.binance import BinanceSource
from cryptoforecast.data.sources.coingecko import CoinGeckoSource
from cryptoforecast.data.sources.csv import CSVSource
from cryptoforecast.data.sources.snapshot import SnapshotSource

__all__ = ["BinanceSource", "CSVSource", "CandleSource", "CoinGeckoSource", "SnapshotSource"]
