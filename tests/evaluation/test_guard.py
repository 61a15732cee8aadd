"""The live guard's sequential test: it trips on a model that turns bad, rarely on one as good
as naive (at the stated ARL0), never reads the future, and refuses bad settings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.guard import (
    ARL0,
    CALIBRATED_THRESHOLDS,
    DETECTION_DELAY_P95,
    GuardParams,
    LossGuard,
    cusum_run,
    guard_params,
    guard_walk,
    simulate_differentials,
)
from cryptoforecast.exceptions import ConfigError


def _poisson_bound(mean: float) -> float:
    """A one-sided bound a Poisson count with ``mean`` exceeds with probability under 0.2%."""
    return mean + 3.0 * math.sqrt(mean) + 1.0


def _planted(
    h: int, flip_at: int, n: int = 900
) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    """Bitcoin's closes; a model forecasting half the realised h-step log return (good) until
    origin ``flip_at``, then its opposite (the forecast's sign flips: it loses clearly)."""
    close = load_ohlcv("bitcoin")["close"].astype("float64").iloc[-(n + h) :]
    origins = close.index[:n]
    naive = close.to_numpy()[:n]
    y_true = close.to_numpy()[h : n + h]
    r = np.log(y_true / naive)
    f = np.where(np.arange(n) < flip_at, 0.5 * r, -0.5 * r)
    return origins, y_true, naive * np.exp(f), naive


@pytest.mark.parametrize("h", [1, 7])
def test_a_model_whose_forecasts_flip_sign_trips_within_the_stated_delay(h: int) -> None:
    flip_at = 500
    origins, y_true, y_pred, naive = _planted(h, flip_at)
    walk = guard_walk(origins, y_true, y_pred, naive, h)
    trips = np.flatnonzero(walk.tripped.to_numpy())
    assert len(trips) and trips[0] >= flip_at, "tripped before the model turned bad"
    delay = trips[0] - flip_at
    assert delay <= DETECTION_DELAY_P95[h], (delay, DETECTION_DELAY_P95[h])
    trip = walk.trips[0]
    assert trip.origin == origins[trips[0]] and trip.statistic > trip.threshold
    assert trip.model_mae > trip.naive_mae and trip.last_origin <= origins[trips[0] - h]
    assert "live guard" in trip.reason()


@pytest.mark.parametrize("h", [1, 7])
def test_a_model_as_good_as_naive_trips_no_more_often_than_the_stated_arl0(h: int) -> None:
    # fresh seeds (calibration used others): 24 paths x 5,000 errors, model/naive correlation 0
    d, b = simulate_differentials(h, 5000, 24, rho=0.0, seed=99)
    alarms = int(cusum_run(d, b, [CALIBRATED_THRESHOLDS[h]], GuardParams())[0])
    assert alarms <= _poisson_bound(d.size / ARL0), alarms


@pytest.mark.parametrize("h", [1, 7])
def test_naive_on_the_snapshot_never_trips_and_naive_plus_noise_rarely(h: int) -> None:
    close = load_ohlcv("bitcoin")["close"].astype("float64")
    n = len(close) - h
    origins, naive, y_true = close.index[:n], close.to_numpy()[:n], close.to_numpy()[h:]
    assert not guard_walk(origins, y_true, naive, naive, h).tripped.any()
    noise = np.random.default_rng(5).normal(0.0, 1e-4, n)
    walk = guard_walk(origins, y_true, naive * np.exp(noise), naive, h)
    assert walk.tripped.sum() <= _poisson_bound(n / ARL0)


def test_the_vectorised_calibration_is_the_guard_itself() -> None:
    h = 3
    d, b = simulate_differentials(h, 3000, 3, rho=0.5, seed=11)
    params = GuardParams(thresholds={h: 4.0})  # low: several alarms to compare
    expected = int(cusum_run(d, b, [4.0], params)[0])
    alarms = 0
    for path in range(d.shape[0]):
        guard = LossGuard(h, params)
        for j in range(d.shape[1]):
            # errors with these absolute values give these differentials
            alarms += guard.update(j, d[path, j] + b[path, j], b[path, j]) is not None
    assert expected > 3 and alarms == expected


def test_the_decision_at_an_origin_ignores_every_later_price() -> None:
    h, decide = 7, 700
    origins, y_true, y_pred, naive = _planted(h, 500)
    before = guard_walk(origins, y_true, y_pred, naive, h)
    y_true2, y_pred2, naive2 = y_true.copy(), y_pred.copy(), naive.copy()
    y_true2[decide - h + 1 :] *= 3.0  # every outcome not yet known at the decision origin
    y_pred2[decide + 1 :] *= 0.5
    naive2[decide + 1 :] *= 2.0
    after = guard_walk(origins, y_true2, y_pred2, naive2, h)
    pd.testing.assert_series_equal(before.statistic[: decide + 1], after.statistic[: decide + 1])
    pd.testing.assert_series_equal(before.tripped[: decide + 1], after.tripped[: decide + 1])
    assert not before.statistic.equals(after.statistic)  # the change did reach later origins


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"drift": -1.0}, "drift must be a finite number > 0"),
        ({"clip": math.nan}, "clip must be a finite number"),
        ({"window": 1}, "window must be a whole number >= 2"),
        ({"window": 20}, "min_errors .* must be at most window"),
        ({"drift": 1.0}, "calibrated thresholds hold for"),
        ({"thresholds": {7: 0.0}}, "threshold for horizon 7 must be a finite number > 0"),
    ],
)
def test_bad_settings_are_a_config_error(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        GuardParams(**kwargs)  # type: ignore[arg-type]


def test_a_horizon_without_a_threshold_and_the_settings_section() -> None:
    with pytest.raises(ConfigError, match="no threshold for horizon 30"):
        LossGuard(30)
    with pytest.raises(ConfigError, match="no threshold for horizon 1"):
        LossGuard(1, GuardParams(thresholds={7: 5.0}))
    settings = load_config()
    assert settings.guard.enabled is True
    assert guard_params(settings.guard) == GuardParams()
    with pytest.raises(ValueError, match="guard threshold"):
        load_config(overrides={"guard": {"thresholds": {30: 5.0}}})
    with pytest.raises(ConfigError, match="calibrated thresholds"):
        guard_params(load_config(overrides={"guard": {"window": 60}}).guard)
