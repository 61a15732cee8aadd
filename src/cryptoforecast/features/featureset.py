"""``build_features``: candles in, a scale-free, leak-free feature matrix out.

Every value in row ``t`` is computed from candles up to and including ``t`` (the close of the
origin candle is known when the forecast is made) and from no more than the feature's lookback
(at most :data:`~cryptoforecast.features.indicators.MAX_WINDOW` candles). The first
``warmup_rows()`` rows are NaN; after them there is no NaN and no infinity. Because no value
depends on candles older than its window, features computed at serving time from any history of
at least ``warmup_rows() + 1`` candles equal the training-time ones (to float round-off).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import FeatureError
from cryptoforecast.features import indicators as ind
from cryptoforecast.features.catalog import FEATURE_SETS, feature_names, specs_for

__all__ = ["build_features", "detect_feature_set", "min_history_rows", "warmup_rows"]

_PRICE_COLUMNS = ("open", "high", "low", "close")
Arrays = dict[str, np.ndarray]


def detect_feature_set(ohlcv: pd.DataFrame) -> str:
    """The richest feature set ``ohlcv`` has columns for.

    One of ``ohlcv_trades``, ``ohlcv``, ``close_volume`` (see :data:`FEATURE_SETS`).
    """
    cols = set(getattr(ohlcv, "columns", ()))
    for name, needed in FEATURE_SETS.items():
        if cols.issuperset(needed):
            return name
    missing = [c for c in FEATURE_SETS["close_volume"] if c not in cols]
    raise FeatureError(
        f"candles are missing column(s) {missing} (got {sorted(map(str, cols))}); "
        "features need at least close and volume, plus open, high, low for the full set"
    )


def _check_index(index: Any, name: str) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        raise FeatureError(
            f"{name}: index must be a DatetimeIndex of candle times, got {type(index).__name__}; "
            "load candles with cryptoforecast.data.load_ohlcv or set the timestamp as index"
        )
    if len(index) > 1:
        steps = np.asarray(index[1:] > index[:-1])
        if not steps.all():
            bad = index[1:][~steps][0]
            raise FeatureError(
                f"{name}: index is not strictly increasing (first problem at {bad}); "
                "sort the candles by time and drop duplicates"
            )
    return index


def _column(df: pd.DataFrame, col: str, name: str, positive: bool) -> np.ndarray:
    try:
        arr = df[col].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FeatureError(f"{name}: column {col!r} is not numeric ({exc})") from None
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else (arr < 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        rule = "positive" if positive else "finite and >= 0"
        raise FeatureError(
            f"{name}: column {col!r} must be {rule}, got {float(arr[i])!r} at {df.index[i]} "
            f"({int(bad.sum())} bad row(s)); fix or drop those candles (validate_candles helps)"
        )
    return arr


def _inputs(ohlcv: pd.DataFrame, feature_set: str, name: str) -> Arrays:
    if not isinstance(ohlcv, pd.DataFrame):
        raise FeatureError(
            f"{name}: expected a pandas DataFrame of candles, got {type(ohlcv).__name__}"
        )
    missing = [c for c in FEATURE_SETS[feature_set] if c not in ohlcv.columns]
    if missing:
        raise FeatureError(
            f"{name}: feature_set {feature_set!r} needs column(s) {missing}, "
            f"got {list(map(str, ohlcv.columns))}; "
            "pass feature_set=None to pick what the candles allow"
        )
    _check_index(ohlcv.index, name)
    return {
        col: _column(ohlcv, col, name, positive=col in _PRICE_COLUMNS)
        for col in FEATURE_SETS[feature_set]
    }


def _median_step(index: pd.DatetimeIndex) -> pd.Timedelta | None:
    """The typical candle length of ``index`` (median spacing), ``None`` for fewer than 2 rows."""
    if len(index) < 2:
        return None
    return pd.Timedelta(pd.Series(index).diff().median())


def _market_lag(index: pd.DatetimeIndex, m_index: pd.DatetimeIndex) -> pd.Timedelta:
    """How much later a market candle's timestamp must be to be usable at an asset timestamp.

    Timestamps are candle open times, so a candle's close is known one candle length later. A
    market candle stamped ``m`` is usable at the asset row stamped ``t`` when it has closed by the
    time row ``t`` closes: ``m + market_step <= t + asset_step``. With equal intervals that is
    ``m <= t``; a daily market on 4h candles must not lend its end-of-day close to the 00:00 row.
    """
    a_step = _median_step(index)
    m_step = _median_step(m_index) or a_step
    if a_step is None or m_step is None:
        return pd.Timedelta(0)
    return m_step - a_step


def _market_close(market: pd.DataFrame | pd.Series, index: pd.DatetimeIndex) -> np.ndarray:
    """Market closes on the asset's timestamps: the last market candle closed by each row's close
    (the last at or before each timestamp when both have the same interval)."""
    close = market["close"] if isinstance(market, pd.DataFrame) else market
    if not isinstance(close, pd.Series):
        raise FeatureError(
            f"market: expected candles with a close column, got {type(market).__name__}"
        )
    _check_index(close.index, "market")
    values = _column(close.to_frame("close"), "close", "market", positive=True)
    if len(values) == 0:
        raise FeatureError(
            "market: no candles; pass the market's candles, e.g. load_ohlcv('bitcoin')"
        )
    pos = close.index.searchsorted(index - _market_lag(index, close.index), side="right") - 1
    out = np.where(pos >= 0, values[np.clip(pos, 0, None)], np.nan)
    return out


def _technical(a: Arrays, fs: str) -> Arrays:
    c = a["close"]
    out: Arrays = {f"rsi_{n}": ind.rsi(c, n) for n in (7, 14, 21)}
    line, sig, hist = ind.macd(c, 12, 26, 9)
    out.update(macd_12_26=line, macd_signal_12_26_9=sig, macd_hist_12_26_9=hist)
    up, lo, width, pctb = ind.bollinger(c, 20, 2.0)
    out.update(bb_upper_dist_20_2=up, bb_lower_dist_20_2=lo, bb_width_20_2=width, bb_pctb_20_2=pctb)
    if fs != "close_volume":
        h, low, v = a["high"], a["low"], a["volume"]
        atr14 = ind.atr(h, low, c, 14)
        out["natr_14"] = atr14 / c
        out["atr_ratio_14_50"] = ind.safe_div(atr14, ind.atr(h, low, c, 50), 1.0)
        k, d = ind.stochastic(h, low, c, 14, 3, 3)
        out.update(stoch_k_14_3=k, stoch_d_14_3_3=d)
        out["cci_20"] = ind.cci(h, low, c, 20)
        out["willr_14"] = ind.williams_r(h, low, c, 14)
        adx, pdi, mdi = ind.adx(h, low, c, 14)
        out.update(adx_14=adx, plus_di_14=pdi, minus_di_14=mdi)
        out["mfi_14"] = ind.mfi(h, low, c, v, 14)
    windows = (5, 10, 20, 50, 100, 200)
    smas = {w: ind.sma(c, w) for w in windows}
    emas = {w: ind.windowed_ema(c, w) for w in windows}
    out.update({f"close_sma_{w}": c / smas[w] - 1.0 for w in windows})
    out.update({f"close_ema_{w}": c / emas[w] - 1.0 for w in windows})
    for fast, slow in ((5, 20), (20, 50), (50, 200)):
        out[f"sma_cross_{fast}_{slow}"] = smas[fast] / smas[slow] - 1.0
    for fast, slow in ((5, 20), (20, 50), (50, 200)):
        out[f"ema_cross_{fast}_{slow}"] = emas[fast] / emas[slow] - 1.0
    return out


def _price(a: Arrays, fs: str) -> Arrays:
    c = a["close"]
    rets = {k: ind.log_return(c, k) for k in (1, 3, 7, 14, 30)}
    out: Arrays = {f"ret_log_{k}": r for k, r in rets.items()}
    vols = {k: ind.rolling_std(rets[1], k) for k in (7, 14, 30)}
    for k in (14, 30):
        out[f"mom_adj_{k}"] = ind.safe_div(rets[k], vols[k] * np.sqrt(k), 0.0)
    for k in (3, 7, 14):
        out[f"acc_{k}"] = rets[k] - ind.shift(rets[k], k)
    out.update({f"vol_{k}": v for k, v in vols.items()})
    out["vol_ratio_7_30"] = ind.safe_div(vols[7], vols[30], 1.0)
    if fs != "close_volume":
        o, h, low = a["open"], a["high"], a["low"]
        for k in (14, 30):
            out[f"parkinson_{k}"] = ind.parkinson(h, low, k)
        for k in (14, 30):
            out[f"garman_klass_{k}"] = ind.garman_klass(o, h, low, c, k)
    for k in (20, 50):
        out[f"zscore_{k}"] = ind.zscore_rel(c, k)
    for k in (20, 50, 200):
        out[f"dist_high_{k}"] = c / ind.rolling_max(c, k) - 1.0
        out[f"dist_low_{k}"] = c / ind.rolling_min(c, k) - 1.0
    if fs != "close_volume":
        rng = h - low
        out["candle_body"] = ind.safe_div(c - o, rng, 0.0)
        out["candle_upper_shadow"] = ind.safe_div(h - np.maximum(o, c), rng, 0.0)
        out["candle_lower_shadow"] = ind.safe_div(np.minimum(o, c) - low, rng, 0.0)
        out["range_log"] = ind.log_ratio(h, low)
        out["gap_open"] = ind.log_ratio(o, ind.shift(c, 1))
    return out


def _volume(a: Arrays, fs: str) -> Arrays:
    c, v = a["close"], a["volume"]
    sums = {k: ind.rolling_sum(v, k) for k in (7, 30)}
    out: Arrays = {f"volume_ratio_{k}": ind.safe_div(v * k, sums[k], 1.0) for k in (7, 30)}
    for k in (7, 30):
        prev = ind.shift(sums[k], k)
        ok = (sums[k] > 0) & (prev > 0)
        mom = np.where(ok, ind.log_ratio(np.where(ok, sums[k], 1.0), np.where(ok, prev, 1.0)), 0.0)
        mom[np.isnan(prev)] = np.nan
        out[f"volume_mom_{k}"] = mom
    out["volume_z_30"] = ind.safe_div(v - sums[30] / 30.0, ind.rolling_std(v, 30), 0.0)
    out["obv_z_20"] = ind.obv_zscore(c, v, 20)
    out["obv_z_50"] = ind.obv_zscore(c, v, 50)
    signed = np.sign(c - ind.shift(c, 1)) * v
    out["obv_flow_20"] = ind.safe_div(ind.rolling_sum(signed, 20), ind.rolling_sum(v, 20), 0.0)
    r1 = ind.log_return(c, 1)
    out["pv_corr_20"] = ind.rolling_corr(r1, v, 20)
    out["pv_corr_50"] = ind.rolling_corr(r1, v, 50)
    if fs == "ohlcv_trades":
        qv, tr = a["quote_volume"], a["trades"]
        qv7, qv30 = ind.rolling_sum(qv, 7), ind.rolling_sum(qv, 30)
        tr7, tr30 = ind.rolling_sum(tr, 7), ind.rolling_sum(tr, 30)
        out["qvpt_ratio_7_30"] = ind.safe_div(qv7 * tr30, tr7 * qv30, 1.0)
        out["trades_ratio_7_30"] = ind.safe_div(tr7 * 30.0, tr30 * 7.0, 1.0)
        out["vwap_dist_1"] = ind.safe_div(c * v, qv, 1.0) - 1.0
        out["vwap_dist_7"] = ind.safe_div(c * sums[7], qv7, 1.0) - 1.0
    return out


def _calendar(index: pd.DatetimeIndex) -> Arrays:
    dow = np.asarray(index.day_of_week, dtype=np.float64)
    month = np.asarray(index.month, dtype=np.float64)
    doy = np.asarray(index.day_of_year, dtype=np.float64)
    two_pi = 2.0 * np.pi
    return {
        "day_of_week": dow,
        "month": month,
        "quarter": np.asarray(index.quarter, dtype=np.float64),
        "is_weekend": (dow >= 5).astype(np.float64),
        "dow_sin": np.sin(two_pi * dow / 7.0),
        "dow_cos": np.cos(two_pi * dow / 7.0),
        "month_sin": np.sin(two_pi * (month - 1.0) / 12.0),
        "month_cos": np.cos(two_pi * (month - 1.0) / 12.0),
        "doy_sin": np.sin(two_pi * (doy - 1.0) / 365.25),
        "doy_cos": np.cos(two_pi * (doy - 1.0) / 365.25),
    }


def _cross_asset(a: Arrays, m: np.ndarray) -> Arrays:
    c = a["close"]
    r1, mr1 = ind.log_return(c, 1), ind.log_return(m, 1)
    out: Arrays = {f"mkt_ret_log_{k}": ind.log_return(m, k) for k in (1, 7, 30)}
    out["mkt_vol_30"] = ind.rolling_std(mr1, 30)
    out["rel_ret_log_7"] = ind.log_return(c, 7) - out["mkt_ret_log_7"]
    out["rel_ret_log_30"] = ind.log_return(c, 30) - out["mkt_ret_log_30"]
    for k in (30, 90):
        out[f"beta_mkt_{k}"] = ind.safe_div(
            ind.rolling_cov(r1, mr1, k), ind.rolling_std(mr1, k) ** 2, 0.0
        )
        out[f"corr_mkt_{k}"] = ind.rolling_corr(r1, mr1, k)
    return out


def warmup_rows(
    ohlcv: pd.DataFrame | None = None,
    market: pd.DataFrame | pd.Series | bool | None = None,
    *,
    feature_set: str | None = None,
) -> int:
    """How many leading rows of ``build_features(ohlcv, market)`` are NaN.

    It is the longest lookback minus one (399 candles for the built-in sets), plus, when the
    market's history starts after the asset's, the asset rows before the market's first candle.
    Models drop these rows; serving needs ``warmup_rows() + 1`` candles for one full row.
    """
    fs = feature_set or (detect_feature_set(ohlcv) if ohlcv is not None else "ohlcv_trades")
    has_market = market is not None and market is not False
    specs = specs_for(fs, market=has_market)
    rows = max(s.lookback for s in specs) - 1
    if ohlcv is not None and isinstance(market, pd.DataFrame | pd.Series):
        m_index = market.index
        offset = (
            int(
                ohlcv.index.searchsorted(
                    m_index[0] + _market_lag(ohlcv.index, m_index), side="left"
                )
            )
            if len(m_index)
            else len(ohlcv)
        )
        m_lookback = max(s.lookback for s in specs if s.needs == "market")
        rows = max(rows, offset + m_lookback - 1)
    return rows


def min_history_rows(feature_set: str = "ohlcv_trades", market: bool = False) -> int:
    """Candles needed for one complete feature row: ``warmup_rows() + 1``."""
    return warmup_rows(None, market, feature_set=feature_set) + 1


def build_features(
    ohlcv: pd.DataFrame,
    market: pd.DataFrame | pd.Series | None = None,
    *,
    feature_set: str | None = None,
) -> pd.DataFrame:
    """Build the feature matrix for ``ohlcv`` (same index), optionally against ``market`` candles.

    Args:
        ohlcv: candles with a strictly increasing ``DatetimeIndex`` and at least ``close`` and
            ``volume``; with ``open high low`` (and ``quote_volume trades``) more features follow.
        market: candles (or a close series) of a market reference such as bitcoin; adds the
            ``cross_asset`` group. Aligned to ``ohlcv``'s timestamps with the last market close
            at or before each one.
        feature_set: force ``"ohlcv_trades"``, ``"ohlcv"`` or ``"close_volume"`` (e.g. the set a
            model was trained with); ``None`` picks the richest the candles allow.

    Returns:
        float64 columns named as in :data:`FEATURE_GROUPS`; the first :func:`warmup_rows` rows are
        NaN. ``attrs`` record ``feature_set``, ``warmup_rows`` and ``market`` (bool).

    Raises:
        FeatureError: missing columns, a non-monotonic index, non-positive prices, negative
            volume, or fewer candles than the warm-up needs.
    """
    fs = feature_set or detect_feature_set(ohlcv)
    if fs not in FEATURE_SETS:
        raise FeatureError(f"unknown feature_set {fs!r}; use one of {', '.join(FEATURE_SETS)}")
    arrays = _inputs(ohlcv, fs, "candles")
    index = ohlcv.index
    m_close = _market_close(market, index) if market is not None else None
    warm = warmup_rows(ohlcv, market, feature_set=fs)
    if len(ohlcv) <= warm:
        raise FeatureError(
            f"need at least {warm + 1} candles to build features (the longest window plus any "
            f"rows before the market's first candle), got {len(ohlcv)}; load more history, "
            f"e.g. load_ohlcv(crypto_id, days={warm + 1})"
        )
    cols: Arrays = {}
    cols.update(_technical(arrays, fs))
    cols.update(_price(arrays, fs))
    cols.update(_volume(arrays, fs))
    cols.update(_calendar(index))
    if m_close is not None:
        cols.update(_cross_asset(arrays, m_close))
    names = feature_names(fs, market=market is not None)
    data = np.empty((len(index), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        data[:, j] = cols[name]
    data[:warm] = np.nan
    out = pd.DataFrame(data, index=index, columns=pd.Index(names, dtype=object))
    out.attrs = {"feature_set": fs, "warmup_rows": warm, "market": market is not None}
    return out
