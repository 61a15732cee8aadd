"""The look-ahead checker: built-in features pass on every asset, leaky features are caught,
and features served from a shorter history equal the training-time ones (train/serve parity)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import FeatureError
from cryptoforecast.features import (
    build_features,
    check_lookahead,
    min_history_rows,
    warmup_rows,
)
from cryptoforecast.features.leakage import frame_differences
from tests.features.conftest import ASSET_IDS


@pytest.mark.parametrize("asset", ASSET_IDS)
def test_builtin_features_never_look_ahead(daily: dict[str, pd.DataFrame], asset: str) -> None:
    market = None if asset == "bitcoin" else daily["bitcoin"]

    def features(ohlcv: pd.DataFrame, mkt: pd.DataFrame | None = None) -> pd.DataFrame:
        return build_features(ohlcv, market=mkt)

    report = check_lookahead(features, daily[asset], n_cuts=6, seed=7, market=market)
    assert report.ok, report.summary()
    assert len(report.cuts) == 6
    assert report.cuts[-1] == daily[asset].index[-2]
    assert len(report.features) >= 60


def test_builtin_features_never_look_ahead_on_4h(btc_4h: pd.DataFrame) -> None:
    report = check_lookahead(build_features, btc_4h, n_cuts=3, seed=1)
    assert report.ok, report.summary()


def _close(ohlcv: pd.DataFrame) -> pd.Series:
    return ohlcv["close"]


def leaky_shift(ohlcv: pd.DataFrame) -> pd.DataFrame:
    """Tomorrow's close: the classic leak."""
    return pd.DataFrame({"next_close_ratio": _close(ohlcv).shift(-1) / _close(ohlcv)})


def leaky_centred(ohlcv: pd.DataFrame) -> pd.DataFrame:
    """A centred rolling mean uses two candles after each row."""
    close = _close(ohlcv)
    return pd.DataFrame({"centred_ma_5": close / close.rolling(5, center=True).mean() - 1})


def leaky_scaler(ohlcv: pd.DataFrame) -> pd.DataFrame:
    """A z-score with mean and std fitted on the whole series."""
    close = _close(ohlcv)
    return pd.DataFrame({"global_z": (close - close.mean()) / close.std()})


@pytest.mark.parametrize(
    ("fn", "name"),
    [
        (leaky_shift, "next_close_ratio"),
        (leaky_centred, "centred_ma_5"),
        (leaky_scaler, "global_z"),
    ],
)
def test_leaky_features_are_caught(btc_daily: pd.DataFrame, fn, name: str) -> None:  # type: ignore[no-untyped-def]
    report = check_lookahead(fn, btc_daily, n_cuts=10, seed=0)
    assert not report.ok
    assert report.leaky_features == [name]
    leak = report.leaks[0]
    assert leak.first_date is not None and leak.first_date <= leak.cut
    assert name in report.summary()
    with pytest.raises(FeatureError, match=name):
        report.raise_for_leaks()
    with pytest.raises(FeatureError, match="look-ahead"):
        check_lookahead(fn, btc_daily, n_cuts=3, raise_on_leak=True)


def test_first_leak_date_is_exact_for_a_shift(btc_daily: pd.DataFrame) -> None:
    """With a one-step leak the first differing row is the cut itself."""
    report = check_lookahead(leaky_shift, btc_daily, n_cuts=5, seed=3)
    leak = report.leaks[0]
    assert leak.first_date == min(report.cuts)
    assert np.isnan(leak.truncated_value) and np.isfinite(leak.full_value)


def test_one_leaky_column_among_the_builtin_ones_is_singled_out(btc_daily: pd.DataFrame) -> None:
    def mixed(ohlcv: pd.DataFrame) -> pd.DataFrame:
        feats = build_features(ohlcv)
        feats["future_ret_3"] = np.log(ohlcv["close"].shift(-3) / ohlcv["close"])
        return feats

    report = check_lookahead(mixed, btc_daily, n_cuts=4)
    assert report.leaky_features == ["future_ret_3"]


