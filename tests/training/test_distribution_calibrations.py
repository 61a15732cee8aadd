"""The walk engine's calibration choices (none, conformal, conformal_window, aci, blend): no
look-ahead, scores enter exactly when their target is known, and each choice is what it says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.backtest.distribution_walk import DistributionWalk, walk_distribution
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models.distribution import MarketData
from cryptoforecast.models.distribution.calibration import (
    ACI_GAMMA,
    CALIBRATIONS,
    make_calibrator,
)

WINDOW = 60  # small, so the rolling window drops scores inside the walk


@pytest.fixture(scope="module")
def market() -> MarketData:
    """700 days of bitcoin with their 4h candles (har_rv reads both)."""
    daily = load_ohlcv("bitcoin").iloc[-700:]
    intraday = load_ohlcv("bitcoin", interval="4h")
    return MarketData(daily, intraday.loc[intraday.index >= daily.index[0]])


def targets(market: MarketData, h: int) -> pd.Series:
    close = market.daily["close"]
    return np.log(close.shift(-h) / close)


def walk(
    market: MarketData, h: int, calibration: str, y: pd.Series | None = None
) -> DistributionWalk:
    origins = market.daily.index[-150:]
    return walk_distribution(
        market,
        origins,
        targets(market, h) if y is None else y,
        "har_rv",
        h,
        retrain_frequency=30,
        calibration=calibration,  # type: ignore[arg-type]
        calibration_window=WINDOW,
    )


def perturb_after(market: MarketData, t: pd.Timestamp, seed: int = 0) -> MarketData:
    """The same candles up to ``t``; every candle after it (daily and 4h) scaled at random."""
    rng = np.random.default_rng(seed)

    def shake(frame: pd.DataFrame, after: np.ndarray) -> pd.DataFrame:
        out = frame.copy()
        factor = np.exp(np.cumsum(rng.normal(0, 0.05, int(after.sum()))))
        for col in ("open", "high", "low", "close"):
            out.loc[after, col] = out.loc[after, col].to_numpy() * factor
        return out

    daily = shake(market.daily, np.asarray(market.daily.index > t))
    assert market.intraday is not None
    end = t + pd.Timedelta(days=1)
    return MarketData(daily, shake(market.intraday, np.asarray(market.intraday.index >= end)))


def issued(w: DistributionWalk) -> pd.DataFrame:
    """What the walk issues at each origin (quantiles, p_up, sigma), not the scores of it."""
    return w.quantiles.assign(p_up=w.p_up, sigma=w.sigma)


@pytest.mark.parametrize("h", [1, 7])
@pytest.mark.parametrize("calibration", CALIBRATIONS)
def test_candles_after_the_origin_change_nothing_issued_at_it(
    market: MarketData, calibration: str, h: int
) -> None:
    base = issued(walk(market, h, calibration))
    t = base.index[70]  # after two refits, the calibrator fed for 70 origins
    shaken = perturb_after(market, t)
    other = issued(walk(shaken, h, calibration))  # the targets are recomputed from them too
    pd.testing.assert_frame_equal(base.loc[:t], other.loc[:t], check_exact=True)
    assert base.loc[:t].notna().all().all()
    # the test can fail: after t the forecasts do move
    later = base.index[base.index > t + pd.Timedelta(days=h)]
    assert not np.allclose(base.loc[later].to_numpy(), other.loc[later].to_numpy())


@pytest.mark.parametrize("calibration", CALIBRATIONS)
def test_a_score_enters_exactly_when_its_target_is_known(
    market: MarketData, calibration: str
) -> None:
    """An outlandish realised return at origin j changes nothing issued before origin j + h, and
    (for every calibrated choice) the distribution issued at j + h, when its target is known."""
    h = 7
    y = targets(market, h)
    base = issued(walk(market, h, calibration, y))
    origins = base.index
    j = next(k for k in range(40, 100) if y[origins[k]] < 0)  # a score below the median
    bent = y.copy()
    bent[origins[j]] = 3.0  # a 20-fold rise in a week: the largest score ever
    other = issued(walk(market, h, calibration, bent))
    known = origins[j + h]  # the first origin at which the target of origin j is known
    pd.testing.assert_frame_equal(
        base.loc[origins < known], other.loc[origins < known], check_exact=True
    )
    if calibration == "none":
        pd.testing.assert_frame_equal(base, other, check_exact=True)
    else:
        assert not np.allclose(base.loc[known].to_numpy(), other.loc[known].to_numpy())


def test_the_choices_differ_and_blend_averages_the_parametric_and_conformal_quantiles(
    market: MarketData,
) -> None:
    walks = {c: walk(market, 1, c) for c in CALIBRATIONS}
    q = {c: w.quantiles.iloc[-30:] for c, w in walks.items()}
    for a in CALIBRATIONS:
        for b in CALIBRATIONS:
            if a < b:
                assert not np.allclose(q[a].to_numpy(), q[b].to_numpy()), (a, b)
    # the same scale path; the blend's quantile is the mean of the two shapes' quantiles
    sigma = walks["none"].sigma.iloc[-30:]
    pd.testing.assert_series_equal(sigma, walks["blend"].sigma.iloc[-30:])
    mean = 0.5 * (q["none"] + q["conformal"])
    np.testing.assert_allclose(q["blend"].to_numpy(), mean.to_numpy(), rtol=0, atol=1e-12)
    assert (sigma > 0).all()


def test_conformal_window_keeps_the_most_recent_scores() -> None:
    cal = make_calibrator("conformal_window", np.arange(500.0), window=250)
    np.testing.assert_array_equal(cal.scores, np.arange(250.0, 500.0))
    cal.add([1000.0, 1001.0])
    assert cal.scores.size == 250 and list(cal.scores[-2:]) == [1000.0, 1001.0]
    assert cal.scores[0] == 252.0
    # the all-scores choices keep up to 1,000
    assert make_calibrator("conformal", np.arange(1500.0)).scores.size == 1000


def test_aci_adapts_by_default_and_the_others_only_when_asked() -> None:
    assert make_calibrator("aci").gamma == ACI_GAMMA
    assert make_calibrator("aci", aci_gamma=0.02).gamma == 0.02
    assert make_calibrator("conformal").gamma is None
    assert make_calibrator("conformal_window").gamma is None


def test_unknown_choice_and_tiny_window_are_refused(market: MarketData) -> None:
    with pytest.raises(
        ConfigError, match="one of none, conformal, conformal_window, aci, blend, got 'isotonic'"
    ):
        walk(market, 1, "isotonic")
    with pytest.raises(ConfigError, match="conformal window.*got 5"):
        make_calibrator("conformal_window", window=5)
