"""build_features: columns, groups, warm-up, feature sets, scale-freedom and input validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import DataError, FeatureError
from cryptoforecast.features import (
    FEATURE_GROUPS,
    FEATURE_SETS,
    build_features,
    detect_feature_set,
    feature_names,
    min_history_rows,
    specs_for,
    warmup_rows,
)
from cryptoforecast.features import featureset as fset
from tests.features.conftest import ASSET_IDS


@pytest.mark.parametrize("asset", ASSET_IDS)
def test_every_asset_gets_60_plus_finite_columns_after_warmup(
    daily: dict[str, pd.DataFrame], asset: str
) -> None:
    ohlcv = daily[asset]
    feats = build_features(ohlcv)
    warm = warmup_rows(ohlcv)
    assert feats.index.equals(ohlcv.index)
    assert feats.shape[1] >= 60
    assert all(feats.dtypes == np.float64)
    body = feats.iloc[warm:].to_numpy()
    assert not np.isnan(body).any(), feats.columns[np.isnan(body).any(axis=0)].tolist()
    assert np.isfinite(body).all()
    assert feats.iloc[:warm].isna().all().all()
    assert feats.attrs["feature_set"] == "ohlcv_trades"
    assert feats.attrs["warmup_rows"] == warm


def test_bitcoin_covers_every_group(btc_daily: pd.DataFrame) -> None:
    feats = build_features(btc_daily)
    for group in ("technical", "price", "volume", "calendar"):
        present = [c for c in FEATURE_GROUPS[group] if c in feats.columns]
        assert len(present) == len(FEATURE_GROUPS[group]), group
    with_market = build_features(btc_daily, market=btc_daily)
    assert set(FEATURE_GROUPS["cross_asset"]) <= set(with_market.columns)
    required = {
        "rsi_7",
        "rsi_14",
        "rsi_21",
        "macd_hist_12_26_9",
        "bb_pctb_20_2",
        "natr_14",
        "stoch_k_14_3",
        "cci_20",
        "willr_14",
        "adx_14",
        "mfi_14",
        "close_ema_200",
        "close_sma_200",
        "ret_log_30",
        "vol_30",
        "parkinson_14",
        "garman_klass_14",
        "zscore_50",
        "dist_high_50",
        "candle_body",
        "volume_ratio_30",
        "obv_z_20",
        "pv_corr_20",
        "qvpt_ratio_7_30",
        "dow_sin",
        "is_weekend",
    }
    assert required <= set(feats.columns)


def test_columns_follow_the_catalogue_in_order(btc_daily: pd.DataFrame) -> None:
    assert list(build_features(btc_daily).columns) == feature_names("ohlcv_trades")
    assert list(build_features(btc_daily, market=btc_daily).columns) == feature_names(
        "ohlcv_trades", market=True
    )
    flat = [name for names in FEATURE_GROUPS.values() for name in names]
    assert len(flat) == len(set(flat))
    assert sorted(flat) == sorted(feature_names("ohlcv_trades", market=True))


def _raw_columns(ohlcv: pd.DataFrame, fs: str, market: pd.DataFrame | None = None) -> dict:
    arrays = fset._inputs(ohlcv, fs, "test")
    cols = {}
    cols.update(fset._technical(arrays, fs))
    cols.update(fset._price(arrays, fs))
    cols.update(fset._volume(arrays, fs))
    cols.update(fset._calendar(ohlcv.index))
    if market is not None:
        cols.update(fset._cross_asset(arrays, fset._market_close(market, ohlcv.index)))
    return cols


def test_each_feature_starts_exactly_at_its_declared_lookback(btc_daily: pd.DataFrame) -> None:
    cols = _raw_columns(btc_daily, "ohlcv_trades", market=btc_daily)
    for spec in specs_for("ohlcv_trades", market=True):
        values = cols[spec.name]
        first = int(np.flatnonzero(~np.isnan(values))[0])
        assert first == spec.lookback - 1, (spec.name, first, spec.lookback)
        assert not np.isnan(values[first:]).any(), spec.name


def test_close_volume_candles_get_the_close_volume_subset(btc_daily: pd.DataFrame) -> None:
    coingecko_like = btc_daily[["close", "volume"]].assign(market_cap=btc_daily["close"] * 19e6)
    assert detect_feature_set(coingecko_like) == "close_volume"
    small = build_features(coingecko_like)
    assert small.attrs["feature_set"] == "close_volume"
    assert list(small.columns) == feature_names("close_volume")
    assert small.shape[1] >= 60
    assert not small.iloc[warmup_rows(coingecko_like) :].isna().any().any()
    full = build_features(btc_daily)
    np.testing.assert_array_equal(small.to_numpy(), full[small.columns].to_numpy())
    no_trades = build_features(btc_daily[["open", "high", "low", "close", "volume"]])
    assert no_trades.attrs["feature_set"] == "ohlcv"
    assert "vwap_dist_1" not in no_trades.columns and "adx_14" in no_trades.columns


def test_feature_set_can_be_forced_and_refuses_missing_columns(btc_daily: pd.DataFrame) -> None:
    forced = build_features(btc_daily, feature_set="close_volume")
    assert list(forced.columns) == feature_names("close_volume")
    with pytest.raises(FeatureError, match=r"needs column\(s\) \['open', 'high', 'low'"):
        build_features(btc_daily[["close", "volume"]], feature_set="ohlcv")
    with pytest.raises(FeatureError, match="unknown feature_set"):
        build_features(btc_daily, feature_set="everything")
    assert set(FEATURE_SETS) == {"ohlcv_trades", "ohlcv", "close_volume"}


def test_features_are_scale_free(btc_daily: pd.DataFrame) -> None:
    """Prices x 1000 and volume x 3 (a different quote currency) change no feature."""
    scaled = btc_daily.copy()
    for col in ("open", "high", "low", "close"):
        scaled[col] = scaled[col] * 1000.0
    scaled["volume"] = scaled["volume"] * 3.0
    scaled["quote_volume"] = scaled["quote_volume"] * 3000.0
    a, b = build_features(btc_daily).to_numpy(), build_features(scaled).to_numpy()
    np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-9)


def test_warmup_rows_and_min_history(btc_daily: pd.DataFrame, daily: dict) -> None:
    warm = warmup_rows(btc_daily)
    longest = max(s.lookback for s in specs_for("ohlcv_trades"))
    assert warm == longest - 1 == warmup_rows()
    assert min_history_rows() == warm + 1
    build_features(btc_daily.iloc[: warm + 1])  # exactly enough
    with pytest.raises(FeatureError, match=f"need at least {warm + 1} candles.*got {warm}"):
        build_features(btc_daily.iloc[:warm])
    sol = daily["solana"]
    late = warmup_rows(btc_daily, market=sol)
    offset = int((btc_daily.index < sol.index[0]).sum())
    assert late == max(warm, offset + 90)
    feats = build_features(btc_daily, market=sol)
    assert feats.attrs["warmup_rows"] == late
    assert not feats.iloc[late:].isna().any().any() and feats.iloc[late - 1].isna().all()


def test_market_may_be_a_close_series_and_is_aligned_causally(daily: dict) -> None:
    eth, btc = daily["ethereum"], daily["bitcoin"]
    a = build_features(eth, market=btc)
    b = build_features(eth, market=btc["close"])
    pd.testing.assert_frame_equal(a, b)
    same = build_features(btc, market=btc)
    body = same.iloc[warmup_rows(btc, btc) :]
    np.testing.assert_allclose(body["beta_mkt_30"], 1.0, rtol=1e-9)
    np.testing.assert_allclose(body["corr_mkt_90"], 1.0, rtol=1e-9)
    np.testing.assert_allclose(body["rel_ret_log_7"], 0.0, atol=1e-12)


def _broken(df: pd.DataFrame, how: str) -> pd.DataFrame:
    df = df.copy()
    if how == "missing":
        return df.drop(columns=["volume"])
    if how == "unsorted":
        return df.iloc[::-1]
    if how == "duplicate":
        return pd.concat([df.iloc[:500], df.iloc[499:]])
    if how == "zero":
        df.iloc[450, df.columns.get_loc("close")] = 0.0
    elif how == "negative":
        df.iloc[450, df.columns.get_loc("low")] = -1.0
    elif how == "nan":
        df.iloc[450, df.columns.get_loc("open")] = np.nan
    elif how == "volume":
        df.iloc[450, df.columns.get_loc("volume")] = -5.0
    elif how == "index":
        df = df.reset_index(drop=True)
    return df


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("missing", r"missing column\(s\) \['volume'\]"),
        ("unsorted", "not strictly increasing"),
        ("duplicate", "not strictly increasing"),
        ("zero", "'close' must be positive, got 0.0 at 2019-06-10"),
        ("negative", "'low' must be positive, got -1.0"),
        ("nan", "'open' must be positive, got nan"),
        ("volume", "'volume' must be finite and >= 0, got -5.0"),
        ("index", "index must be a DatetimeIndex"),
    ],
)
def test_bad_candles_raise_data_error_before_computing(
    btc_daily: pd.DataFrame, how: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed features from bad candles")

    monkeypatch.setattr(fset, "_technical", boom)
    with pytest.raises(DataError, match=message):
        build_features(_broken(btc_daily, how))


def test_flat_zero_volume_candles_stay_finite(btc_daily: pd.DataFrame) -> None:
    """Gap-filled candles (open = high = low = close, zero volume and trades) give no inf/NaN."""
    df = btc_daily.copy()
    rows = df.index[1000:1040]
    prev = df["close"].iloc[999]
    for col in ("open", "high", "low", "close"):
        df.loc[rows, col] = prev
    df.loc[rows, ["volume", "quote_volume", "trades"]] = 0.0
    feats = build_features(df).iloc[warmup_rows(df) :]
    assert np.isfinite(feats.to_numpy()).all()
    flat = feats.loc[rows[-1]]
    assert flat["candle_body"] == 0.0 and flat["vol_7"] == 0.0 and flat["rsi_7"] == 50.0


def test_4h_candles_work_with_exchange_gaps(btc_4h: pd.DataFrame) -> None:
    feats = build_features(btc_4h)
    assert len(feats) == len(btc_4h) > 16_000
    assert np.isfinite(feats.iloc[warmup_rows(btc_4h) :].to_numpy()).all()


def test_a_coarser_market_is_used_only_once_its_candle_has_closed(daily: dict) -> None:
    """Timestamps are open times: a daily market close is known at the end of its day, so 4h rows
    of that day (which close earlier) must not see it; the 20:00 row closes with it and may."""
    from cryptoforecast.data import load_ohlcv

    eth_4h = load_ohlcv("ethereum", interval="4h").iloc[-3000:]
    btc = daily["bitcoin"].iloc[-900:]
    base = build_features(eth_4h, market=btc)
    day = btc.index[-10]
    moved = btc.copy()
    moved.loc[day, "close"] *= 1.05
    changed = build_features(eth_4h, market=moved)
    cols = FEATURE_GROUPS["cross_asset"]
    same_day = eth_4h.index[(eth_4h.index >= day) & (eth_4h.index < day + pd.Timedelta(days=1))]
    assert len(same_day) == 6
    for t in same_day[:-1]:
        pd.testing.assert_series_equal(base.loc[t, cols], changed.loc[t, cols])
    assert (base.loc[same_day[-1], cols] != changed.loc[same_day[-1], cols]).any()
    warm = warmup_rows(eth_4h, market=btc)
    assert base.attrs["warmup_rows"] == warm
    assert not base.iloc[warm:].isna().any().any() and base.iloc[warm - 1].isna().all()
