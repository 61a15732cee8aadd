"""Market data: assets, the candle schema and validator, sources, the cache, ``load_ohlcv`` and
the import of the user's own coins."""

from __future__ import annotations

from cryptoforecast.data.cache import (
    CACHE_SHARING_FIX,
    CandleCache,
    atomic_write_bytes,
    shared_file_lock,
)
from cryptoforecast.data.live import (
    INTRADAY_INTERVAL,
    LIVE_SOURCE_NAMES,
    companion_intervals,
    refresh_series,
)
from cryptoforecast.data.loader import LIVE_SOURCES, SOURCES, load_ohlcv
from cryptoforecast.data.schema import (
    INTERVALS,
    OHLCV_COLUMNS,
    check_interval,
    find_gaps,
    validate_candles,
)
from cryptoforecast.data.times import as_of_instant, parse_time
from cryptoforecast.data.user_coins import FILE_SOURCE, import_coin, import_coins

__all__ = [
    "INTERVALS",
    "OHLCV_COLUMNS",
    "SOURCES",
    "CandleCache",
    "FILE_SOURCE",
    "INTRADAY_INTERVAL",
    "companion_intervals",
    "find_gaps",
    "import_coin",
    "import_coins",
    "load_ohlcv",
    "validate_candles",
    "CACHE_SHARING_FIX",
    "LIVE_SOURCES",
    "LIVE_SOURCE_NAMES",
    "as_of_instant",
    "atomic_write_bytes",
    "check_interval",
    "parse_time",
    "refresh_series",
    "shared_file_lock",
]
