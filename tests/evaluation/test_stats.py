"""Diebold-Mariano with the HLN correction, checked against answers worked out independently."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from cryptoforecast.evaluation.stats import diebold_mariano
from cryptoforecast.exceptions import DataError

E_MODEL = [1.0, -2.0, 3.0, 0.0, 2.0, -1.0]
E_NAIVE = [2.0, 1.0, -1.0, 1.0, -3.0, 2.0]
# d = e_model^2 - e_naive^2 = [-3, 3, 8, -1, -5, -3]; T = 6; sum = -1; dbar = -1/6
# d - dbar = [-17, 19, 49, -5, -29, -17] / 6
# sum of squares of (d - dbar) * 36   = 289 + 361 + 2401 + 25 + 841 + 289 = 4206
# lag-1 cross products * 36           = (19)(-17) + (49)(19) + (-5)(49) + (-29)(-5) + (-17)(-29)
#                                     = -323 + 931 - 245 + 145 + 493 = 1001
T = 6
DBAR = Fraction(-1, 6)
GAMMA0 = Fraction(4206, 36 * T)
GAMMA1 = Fraction(1001, 36 * T)


def _hln(dm: float, T: int, h: int) -> float:
    return dm * math.sqrt((T + 1 - 2 * h + h * (h - 1) / T) / T)


def test_h1_equals_the_one_sample_t_test() -> None:
    # For h = 1 the HLN-corrected DM statistic is algebraically the paired t statistic on d
    rng = np.random.default_rng(3)
    e1, e2 = rng.normal(0, 1.0, 80), rng.normal(0, 1.2, 80)
    res = diebold_mariano(e1, e2, horizon=1)
    ref = stats.ttest_1samp(e1**2 - e2**2, 0.0)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert res.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    assert res.n == 80 and res.reason is None


def test_h1_hand_example() -> None:
    var = GAMMA0 / T
    dm = float(DBAR) / math.sqrt(float(var))
    stat = _hln(dm, T, 1)
    res = diebold_mariano(E_MODEL, E_NAIVE, horizon=1)
    assert res.statistic == pytest.approx(stat, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.t.sf(abs(stat), T - 1), rel=1e-12)
    assert res.mean_loss_difference == pytest.approx(-1 / 6)


@pytest.mark.parametrize(
    ("kernel", "var"),
    [
        ("rectangular", (GAMMA0 + 2 * GAMMA1) / T),  # = 6208 / 1296
        ("newey-west", (GAMMA0 + 2 * Fraction(1, 2) * GAMMA1) / T),  # Bartlett w_1 = 1 - 1/2
    ],
)
def test_h2_hand_example(kernel: str, var: Fraction) -> None:
    dm = float(DBAR) / math.sqrt(float(var))
    stat = _hln(dm, T, 2)  # factor (6 + 1 - 4 + 2/6) / 6 = 5/9
    res = diebold_mariano(E_MODEL, E_NAIVE, horizon=2, kernel=kernel)  # type: ignore[arg-type]
    assert res.statistic == pytest.approx(stat, rel=1e-12)
    assert res.pvalue == pytest.approx(2 * stats.t.sf(abs(stat), df=T - 1), rel=1e-12)
    if kernel == "rectangular":
        assert float(var) == pytest.approx(6208 / 1296)
        assert res.statistic == pytest.approx(-1 / 6 / math.sqrt(6208 / 1296) * math.sqrt(5 / 9))


def test_without_hln_uses_the_normal() -> None:
    res = diebold_mariano(E_MODEL, E_NAIVE, horizon=1, hln=False)
    dm = -1 / 6 / math.sqrt(4206 / 216 / 6)
    assert res.statistic == pytest.approx(dm)
    assert res.pvalue == pytest.approx(2 * stats.norm.sf(abs(dm)))


def test_sign_says_who_wins() -> None:
    rng = np.random.default_rng(0)
    truth_noise = rng.normal(0, 1, 300)
    better = diebold_mariano(truth_noise * 0.5, truth_noise * 1.5, horizon=1)
    assert better.statistic < 0 and better.pvalue < 1e-6
    worse = diebold_mariano(truth_noise * 1.5, truth_noise * 0.5, horizon=1)
    assert worse.statistic > 0 and worse.pvalue == pytest.approx(better.pvalue)


def test_identical_forecasts_give_pvalue_one_with_reason() -> None:
    e = np.array([1.0, -2.0, 0.5, 3.0])
    res = diebold_mariano(e, e.copy(), horizon=3)
    assert res.statistic == 0.0 and res.pvalue == 1.0
    assert "identically zero" in (res.reason or "")


def test_degenerate_cases_are_nan_with_reason() -> None:
    one = diebold_mariano([1.0], [2.0], horizon=1)
    assert math.isnan(one.pvalue) and "at least 2" in (one.reason or "")
    # rectangular kernel with strongly negative lag-1 autocovariance: variance <= 0
    alt = diebold_mariano(
        [2.0, 0.0, 2.0, 0.0], [0.0, 2.0, 0.0, 2.0], horizon=2, kernel="rectangular"
    )
    assert math.isnan(alt.statistic) and "not positive" in (alt.reason or "")


def test_bad_inputs() -> None:
    with pytest.raises(DataError, match="same origins"):
        diebold_mariano([1.0, 2.0], [1.0], horizon=1)
    with pytest.raises(DataError, match="horizon"):
        diebold_mariano([1.0, 2.0], [1.0, 2.0], horizon=0)
    with pytest.raises(DataError, match="NaN"):
        diebold_mariano([1.0, np.nan], [1.0, 2.0])
