"""The combination's weights: from past CRPS only (targets known at the origin), equal until
enough origins are scored, near equal for members that differ by noise, a clearly worse member
dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.models.distribution import (
    COMBINATION_MIN_SCORED,
    combination_weights,
    fitted_weights,
)


def _crps(n: int = 400, scales: tuple[float, ...] = (1.0, 1.0, 1.0), seed: int = 0) -> pd.DataFrame:
    """Daily per-origin CRPS of members whose mean CRPS is proportional to ``scales``."""
    rng = np.random.default_rng(seed)
    base = rng.gamma(2.0, 0.005, n)  # a common, volatile level (every member sees the same days)
    noise = rng.lognormal(0.0, 0.2, (n, len(scales)))
    index = pd.date_range("2022-01-01", periods=n, freq="D", tz="UTC")
    columns = [f"m{i}" for i in range(len(scales))]
    return pd.DataFrame(base[:, None] * noise * np.array(scales), index=index, columns=columns)


def test_every_row_is_non_negative_and_sums_to_one() -> None:
    w = combination_weights(_crps(scales=(1.0, 1.3, 2.0)), horizon=7)
    assert list(w.columns) == ["m0", "m1", "m2"] and w.index.equals(_crps().index)
    assert (w.to_numpy() >= 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("horizon", [1, 7])
def test_equal_weights_until_min_scored_origins_have_known_targets(horizon: int) -> None:
    crps = _crps(scales=(1.0, 3.0))
    w = combination_weights(crps, horizon, min_scored=30)
    # row t reads rows <= t - h: 30 of them exist first at row 29 + h
    first_fitted = 29 + horizon
    np.testing.assert_array_equal(w.iloc[:first_fitted].to_numpy(), 0.5)
    assert w.iloc[first_fitted]["m1"] < 0.5


@pytest.mark.parametrize("horizon", [1, 3, 7])
def test_weights_at_an_origin_read_no_crps_whose_target_is_unknown_there(horizon: int) -> None:
    crps = _crps(scales=(1.0, 1.2, 1.5))
    w = combination_weights(crps, horizon, min_scored=20, window=100)
    for t in (25 + horizon, 150, 399):
        changed = crps.copy()
        later = np.arange(len(crps)) > t - horizon  # targets realised after t
        rng = np.random.default_rng(t)
        changed.iloc[later] = rng.uniform(0.0, 1.0, (int(later.sum()), 3))
        after = combination_weights(changed, horizon, min_scored=20, window=100)
        pd.testing.assert_frame_equal(after.iloc[: t + 1], w.iloc[: t + 1])
        # and it does read the latest known one (the lag is exactly the horizon)
        known = crps.copy()
        known.iloc[t - horizon] = [5.0, 0.0, 0.0]
        moved = combination_weights(known, horizon, min_scored=20, window=100)
        assert moved.iloc[t]["m0"] < w.iloc[t]["m0"]


def test_a_clearly_worse_member_is_dropped_and_a_noisy_tie_stays_near_equal() -> None:
    w = combination_weights(_crps(scales=(1.0, 2.0, 1.02)), horizon=7)
    late = w.iloc[COMBINATION_MIN_SCORED + 30 :]
    assert late["m1"].max() < 0.01  # twice as bad: (1/2)**10 of the best's weight
    assert late["m2"].min() > 0.3 and late["m0"].min() > 0.3  # 0.5 each with no noise


def test_the_window_forgets_old_scores() -> None:
    crps = _crps(n=500, scales=(1.0, 1.0))
    crps.iloc[:200, 1] *= 3.0  # m1 bad early, as good later
    w = combination_weights(crps, horizon=1, min_scored=30, window=100)
    assert w.iloc[199]["m1"] < 0.01
    assert w.iloc[-1]["m1"] > 0.4
    expanding = combination_weights(crps, horizon=1, min_scored=30, window=None)
    assert expanding.iloc[-1]["m1"] < 0.1


def test_rows_where_a_member_was_not_scored_are_skipped() -> None:
    crps = _crps(scales=(1.0, 2.0))
    crps.iloc[:100, 0] = np.nan  # m0 not scored on the first 100 origins
    w = combination_weights(crps, horizon=1, min_scored=30)
    np.testing.assert_array_equal(w.iloc[:130].to_numpy(), 0.5)
    assert w.iloc[131]["m1"] < 0.01


def test_fitted_weights_are_the_walk_weights_once_every_row_is_known() -> None:
    crps = _crps(scales=(1.0, 1.1, 1.4))
    for t in (60, 200, 399):
        walk = combination_weights(crps, horizon=5, min_scored=40, window=120).iloc[t]
        fitted = fitted_weights(crps.iloc[: t - 5 + 1], min_scored=40, window=120)
        assert list(fitted) == ["m0", "m1", "m2"]
        np.testing.assert_allclose(list(fitted.values()), walk.to_numpy(), rtol=0, atol=1e-12)
    assert fitted_weights(crps.iloc[:10]) == {"m0": 1 / 3, "m1": 1 / 3, "m2": 1 / 3}


def test_bad_inputs_are_refused_with_the_value() -> None:
    crps = _crps(scales=(1.0, 1.0))
    bad = crps.copy()
    bad.iloc[5, 0] = -1.0
    with pytest.raises(DataError, match="finite and >= 0"):
        combination_weights(bad, 1)
    with pytest.raises(DataError, match="increasing"):
        combination_weights(crps.iloc[::-1], 1)
    with pytest.raises(ConfigError, match="horizon"):
        combination_weights(crps, 0)
    with pytest.raises(ConfigError, match="window must be"):
        combination_weights(crps, 1, min_scored=50, window=10)
    with pytest.raises(ConfigError, match="sharpness"):
        fitted_weights(crps, sharpness=-1.0)
