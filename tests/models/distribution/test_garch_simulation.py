"""On a simulated GARCH(1,1)-t series the conditional quantiles are known: garch_t must track
them, cover at the nominal rates and beat the rolling Gaussian (which ignores the state)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cryptoforecast.backtest.distribution_walk import walk_distribution
from cryptoforecast.evaluation.scoring import dm_crps
from cryptoforecast.models.distribution import MarketData

OMEGA, ALPHA, BETA, NU = 0.05, 0.15, 0.82, 6.0  # in percent units, as arch fits them


def simulate(n: int, seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    """Daily candles of a GARCH(1,1)-t log-price, and the true one-step sigma at each origin."""
    rng = np.random.default_rng(seed)
    unit = math.sqrt((NU - 2) / NU)
    s2 = OMEGA / (1 - ALPHA - BETA)
    r = np.zeros(n)
    sigma_next = np.zeros(n)  # sigma of r[t+1], known at t
    for t in range(1, n):
        r[t] = math.sqrt(s2) * unit * rng.standard_t(NU)
        s2 = OMEGA + ALPHA * r[t] ** 2 + BETA * s2
        sigma_next[t] = math.sqrt(s2)
    r /= 100
    close = 100 * np.exp(np.cumsum(r))
    idx = pd.date_range("2015-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    daily = pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": 1.0}, index=idx
    )
    return daily, pd.Series(sigma_next / 100, index=idx)


@pytest.mark.slow
def test_garch_t_recovers_known_quantiles_covers_and_beats_rolling_gaussian() -> None:
    daily, true_sigma = simulate(3200)
    market = MarketData(daily)
    y = np.log(daily["close"].shift(-1) / daily["close"])
    origins = daily.index[1199:3199]  # 2,000 walk-forward origins
    assert len(origins) == 2000
    garch = walk_distribution(
        market, origins, y, "garch_t", 1, retrain_frequency=250, calibration="none"
    )
    gauss = walk_distribution(
        market, origins, y, "rolling_gaussian", 1, retrain_frequency=250, calibration="none"
    )
    # known conditional quantiles: sigma * standardised-t quantile
    unit = math.sqrt((NU - 2) / NU)
    truth_95 = true_sigma.loc[origins] * unit * stats.t.ppf(0.975, NU)
    rel = (garch.quantiles[0.975] / truth_95 - 1).abs()
    assert rel.median() < 0.10, rel.describe()
    yy = y.loc[origins]
    for lo, hi, nominal in ((0.1, 0.9, 0.8), (0.025, 0.975, 0.95)):
        inside = (yy >= garch.quantiles[lo]) & (yy <= garch.quantiles[hi])
        assert abs(inside.mean() - nominal) <= 0.02, (nominal, inside.mean())
    assert garch.crps.mean() < gauss.crps.mean()
    assert dm_crps(garch.crps, gauss.crps).pvalue < 0.05
    # the Gaussian band ignores the state: its width barely follows the true sigma
    corr_garch = np.corrcoef(garch.sigma, true_sigma.loc[origins])[0, 1]
    corr_gauss = np.corrcoef(gauss.sigma, true_sigma.loc[origins])[0, 1]
    assert corr_garch > 0.9 and corr_garch > corr_gauss