def test_a_leak_through_the_market_is_caught(daily: dict[str, pd.DataFrame]) -> None:
    def peeks_at_market(ohlcv: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
        future = market["close"].shift(-1).reindex(ohlcv.index)
        return pd.DataFrame({"mkt_tomorrow": future / ohlcv["close"]})

    report = check_lookahead(peeks_at_market, daily["ethereum"], n_cuts=5, market=daily["bitcoin"])
    assert report.leaky_features == ["mkt_tomorrow"]


def test_bad_feature_functions_are_refused(btc_daily: pd.DataFrame) -> None:
    with pytest.raises(FeatureError, match="same index"):
        check_lookahead(lambda df: build_features(df).dropna(), btc_daily, n_cuts=2)
    with pytest.raises(FeatureError, match="must return a DataFrame"):
        check_lookahead(lambda df: df["close"], btc_daily, n_cuts=2)
    with pytest.raises(FeatureError, match="n_cuts"):
        check_lookahead(build_features, btc_daily, n_cuts=0)


def test_same_seed_same_cuts(btc_daily: pd.DataFrame) -> None:
    a = check_lookahead(leaky_scaler, btc_daily, n_cuts=5, seed=11)
    b = check_lookahead(leaky_scaler, btc_daily, n_cuts=5, seed=11)
    c = check_lookahead(leaky_scaler, btc_daily, n_cuts=5, seed=12)
    assert a.cuts == b.cuts != c.cuts


def test_frame_differences_tolerance() -> None:
    idx = pd.date_range("2024-01-01", periods=3, tz="UTC")
    a = pd.DataFrame({"x": [1.0, np.nan, 100.0], "y": [0.0, 1.0, 2.0]}, index=idx)
    b = pd.DataFrame(
        {"x": [1.0 + 1e-12, np.nan, 100.0 * (1 + 5e-10)], "y": [0.0, 1.0, 2.0 + 1e-6]}, index=idx
    )
    assert frame_differences(a, b) == {"y": 2}
    b.iloc[1, 0] = 5.0
    assert frame_differences(a, b) == {"x": 1, "y": 2}


# --- train/serve parity ---------------------------------------------------------------------


@pytest.mark.parametrize("asset", ASSET_IDS)
def test_serving_history_gives_the_training_features(asset: str, daily: dict) -> None:
    """Serving loads only the last candles it needs (as of the forecast day); the latest row
    must equal the one the model was trained on from the full history."""
    from cryptoforecast.data import load_ohlcv

    training = build_features(daily[asset])
    need = min_history_rows()
    for as_of in (daily[asset].index[-1], daily[asset].index[-300], daily[asset].index[need + 5]):
        for days in (need, need + 77):
            served_candles = load_ohlcv(asset, days=days, end=as_of)
            served = build_features(served_candles)
            assert served.index[-1] == as_of
            diffs = frame_differences(training.loc[[as_of]], served.iloc[[-1]])
            assert not diffs, (as_of, days, diffs)


def test_parity_holds_for_every_row_after_the_warmup(btc_daily: pd.DataFrame) -> None:
    full = build_features(btc_daily, market=btc_daily)
    for start in (1, 123, 777):
        part = build_features(btc_daily.iloc[start:], market=btc_daily.iloc[start:])
        warm = part.attrs["warmup_rows"]
        assert not frame_differences(full.iloc[start + warm :], part.iloc[warm:])


def test_a_plain_ema_would_break_parity(btc_daily: pd.DataFrame) -> None:
    """Why EMAs are windowed: TA-Lib's recursive EMA 200 depends on where the history starts."""
    import talib

    close = btc_daily["close"].to_numpy()
    start, need = 500, min_history_rows()
    full = talib.EMA(close, 200)[-1]
    served = talib.EMA(close[-need:], 200)[-1]
    assert abs(full - served) / full > 1e-6
    ours_full = build_features(btc_daily)["close_ema_200"].iloc[-1]
    ours_served = build_features(btc_daily.iloc[-need:])["close_ema_200"].iloc[-1]
    assert ours_full == pytest.approx(ours_served, rel=1e-9, abs=1e-12)
    assert warmup_rows(btc_daily.iloc[start:]) == warmup_rows(btc_daily)
