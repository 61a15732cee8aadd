"""The Student-t shape fit by profile likelihood agrees with scipy's maximum likelihood."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution.shapes import fit_student_t
from cryptoforecast.models.distribution.volatility import ewma_variance


def mean_loglik(z: np.ndarray, df: float, scale: float) -> float:
    return float(np.mean(stats.t.logpdf(z, df, loc=0.0, scale=scale)))


def coin_residuals(symbol: str) -> np.ndarray:
    """A coin's next-day log returns over its EWMA scale (what ``ewma_t`` fits its shape to)."""
    close = load_ohlcv(symbol)["close"].astype("float64")
    r = pd.Series(np.log(close / close.shift(1)))
    z = r.shift(-1) / np.sqrt(ewma_variance(r))
    return np.asarray(z.dropna().to_numpy(), dtype="float64")


SIMULATED = {
    f"t{df}": np.random.default_rng(df).standard_t(df, 1500) * 0.8 for df in (3, 5, 10, 30)
}
SAMPLES = [*SIMULATED, *(a.symbol for a in snapshot_assets())]


def sample(name: str) -> np.ndarray:
    return SIMULATED[name] if name in SIMULATED else coin_residuals(name)


@pytest.mark.parametrize("name", SAMPLES)
def test_profile_fit_reaches_the_mle_likelihood(name: str) -> None:
    z = sample(name)
    df, scale = fit_student_t(z)
    ref_df, ref_scale = fit_student_t(z, method="mle")
    fast, ref = mean_loglik(z, df, scale), mean_loglik(z, ref_df, ref_scale)
    # never worse than the optimiser's optimum beyond rounding (Nelder-Mead stops at its tolerance)
    assert fast >= ref - 1e-9, (name, df, scale, ref_df, ref_scale)
    assert abs(fast - ref) < 1e-4
    assert df == pytest.approx(ref_df, rel=1e-3)
    assert scale == pytest.approx(ref_scale, rel=1e-4)


def test_profile_fit_is_a_stationary_point_of_the_likelihood() -> None:
    """The fitted (df, scale) is the likelihood's maximum: nudging either lowers it."""
    z = SIMULATED["t5"]
    df, scale = fit_student_t(z)
    best = mean_loglik(z, df, scale)
    for d_df, d_scale in ((1.01, 1.0), (0.99, 1.0), (1.0, 1.001), (1.0, 0.999)):
        assert mean_loglik(z, df * d_df, scale * d_scale) < best


def test_near_normal_data_clip_df_at_the_upper_bound_and_refit_the_scale() -> None:
    z = np.random.default_rng(7).standard_normal(2000) * 1.3
    df, scale = fit_student_t(z)
    ref_df, ref_scale = fit_student_t(z, method="mle")
    assert df == ref_df == 200.0
    assert scale == pytest.approx(ref_scale, rel=1e-4)
    # the scale is the MLE at the clipped df
    for nudge in (1.001, 0.999):
        assert mean_loglik(z, df, scale * nudge) < mean_loglik(z, df, scale)


def test_very_heavy_tails_clip_df_at_the_lower_bound() -> None:
    z = np.random.default_rng(3).standard_cauchy(3000)
    df, scale = fit_student_t(z)
    assert df == 2.1
    for nudge in (1.001, 0.999):
        assert mean_loglik(z, df, scale * nudge) < mean_loglik(z, df, scale)


def test_non_finite_values_are_dropped() -> None:
    z = SIMULATED["t10"]
    assert fit_student_t(np.r_[z, np.nan, np.inf]) == fit_student_t(z)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (np.ones(29), "at least 30 standardised residuals"),
        (np.r_[np.full(40, np.nan), np.ones(10)], "got 10"),
        (np.zeros(50), "all zero"),
    ],
)
def test_refusals_say_what_and_how(values: np.ndarray, match: str) -> None:
    with pytest.raises(DataError, match=match):
        fit_student_t(values)


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(DataError, match="'profile' or 'mle', got 'moments'"):
        fit_student_t(SIMULATED["t5"], method="moments")  # type: ignore[arg-type]
