"""A walk computes what every refit shares once: the realised measures of the candles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.backtest.distribution_walk import walk_distribution
from cryptoforecast.data import load_ohlcv
from cryptoforecast.models.distribution import MarketData
from cryptoforecast.models.distribution import volatility as volatility_module
from cryptoforecast.models.distribution.volatility import realized_measures


@pytest.fixture(scope="module")
def market() -> MarketData:
    daily = load_ohlcv("BTCUSDT").iloc[-700:]
    intraday = load_ohlcv("BTCUSDT", interval="4h")
    intraday = intraday.loc[intraday.index >= daily.index[0]]
    return MarketData(daily, intraday)


def test_a_prefix_of_the_realised_measures_is_those_of_the_prefix(market: MarketData) -> None:
    whole = MarketData(market.daily, market.intraday)
    whole.realized  # noqa: B018
    for end in (market.daily.index[100], market.daily.index[-40], market.daily.index[-1]):
        handed_on = whole.until(end).realized
        fresh = realized_measures(market.until(end))
        pd.testing.assert_frame_equal(handed_on, fresh, check_exact=True)


def test_har_rv_walk_computes_the_realised_measures_once_and_is_unchanged(
    market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = 7
    close = market.daily["close"]
    y = np.log(close.shift(-h) / close)
    origins = market.daily.index[-120 - h : -h]
    calls: list[int] = []
    real = volatility_module.realized_measures

    def counting(m: MarketData) -> pd.DataFrame:
        calls.append(len(m.daily))
        return real(m)

    def walk(data: MarketData) -> pd.DataFrame:
        w = walk_distribution(data, origins, y, "har_rv", h, retrain_frequency=30)
        return pd.concat([w.quantiles, w.sigma, w.crps, w.pit, w.p_up], axis=1)

    # the reference: every refit and scale block computes its own measures (no shared prefix)
    monkeypatch.setattr(MarketData, "until", _until_without_sharing)
    reference = walk(MarketData(market.daily, market.intraday))
    monkeypatch.undo()
    monkeypatch.setattr(volatility_module, "realized_measures", counting)
    shared = walk(MarketData(market.daily, market.intraday))
    assert calls == [len(market.daily)]  # once, on the whole candles; each refit reads a prefix
    pd.testing.assert_frame_equal(shared, reference, check_exact=False, rtol=0, atol=1e-12)


def _until_without_sharing(self: MarketData, end: pd.Timestamp) -> MarketData:
    daily = self.daily.loc[:end]
    intraday = None
    if self.intraday is not None:
        intraday = self.intraday.loc[self.intraday.index < end + pd.Timedelta(days=1)]
    return MarketData(daily, intraday, None if self.features is None else self.features.loc[:end])


def test_a_parametric_t_walk_moves_only_by_the_fit_tolerance(
    market: MarketData, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ewma_t`` without calibration serves its fitted t shape: with the profile fit instead of
    scipy's MLE its quantiles move only by the MLE's own tolerance (1e-4 relative)."""
    from cryptoforecast.models.distribution import shapes, volatility

    h = 1
    close = market.daily["close"]
    y = np.log(close.shift(-h) / close)
    origins = market.daily.index[-90 - h : -h]

    def walk() -> pd.DataFrame:
        w = walk_distribution(
            market, origins, y, "ewma_t", h, retrain_frequency=30, calibration="none"
        )
        return pd.concat([w.quantiles, w.crps], axis=1)

    fast = walk()
    monkeypatch.setattr(
        volatility, "fit_student_t", lambda z: shapes.fit_student_t(z, method="mle")
    )
    reference = walk()
    assert np.isfinite(fast.to_numpy()).all()
    np.testing.assert_allclose(fast.to_numpy(), reference.to_numpy(), rtol=1e-4, atol=0)
    assert not np.array_equal(fast.to_numpy(), reference.to_numpy())  # a different estimator
