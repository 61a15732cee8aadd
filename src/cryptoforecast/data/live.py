"""Live sources (Binance, CoinGecko) through the local candle cache, refreshed incrementally.

A refresh reads the cached series, asks the source only for candles from the last cached one on
(that one is fetched again and checked), validates the merged series and replaces the Parquet file
atomically, all under the cache's file lock. Everything that can fail (HTTP, payload checks,
validation) happens before the write, so a failed refresh leaves the previous file byte for byte.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.assets import Asset
from cryptoforecast.data.cache import CandleCache, unreadable
from cryptoforecast.data.schema import GapPolicy, check_interval, validate_candles
from cryptoforecast.data.sources.binance import BinanceSource
from cryptoforecast.data.sources.coingecko import CoinGeckoSource
from cryptoforecast.exceptions import CacheError, DataError, SourceError

__all__ = [
    "INTRADAY_INTERVAL",
    "LIVE_SOURCE_NAMES",
    "RefreshResult",
    "companion_intervals",
    "load_live",
    "make_source",
    "refresh_series",
]

_LIVE_SOURCES: dict[str, type[BinanceSource] | type[CoinGeckoSource]] = {
    "binance": BinanceSource,
    "coingecko": CoinGeckoSource,
}
LIVE_SOURCE_NAMES = tuple(_LIVE_SOURCES)
#: the candles kept beside a daily series where its source has them: the distributions that
#: read realised variance are fitted, and serve, on them
INTRADAY_INTERVAL = "4h"
_log = logging.getLogger(__name__)


def companion_intervals(source: str, interval: str) -> tuple[str, ...]:
    """The series kept beside ``source``'s ``interval`` candles of a coin: its 4h candles for a
    daily series of a live source that has them (Binance); none for CoinGecko (daily closes
    only), the embedded snapshot and CSV files (fixed histories: nothing is fetched) or a 4h
    series."""
    cls = _LIVE_SOURCES.get(source)
    if interval != "1d" or cls is None or INTRADAY_INTERVAL not in cls.intervals:
        return ()
    return (INTRADAY_INTERVAL,)


def make_source(source: str, **options: Any) -> Any:
    """Build the live source ``source`` (``"binance"`` or ``"coingecko"``) with ``options``.

    Options are the source's constructor arguments (``base_url``, ``client``, ``transport``,
    ``retry``, ``calls_per_minute``, ``api_key``, ...). An unknown one raises :class:`DataError`.
    """
    cls = _LIVE_SOURCES.get(source)
    if cls is None:
        raise DataError(
            f"unknown live source {source!r}; use one of {', '.join(LIVE_SOURCE_NAMES)}"
        )
    accepted = cls.option_names()
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DataError(
            f"unknown option(s) {unknown} for source={source!r}; accepted: {', '.join(accepted)}"
        )
    return cls(**options)


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did: the stored series, how many candles it added, requests sent."""

    frame: pd.DataFrame
    added: int
    requests: int
    path: Path
    written: bool


def _read_cached(
    cache: CandleCache, source: str, asset: Asset, interval: str
) -> pd.DataFrame | None:
    try:
        return cache.read(source, asset.id, interval)
    except Exception as exc:  # a corrupt or foreign file
        path = cache.path(source, asset.id, interval)
        raise CacheError(
            f"cannot read the cached {source} {asset.id} {interval} candles at {path}: {exc}. "
            "Delete the file or refresh with full=True (cryptoforecast data update --full).",
            public=unreadable(source, asset.id, interval),
        ) from exc


def _check_overlap(cached: pd.DataFrame, fresh: pd.DataFrame, source: str, label: str) -> None:
    """The last cached candle, fetched again, must agree with the cache (same endpoint, same data)."""
    last = cached.index[-1]
    if last not in fresh.index:
        return
    old, new = cached.loc[last, "close"], fresh.loc[last, "close"]
    if np.isclose(old, new, rtol=1e-9, atol=0.0):
        return
    message = (
        f"{label}: the last cached candle ({last}) has close {old!r} but the source now says "
        f"{new!r}; the cache may come from another endpoint (api.binance.com vs api.binance.us). "
        "Rebuild it with full=True (cryptoforecast data update --full)."
    )
    if source == "binance":  # closed exchange candles never change
        raise DataError(message)
    _log.info("%s; keeping the new value", message)


