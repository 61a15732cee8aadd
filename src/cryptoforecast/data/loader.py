"""``load_ohlcv``: the one public way to get candles, whatever the source."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.assets import Asset, file_asset, resolve_asset
from cryptoforecast.data.live import load_live
from cryptoforecast.data.schema import GapPolicy, check_interval, validate_candles
from cryptoforecast.data.sources.csv import CSVSource
from cryptoforecast.data.sources.snapshot import SnapshotSource
from cryptoforecast.data.times import as_of_instant, parse_time
from cryptoforecast.data.user_coins import imported_candles
from cryptoforecast.exceptions import DataError

__all__ = ["LIVE_SOURCES", "SOURCES", "load_ohlcv"]

LIVE_SOURCES = ("binance", "coingecko")
SOURCES = ("snapshot", "csv", *LIVE_SOURCES)


@lru_cache(maxsize=64)
def _snapshot_frame(crypto_id: str, interval: str) -> pd.DataFrame:
    asset = resolve_asset(crypto_id)
    raw = SnapshotSource().fetch(asset, interval)
    # The 4h snapshot keeps real exchange outages as they are: gaps are expected there.
    policy: GapPolicy = "drop" if interval != "1d" else "raise"
    frame = validate_candles(raw, interval, on_gap=policy, name=f"snapshot {asset.id} {interval}")
    return frame.copy()  # one block of floats: every later copy and digest of a cut is one memcpy


def load_ohlcv(
    crypto_id: str | Asset,
    days: int | None = None,
    interval: str = "1d",
    source: str = "snapshot",
    end: Any = None,
    path: str | Path | None = None,
    on_gap: GapPolicy | None = None,
    refresh: bool = False,
    as_of: Any = None,
    **source_options: Any,
) -> pd.DataFrame:
    """Load validated candles for ``crypto_id``.

    Args:
        crypto_id: CoinGecko-style id (``bitcoin``) or symbol (``BTC``, ``BTCUSDT``).
        days: keep the last ``days`` candles up to ``end`` (inclusive); ``None`` keeps all.
        interval: ``"1d"`` or ``"4h"``.
        source: ``"snapshot"`` (embedded, default), ``"csv"`` (the file ``path=``, under any
            id; without it, the candles of a coin imported with ``cryptoforecast data import``),
            ``"binance"`` or ``"coingecko"`` (live, through the local cache).
        end: the last candle to keep: candles dated at or before this time (a date means every
            candle of that day), so a backtest or a training window can end on a given candle.
            The forms of :mod:`cryptoforecast.data.times`.
        path: a CSV file of candles for ``source="csv"``; ``crypto_id`` may then be any
            lower-case id (it names the candles; nothing is catalogued).
        on_gap: what to do with missing candles: ``"raise"`` (default; the embedded 4h data
            defaults to ``"drop"`` since it keeps real exchange outages), ``"drop"``, ``"ffill"``.
        refresh: live sources only: fetch new candles before reading the cache.
        as_of: keep only the candles known at this time, i.e. closed at or before it: a date
            means that day's close, a date-time the last candle closed by then (a candle dated
            ``t`` closes at ``t + interval``); see :func:`~cryptoforecast.data.times.as_of_instant`.
            Not with ``end``.
        **source_options: live sources only: ``base_url=``, ``client=``, ``retry=``, ``api_key=``
            ... (see :func:`cryptoforecast.data.live.load_live`).

    Returns:
        A frame indexed by UTC ``timestamp`` with float64 ``open high low close volume`` (plus
        ``quote_volume`` and ``trades`` where the source has them).
    """
    if path is not None and source != "csv":
        raise DataError(
            f"path= is a CSV file of candles, read by source='csv', not source={source!r}; "
            "pass source='csv' with it, or drop path="
        )
    asset = file_asset(crypto_id) if path is not None else resolve_asset(crypto_id)
    check_interval(interval)
    if days is not None and (
        isinstance(days, bool) or not isinstance(days, int | np.integer) or days <= 0
    ):
        raise DataError(f"days must be a positive whole number of candles, got {days!r}")
    if source not in SOURCES:
        raise DataError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")
    if source not in LIVE_SOURCES and (refresh or source_options):
        given = (["refresh=True"] if refresh else []) + [f"{k}=" for k in sorted(source_options)]
        raise DataError(
            f"{', '.join(given)} only apply to the live sources ({', '.join(LIVE_SOURCES)}), "
            f"not to source={source!r}, whose candles end where its data ends. For current "
            f"candles pass source='binance' (or 'coingecko'), e.g. "
            f"load_ohlcv({asset.id!r}, source='binance', refresh=True)."
        )
    if on_gap is not None and on_gap not in ("raise", "drop", "ffill"):
        raise DataError(f"on_gap must be 'raise', 'drop' or 'ffill', got {on_gap!r}")
    if end is not None and as_of is not None:
        raise DataError(
            f"give end= (the last candle to keep) or as_of= (what was known then), not both; "
            f"got end={end!r} and as_of={as_of!r}"
        )
    end_ts, date_only = parse_time(end) if end is not None else (None, False)
    known_at = as_of_instant(as_of) if as_of is not None else None

    shared = False  # a frame kept for every caller: copied once cut, so none can change it
    if source == "snapshot":
        frame = _snapshot_frame(asset.id, interval)
        if on_gap == "ffill" or (on_gap == "raise" and interval != "1d"):
            frame = validate_candles(frame, interval, on_gap=on_gap, name=f"snapshot {asset.id}")
        shared = True
    elif source == "csv":
        if path is None:
            frame = imported_candles(asset.id, interval)
            if on_gap is not None and on_gap != "raise":
                frame = validate_candles(frame, interval, on_gap=on_gap, name=f"csv {asset.id}")
            shared = True
        else:
            raw = CSVSource(path).fetch(asset, interval)
            frame = validate_candles(raw, interval, on_gap=on_gap or "raise", name=str(path))
    else:
        frame = load_live(asset, interval, source, refresh=refresh, on_gap=on_gap, **source_options)

    # validated candles are sorted and unique: each bound cuts at one position
    if end_ts is not None:
        if date_only:
            cut = frame.index.searchsorted(end_ts.normalize() + pd.Timedelta(days=1), "left")
        else:
            cut = frame.index.searchsorted(end_ts, "right")
        frame = frame.iloc[:cut]
        if frame.empty:
            raise DataError(f"no {interval} candles for {asset.id!r} on or before end={end!r}")
    if known_at is not None:  # closed by then: t + interval <= known_at
        frame = frame.iloc[: frame.index.searchsorted(known_at - check_interval(interval), "right")]
        if frame.empty:
            raise DataError(
                f"no {interval} candles for {asset.id!r} had closed by as_of={as_of!r} "
                f"({known_at.isoformat()}); give a later as_of"
            )
    if days is not None:
        frame = frame.iloc[-int(days) :]
    if shared:
        frame = frame.copy()
    frame.attrs.update({"crypto_id": asset.id, "interval": interval, "source": source})
    return frame
