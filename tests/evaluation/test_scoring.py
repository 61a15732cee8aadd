"""Distribution scores: closed forms against a brute-force integral, and the VaR tests."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from scipy import integrate, stats

from cryptoforecast.evaluation import scoring
from cryptoforecast.evaluation.stats import diebold_mariano
from cryptoforecast.exceptions import DataError


def _crps_integral(cdf, y: float, mu: float) -> float:
    """CRPS = integral of (F(x) - 1{x >= y})^2 dx over the real line, split at y and mu."""
    lo, hi = min(y, mu), max(y, mu)

    def f(x: float) -> float:
        return (cdf(x) - (x >= y)) ** 2

    parts = [(-np.inf, lo), (lo, hi), (hi, np.inf)]
    return float(sum(integrate.quad(f, u, v, limit=200)[0] for u, v in parts if u < v))


def test_crps_closed_forms_equal_brute_force_integral() -> None:
    rng = np.random.default_rng(0)
    for _ in range(8):
        mu, sigma, y = rng.normal(0, 0.05), rng.uniform(0.01, 0.1), rng.normal(0, 0.08)
        df = rng.uniform(2.5, 12)
        g = scoring.crps_gaussian([y], [mu], [sigma])[0]
        t = scoring.crps_student_t([y], [df], [mu], [sigma])[0]
        g_num = _crps_integral(functools.partial(stats.norm.cdf, loc=mu, scale=sigma), y, mu)
        t_num = _crps_integral(functools.partial(stats.t.cdf, df=df, loc=mu, scale=sigma), y, mu)
        assert g == pytest.approx(g_num, rel=1e-5, abs=1e-9)
        assert t == pytest.approx(t_num, rel=1e-4, abs=1e-8)


def test_gaussian_closed_form_matches_textbook_formula() -> None:
    y, mu, s = np.array([0.03, -0.1]), np.array([0.0, 0.01]), np.array([0.02, 0.05])
    z = (y - mu) / s
    expect = s * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))
    np.testing.assert_allclose(scoring.crps_gaussian(y, mu, s), expect, rtol=1e-10)


def test_quantile_and_ensemble_crps_approach_the_closed_form() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(0, 0.04, 50)
    mu, sigma = 0.005, 0.03
    exact = scoring.crps_gaussian(y, np.full(50, mu), np.full(50, sigma))
    levels = np.linspace(0.0005, 0.9995, 1999)
    q = np.tile(stats.norm.ppf(levels, mu, sigma), (50, 1))
    np.testing.assert_allclose(scoring.crps_from_quantiles(y, q, levels), exact, rtol=2e-3)
    members = stats.norm.ppf((np.arange(4000) + 0.5) / 4000, mu, sigma)
    np.testing.assert_allclose(scoring.crps_ensemble(y, members), exact, rtol=2e-3)
    coarse = scoring.crps_from_quantiles(y, q[:, ::400], levels[::400])
    assert np.all(coarse < 2 * exact)  # coarse grid: same order of magnitude, not exact


def test_pinball_and_coverage() -> None:
    y = np.array([1.0, 2.0, 3.0])
    q = np.array([2.0, 2.0, 2.0])
    # level 0.9: (2-1)*0.1, 0, (3-2)*0.9 -> mean 1/3
    assert scoring.pinball_loss(y, q, 0.9) == pytest.approx((0.1 + 0.9) / 3)
    assert scoring.quantile_coverage(y, q) == pytest.approx(2 / 3)
    with pytest.raises(DataError, match="level must be in"):
        scoring.pinball_loss(y, q, 1.5)


def test_pit_histogram_is_flat_for_uniform_and_sums_to_one() -> None:
    u = (np.arange(1000) + 0.5) / 1000
    hist = scoring.pit_histogram(u, bins=10)
    np.testing.assert_allclose(hist, 0.1)
    skewed = scoring.pit_histogram(u**3, bins=10)
    assert skewed.sum() == pytest.approx(1.0) and skewed[0] > 0.4


def test_brier_against_climatology() -> None:
    outcome = np.array([1, 0, 1, 1])
    assert scoring.brier_climatology(outcome) == pytest.approx(0.75 * 0.25)
    assert scoring.brier_score([1, 0, 1, 1], outcome) == 0.0
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        scoring.brier_score([1.2, 0, 0, 0], outcome)


def test_kupiec_matches_hand_computation_and_rejects_bad_rates() -> None:
    hits = np.zeros(250, dtype=bool)
    hits[:25] = True  # 10% violations where 5% were expected
    res = scoring.kupiec_test(hits, 0.05)
    n, x, p = 250, 25, 0.05
    lr = -2 * (
        (n - x) * math.log(1 - p) + x * math.log(p) - (n - x) * math.log(0.9) - x * math.log(0.1)
    )
    assert res.statistic == pytest.approx(lr) and res.pvalue == pytest.approx(stats.chi2.sf(lr, 1))
    assert res.pvalue < 0.01
    ok = np.zeros(1000, dtype=bool)
    ok[::20] = True
    assert scoring.kupiec_test(ok, 0.05).pvalue == pytest.approx(1.0)


def test_christoffersen_detects_clustered_violations() -> None:
    spread = np.random.default_rng(5).random(1000) < 0.05
    clustered = np.zeros(1000, dtype=bool)
    clustered[100:150] = True  # same count, all in one storm
    assert scoring.christoffersen_test(spread, 0.05).pvalue > 0.1
    assert scoring.christoffersen_test(clustered, 0.05).pvalue < 1e-6


def test_dm_crps_reuses_the_dm_test() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2, 0.01, 300), rng.gamma(2, 0.012, 300)
    res = scoring.dm_crps(a, b, horizon=3)
    same = diebold_mariano(np.sqrt(a), np.sqrt(b), horizon=3)  # squared errors == the losses
    assert res.statistic == pytest.approx(same.statistic) and res.pvalue == pytest.approx(
        same.pvalue
    )
    assert res.statistic < 0
