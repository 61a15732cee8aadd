"""``garch_ref``, the reference every distribution is scored against, against ``arch`` itself:
the same variance forecasts at the fit origin and between refits, the 1,500-return window, the
500-return floor, no look-ahead, and quantiles that never cross."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cryptoforecast.backtest.distribution_walk import walk_distribution
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import QUANTILES, DistributionForecaster, MarketData
from cryptoforecast.models.distribution.reference import GarchRef

arch = pytest.importorskip("arch")


def candles(n: int, seed: int) -> pd.DataFrame:
    """Daily candles of a GARCH(1,1)-t price path with random parameters (percent units)."""
    rng = np.random.default_rng(seed)
    omega, alpha = rng.uniform(0.02, 0.3), rng.uniform(0.03, 0.2)
    beta = rng.uniform(0.6, 0.97 - alpha)
    nu = rng.uniform(3.5, 12.0)
    s2, r = omega / (1 - alpha - beta), np.zeros(n)
    for t in range(1, n):
        r[t] = math.sqrt(s2 * (nu - 2) / nu) * rng.standard_t(nu)
        s2 = omega + alpha * r[t] ** 2 + beta * s2
    close = 100 * np.exp(np.cumsum(r / 100))
    idx = pd.date_range("2016-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": 1.0}, index=idx
    )


def arch_fit(r_percent: np.ndarray) -> object:
    model = arch.arch_model(r_percent, mean="Zero", vol="GARCH", p=1, q=1, dist="t")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(disp="off", show_warning=False)


def arch_quantiles(variance_percent: float, nu: float, levels: tuple[float, ...]) -> np.ndarray:
    unit = math.sqrt((nu - 2) / nu)
    return unit * stats.t.ppf(np.asarray(levels), nu) * math.sqrt(variance_percent) / 100


CASES = [(700, 1, 11), (1200, 7, 12), (2100, 14, 13), (900, 3, 14), (1600, 7, 15)]


@pytest.mark.parametrize(("n", "horizon", "seed"), CASES)
def test_the_reference_is_arch_at_the_fit_origin(n: int, horizon: int, seed: int) -> None:
    market = MarketData(candles(n, seed))
    dist = DistributionForecaster("garch_ref", horizon=horizon, calibration="none").fit(market)
    ours = dist.predict_quantiles(market).iloc[-1].to_numpy()

    r = market.returns.dropna().to_numpy()[-1500:] * 100  # the last 1,500 returns only
    res = arch_fit(r)
    variance = float(res.forecast(horizon=horizon, reindex=False).variance.to_numpy()[-1].sum())
    expected = arch_quantiles(variance, float(res.params["nu"]), QUANTILES)
    assert ours == pytest.approx(expected, rel=1e-7, abs=1e-12)
    assert dist.model_.params_["nu"] == pytest.approx(float(res.params["nu"]), rel=1e-12)


@pytest.mark.parametrize(("n", "horizon", "seed"), CASES[:3])
def test_between_refits_the_variance_is_arch_filtered_with_the_fitted_parameters(
    n: int, horizon: int, seed: int
) -> None:
    daily = candles(n + 29, seed)
    fit_on = MarketData(daily.iloc[:n])
    model = GarchRef(horizon=horizon).fit(fit_on)
    later = MarketData(daily)  # 29 more days, the parameters kept (refitted every 30 origins)
    sigma = model.predict_scale(later)

    r = later.returns.dropna().to_numpy() * 100
    window = r[-(29 + min(1500, n - 1)) :]  # the fit window and the days since, from its start
    p = model.params_
    fixed = arch.arch_model(window, mean="Zero", vol="GARCH", p=1, q=1, dist="t").fix(
        [p["omega"], p["alpha"], p["beta"], p["nu"]]
    )
    variance = fixed.forecast(horizon=horizon, reindex=False).variance.to_numpy()[-1].sum()
    assert sigma.iloc[-1] == pytest.approx(math.sqrt(variance) / 100, rel=1e-9)
    # and at the fit origin itself, nothing after it read
    assert sigma.iloc[n - 1] == pytest.approx(model.predict_scale(fit_on).iloc[-1], rel=1e-12)


def test_fewer_than_500_returns_cannot_be_fitted() -> None:
    with pytest.raises(DataError, match="at least 500 daily returns"):
        GarchRef().fit(MarketData(candles(500, 3)))  # 499 returns
    GarchRef().fit(MarketData(candles(501, 3)))


def test_no_look_ahead_every_candle_after_the_origin_changed_leaves_the_forecast() -> None:
    daily = candles(1400, 21)
    origins = daily.index[800:1300]
    y = pd.Series(np.nan, index=daily.index)
    walk = walk_distribution(
        MarketData(daily), origins, y, "garch_ref", 7, retrain_frequency=30, calibration="none"
    )
    t = origins[250]
    shaken = daily.copy()
    rng = np.random.default_rng(5)
    after = shaken.index > t
    shaken.loc[after, ["open", "high", "low", "close"]] *= rng.uniform(0.5, 1.5, (after.sum(), 1))
    again = walk_distribution(
        MarketData(shaken), origins, y, "garch_ref", 7, retrain_frequency=30, calibration="none"
    )
    known = walk.quantiles.index <= t
    pd.testing.assert_frame_equal(walk.quantiles[known], again.quantiles[known])
    assert not walk.quantiles[~known].equals(again.quantiles[~known])  # the shake was seen later


def test_quantiles_never_cross_and_match_the_t_shape() -> None:
    market = MarketData(candles(900, 8))
    dist = DistributionForecaster("garch_ref", horizon=14, calibration="none").fit(market)
    grid = np.linspace(0.001, 0.999, 201)
    q = dist.predict_quantiles(market, quantiles=grid).dropna()
    assert len(q) > 800 and (np.diff(q.to_numpy(), axis=1) > 0).all()
    nu = dist.model_.params_["nu"]
    shape = dist.model_.shape_
    assert (shape.kind, shape.df) == ("t", nu)
    assert shape.scale == pytest.approx(math.sqrt((nu - 2) / nu))


def test_saved_and_loaded_it_forecasts_the_same(tmp_path: object) -> None:
    from pathlib import Path

    market = MarketData(candles(800, 4))
    dist = DistributionForecaster("garch_ref", horizon=7, calibration="none").fit(market)
    path = dist.save(Path(str(tmp_path)) / "ref")
    loaded = DistributionForecaster.load(path)
    pd.testing.assert_frame_equal(loaded.predict_quantiles(market), dist.predict_quantiles(market))