def refresh_series(
    asset: Asset,
    interval: str,
    source: str,
    *,
    cache: CandleCache | None = None,
    full: bool = False,
    start: Any = None,
    source_obj: Any = None,
    **source_options: Any,
) -> RefreshResult:
    """Fetch new candles for one series, merge them into the cache and return the stored series.

    Args:
        asset: the asset.
        interval: ``"1d"`` or ``"4h"`` (CoinGecko: ``"1d"`` only).
        source: ``"binance"`` or ``"coingecko"``.
        cache: the :class:`CandleCache` (default: under ``$CRYPTOFORECAST_HOME``).
        full: ignore the cached series and download the whole history again.
        start: first candle of a first (or full) download; ignored when extending a cache.
        source_obj: a ready source object (else one is built by :func:`make_source`).
        **source_options: passed to :func:`make_source`.

    Raises:
        DataError: HTTP failure, bad payload or invalid candles; the cache is left untouched.
    """
    check_interval(interval)
    cache = cache or CandleCache()
    src = source_obj if source_obj is not None else make_source(source, **source_options)
    before = getattr(src, "requests_sent", 0)
    label = f"{source} {asset.id} {interval}"
    path = cache.path(source, asset.id, interval)
    with cache.lock(source, asset.id, interval):
        cached = None if full else _read_cached(cache, source, asset, interval)
        if cached is not None and cached.empty:
            cached = None
        fetch_from = cached.index[-1] if cached is not None else start
        raw = src.fetch(asset, interval, start=fetch_from)
        if raw.empty:
            if cached is None:
                raise SourceError(
                    f"{label}: the source returned no closed candles"
                    + (f" from {start}" if start is not None else "")
                    + ". Check the asset is listed there and the start date."
                )
            merged = cached
        else:
            fresh = validate_candles(raw, interval, on_gap="drop", name=label)
            if cached is None:
                merged = fresh
            else:
                if set(fresh.columns) != set(cached.columns):
                    raise DataError(
                        f"{label}: the source now returns columns {list(fresh.columns)} but the "
                        f"cache holds {list(cached.columns)}. Rebuild with full=True."
                    )
                _check_overlap(cached, fresh, source, label)
                merged = pd.concat([cached[cached.index < fresh.index[0]], fresh[cached.columns]])
                merged = validate_candles(merged, interval, on_gap="drop", name=label)
        written = cached is None or not merged.equals(cached)
        if written:
            cache.write(merged, source, asset.id, interval)  # atomic; the lock is re-entrant
    added = len(merged) - (len(cached) if cached is not None else 0)
    requests = getattr(src, "requests_sent", 0) - before
    _log.info("%s: %d new candle(s), %d request(s)", label, added, requests)
    return RefreshResult(frame=merged, added=added, requests=requests, path=path, written=written)


def load_live(
    asset: Asset,
    interval: str,
    source: str,
    refresh: bool = False,
    on_gap: GapPolicy | None = None,
    *,
    cache: CandleCache | None = None,
    full: bool = False,
    start: Any = None,
    source_obj: Any = None,
    **source_options: Any,
) -> pd.DataFrame:
    """Candles of a live source from the local cache, refreshed first when ``refresh`` is true.

    A series that is not cached yet is downloaded whatever ``refresh`` says. ``on_gap`` defaults to
    ``"raise"`` for daily candles and ``"drop"`` for 4h ones (exchanges have real outages). Other
    keywords go to :func:`refresh_series` / the source (``base_url=``, ``client=``, ``retry=``...).
    """
    check_interval(interval)
    policy: GapPolicy = on_gap or ("raise" if interval == "1d" else "drop")
    cache = cache or CandleCache()
    frame = None if (refresh or full) else _read_cached(cache, source, asset, interval)
    if frame is None or frame.empty:
        frame = refresh_series(
            asset,
            interval,
            source,
            cache=cache,
            full=full,
            start=start,
            source_obj=source_obj,
            **source_options,
        ).frame
    return validate_candles(frame, interval, on_gap=policy, name=f"{source} {asset.id} {interval}")
