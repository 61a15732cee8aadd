"""Market data: assets, the candle schema and validator, sources, the cache and ``load_ohlcv``."""

from __future__ import annotations

from cryptoforecast.assets import ASSETS, Asset, resolve_asset, snapshot_assets
from cryptoforecast.data.cache import CandleCache
from cryptoforecast.data.loader import SOURCES, load_ohlcv
from cryptoforecast.data.schema import INTERVALS, OHLCV_COLUMNS, find_gaps, validate_candles

__all__ = [
    "ASSETS",
    "INTERVALS",
    "OHLCV_COLUMNS",
    "SOURCES",
    "Asset",
    "CandleCache",
    "find_gaps",
    "load_ohlcv",
    "resolve_asset",
    "snapshot_assets",
    "validate_candles",
]
