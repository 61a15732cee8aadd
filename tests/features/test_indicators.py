"""Indicator primitives against TA-Lib (the reference) and against their definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib

from cryptoforecast.features import indicators as ind


@pytest.fixture(scope="module")
def hlcv(btc_daily: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(btc_daily[c].to_numpy() for c in ("open", "high", "low", "close", "volume"))


def test_windowed_ema_is_the_renormalised_finite_sum() -> None:
    rng = np.random.default_rng(0)
    x = 100 + np.cumsum(rng.normal(size=600))
    span, window = 20, 60
    alpha = 2 / (span + 1)
    w = alpha * (1 - alpha) ** np.arange(window)
    expected = np.convolve(x, w, mode="valid") / w.sum()
    got = ind.windowed_ema(x, span, window)
    assert np.isnan(got[: window - 1]).all()
    np.testing.assert_allclose(got[window - 1 :], expected, rtol=1e-12)
    # leading NaNs are skipped, not propagated
    y = np.r_[np.full(5, np.nan), x]
    np.testing.assert_allclose(
        ind.windowed_ema(y, span, window)[5:], got, rtol=1e-12, equal_nan=True
    )


def test_windowed_ema_tracks_talib_ema_far_from_the_start(hlcv: tuple) -> None:
    close = hlcv[3]
    ours, ref = ind.windowed_ema(close, 20), talib.EMA(close, 20)
    rel = np.abs(ours / ref - 1)[500:]
    assert rel.max() < 0.01 and np.median(rel) < 2e-3


def test_rsi_atr_adx_close_to_talib(hlcv: tuple) -> None:
    _, high, low, close, _ = hlcv
    tail = slice(600, None)
    assert np.abs(ind.rsi(close, 14) - talib.RSI(close, 14))[tail].max() < 1.5
    ours_atr = ind.atr(high, low, close, 14)
    assert np.abs(ours_atr / talib.ATR(high, low, close, 14) - 1)[tail].max() < 0.02
    adx, pdi, mdi = ind.adx(high, low, close, 14)
    assert np.abs(adx - talib.ADX(high, low, close, 14))[tail].max() < 2.0
    assert np.abs(pdi - talib.PLUS_DI(high, low, close, 14))[tail].max() < 1.0
    assert np.abs(mdi - talib.MINUS_DI(high, low, close, 14))[tail].max() < 1.0


def test_bollinger_and_mfi_equal_talib(hlcv: tuple) -> None:
    _, high, low, close, volume = hlcv
    up, lo, width, pctb = ind.bollinger(close, 20, 2.0)
    ref_up, ref_mid, ref_lo = talib.BBANDS(close, 20, 2.0, 2.0)
    np.testing.assert_allclose(up, ref_up / close - 1, rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(lo, ref_lo / close - 1, rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(width, (ref_up - ref_lo) / ref_mid, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(
        pctb, (close - ref_lo) / (ref_up - ref_lo), rtol=1e-8, equal_nan=True
    )
    ours_mfi = ind.mfi(high, low, close, volume, 14)
    np.testing.assert_allclose(
        ours_mfi[15:], talib.MFI(high, low, close, volume, 14)[15:], rtol=1e-9
    )


def test_bollinger_survives_sub_cent_prices(hlcv: tuple) -> None:
    """TA-Lib zeroes variances below 1e-8; the scale-free version does not."""
    close = hlcv[3] * 1e-7
    up, *_ = ind.bollinger(close, 20, 2.0)
    _, mid, _ = talib.BBANDS(close, 20, 2.0, 2.0)
    assert (up[19:] > -1).all() and np.nanstd(up) > 0.01


def test_rolling_moments_match_pandas() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=300), rng.normal(size=300)
    sx, sy = pd.Series(x), pd.Series(y)
    np.testing.assert_allclose(
        ind.rolling_sum(x, 7), sx.rolling(7).sum(), rtol=1e-12, equal_nan=True
    )
    np.testing.assert_allclose(
        ind.rolling_std(x, 30), sx.rolling(30).std(), rtol=1e-10, equal_nan=True
    )
    np.testing.assert_allclose(
        ind.rolling_cov(x, y, 30), sx.rolling(30).cov(sy), rtol=1e-10, atol=1e-14, equal_nan=True
    )
    np.testing.assert_allclose(
        ind.rolling_corr(x, y, 30), sx.rolling(30).corr(sy), rtol=1e-10, atol=1e-14, equal_nan=True
    )
    assert np.isnan(ind.rolling_std(x[:5], 30)).all()


def test_obv_zscore_equals_the_zscore_of_obv(hlcv: tuple) -> None:
    close, volume = hlcv[3], hlcv[4]
    obv = pd.Series(talib.OBV(close, volume))
    roll = obv.rolling(20)
    expected = (obv - roll.mean()) / roll.std()
    np.testing.assert_allclose(
        ind.obv_zscore(close, volume, 20)[20:], expected[20:], rtol=1e-7, atol=1e-9
    )


def test_safe_div_and_shift() -> None:
    out = ind.safe_div(np.array([1.0, 2.0, np.nan]), np.array([0.0, 4.0, 0.0]), fill=7.0)
    np.testing.assert_array_equal(out, [7.0, 0.5, np.nan])
    np.testing.assert_array_equal(ind.shift(np.arange(4.0), 2), [np.nan, np.nan, 0.0, 1.0])
