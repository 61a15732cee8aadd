"""Metrics against scikit-learn / scipy where they have the same metric, else worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    r2_score,
)

from cryptoforecast.evaluation import metrics as m
from cryptoforecast.exceptions import DataError


@pytest.fixture
def prices() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    origin = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 300)))
    truth = origin * np.exp(rng.normal(0, 0.02, 300))
    pred = origin * np.exp(rng.normal(0, 0.01, 300))
    return truth, pred, origin


def test_point_metrics_match_sklearn(prices) -> None:
    t, p, _ = prices
    assert m.mae(t, p) == pytest.approx(mean_absolute_error(t, p), rel=1e-12)
    assert m.rmse(t, p) == pytest.approx(math.sqrt(mean_squared_error(t, p)), rel=1e-12)
    assert m.mape(t, p) == pytest.approx(100 * mean_absolute_percentage_error(t, p), rel=1e-12)
    assert m.r2(t, p) == pytest.approx(r2_score(t, p), rel=1e-12)
    lt, lp = np.log(t / prices[2]), np.log(p / prices[2])
    assert m.r2(lt, lp) == pytest.approx(r2_score(lt, lp), rel=1e-12)


def test_smape_worked_example() -> None:
    # |100-110| * 2 / 210 = 0.095238..., |50-40| * 2 / 90 = 0.22222..., 0/0 counts as 0
    expected = (20 / 210 + 20 / 90 + 0.0) / 3 * 100
    assert m.smape([100, 50, 0], [110, 40, 0]) == pytest.approx(expected)


def test_mase_and_u2_of_naive_are_exactly_one(prices) -> None:
    t, p, o = prices
    assert m.mase(t, o, o) == 1.0
    assert m.theils_u2(t, o, o) == 1.0
    assert m.mase(t, p, o) == pytest.approx(mean_absolute_error(t, p) / mean_absolute_error(t, o))
    assert m.theils_u2(t, t, o) == 0.0
    assert math.isnan(m.mase([1.0, 2.0], [1.5, 2.5], [1.0, 2.0]))  # perfect naive: undefined


def test_theils_u2_worked_example() -> None:
    y0, y, f = np.array([100.0, 200.0]), np.array([110.0, 190.0]), np.array([104.0, 196.0])
    num = (6 / 100) ** 2 + (6 / 200) ** 2
    den = (10 / 100) ** 2 + (10 / 200) ** 2
    assert m.theils_u2(y, f, y0) == pytest.approx(math.sqrt(num / den))


def test_directional_accuracy_excludes_ties_and_uses_binomial() -> None:
    origin = np.full(13, 10.0)
    truth = origin + np.array([1, 1, 1, 1, 1, -1, -1, -1, 1, -1, 0, 1, 1], dtype=float)
    pred = origin + np.array([1, 1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 0, 0], dtype=float)
    res = m.directional_test(truth, pred, origin)
    # 10 decided (the last three are ties), 8 right
    assert (res.n_decided, res.n_correct, res.n_ties) == (10, 8, 3)
    assert res.accuracy == pytest.approx(0.8)
    assert res.pvalue == pytest.approx((45 + 10 + 1) / 1024)  # P(X >= 8), X ~ Bin(10, 1/2)
    assert res.pvalue == pytest.approx(binomtest(8, 10, 0.5, alternative="greater").pvalue)
    two = m.directional_test(truth, pred, origin, alternative="two-sided")
    assert two.pvalue == pytest.approx(2 * 56 / 1024)
    naive = m.directional_test(truth, origin, origin)  # naive never calls a direction
    assert naive.n_decided == 0 and math.isnan(naive.accuracy) and math.isnan(naive.pvalue)


def test_interval_coverage_and_winkler_worked_example() -> None:
    y = np.array([5.0, 0.0, 12.0, 7.0])
    lo = np.array([4.0, 1.0, 8.0, np.nan])
    hi = np.array([6.0, 3.0, 10.0, 9.0])
    assert m.interval_coverage(y, lo, hi) == pytest.approx(1 / 3)  # the NaN row is skipped
    alpha = 0.2
    scores = [2.0, 2.0 + 2 / alpha * 1.0, 2.0 + 2 / alpha * 2.0]
    assert m.winkler_score(y, lo, hi, 0.8) == pytest.approx(np.mean(scores))
    with pytest.raises(DataError, match="coverage"):
        m.winkler_score(y, lo, hi, 80)


def test_trading_metrics_worked_example() -> None:
    forecast = np.array([0.01, 0.02, -0.01, 0.03])
    rets = np.array([0.10, -0.05, 0.04, 0.02])
    fee = 0.001  # 10 bps per unit traded
    # long/flat: positions 1, 1, 0, 1 -> trades 1, 0, 1, 1
    net = np.array([0.10 - fee, -0.05, 0.0 - fee, 0.02 - fee])
    out = m.trading_metrics(forecast, rets, "long_flat", fee_bps=10, periods_per_year=365)
    assert out["total_return"] == pytest.approx(np.prod(1 + net) - 1)
    assert out["sharpe"] == pytest.approx(net.mean() / net.std(ddof=1) * math.sqrt(365))
    downside = math.sqrt(((-0.05) ** 2 + (-fee) ** 2) / 4)
    assert out["sortino"] == pytest.approx(net.mean() / downside * math.sqrt(365))
    equity = np.cumprod(1 + net)
    assert out["max_drawdown"] == pytest.approx(equity[2] / equity[0] - 1)
    assert out["turnover"] == pytest.approx(3 / 4)
    assert out["exposure"] == pytest.approx(3 / 4)
    assert out["hit_rate"] == pytest.approx(2 / 3)  # in the market 3 periods, 2 positive
    # long/short: positions 1, 1, -1, 1 -> trades 1, 0, 2, 2; the short earns -4%
    ls = np.array([0.10 - fee, -0.05, -0.04 - 2 * fee, 0.02 - 2 * fee])
    out_ls = m.trading_metrics(forecast, rets, "long_short", fee_bps=10)
    assert out_ls["total_return"] == pytest.approx(np.prod(1 + ls) - 1)
    bh = m.trading_metrics(forecast, rets, "buy_and_hold", fee_bps=10)
    assert bh["total_return"] == pytest.approx(
        (1.10 - fee) * 0.95 * 1.04 * 1.02 - 1
    )  # one entry fee
    assert bh["turnover"] == pytest.approx(1 / 4)  # one entry, held


def test_annual_return_uses_365_days() -> None:
    rets = np.full(365, 0.001)
    out = m.trading_metrics(np.ones(365), rets, "long_flat", fee_bps=0)
    assert out["annual_return"] == pytest.approx(out["total_return"])
    assert out["annual_return"] == pytest.approx(1.001**365 - 1)


def test_max_drawdown_hand_example() -> None:
    # equity 1 -> 1.5 -> 0.75 -> 0.9: worst is 0.75 / 1.5 - 1 = -0.5
    assert m.max_drawdown([0.5, -0.5, 0.2]) == pytest.approx(-0.5)
    assert m.max_drawdown([0.1, 0.1]) == 0.0


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(DataError, match="y_pred has 2 values but y_true has 3"):
        m.mae([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="empty"):
        m.rmse([], [])
    with pytest.raises(DataError, match="y_true == 0"):
        m.mape([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(DataError, match="unknown strategy"):
        m.strategy_positions([1.0], "martingale")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="fee_bps"):
        m.strategy_returns([1.0], [0.1], fee_bps=-1)
