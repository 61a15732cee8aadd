"""One forecast, one distribution: every surface shows the same numbers, read off it.

The intervals are the distribution's quantiles, the forecast price its median, ``p_up`` and the
direction come from it, and the API, the CLI (table and JSON), the dashboard, the ledger and the
served replay all show those same numbers.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.cli import main
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.models.distribution import (
    REFERENCE_MIN_RETURNS,
    DistributionForecaster,
    GarchRef,
    MarketData,
    StandardShape,
)
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.replay.served import replay_period
from cryptoforecast.serving import create_app
from cryptoforecast.serving.distribution import (
    FALLBACK_SCALE,
    SHORT_HISTORY_SCALE,
    as_predictive,
    describe_distribution,
    fit_reference,
    read_distribution,
    served_distribution,
)
from cryptoforecast.serving.ledger import Ledger
from cryptoforecast.serving.point_forecast import PointForecast
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.response import build_forecast
from cryptoforecast.serving.schemas import DistributionShape, Forecast, ForecastDistribution

from .conftest import FakeClock, SyncASGIClient

H = 7


def _numbers(f: Forecast) -> dict[str, Any]:
    """Every number a surface shows of one forecast."""
    assert f.quantiles is not None and f.distribution is not None
    return {
        "predicted_price": f.predicted_price,
        "predicted_return": f.predicted_return,
        "intervals": {c: tuple(v) for c, v in f.intervals.items()},
        "quantiles": dict(f.quantiles),
        "p_up": f.p_up,
        "p_up_base_rate": f.p_up_base_rate,
        "p_up_is_base_rate": f.p_up_is_base_rate,
        "p_move": dict(f.p_move or {}),
        "direction": f.direction,
        "distribution": f.distribution,
    }


def _check_one_distribution(f: Forecast) -> None:
    """The forecast's numbers are those of its distribution."""
    assert f.distribution is not None and f.quantiles is not None and f.p_up is not None
    again = read_distribution(f.distribution, f.last_close, tuple(f.p_move or ()))
    assert f.quantiles == again.quantiles
    assert f.intervals == {0.8: again.intervals[0.8], 0.95: again.intervals[0.95]}
    assert f.intervals[0.8] == (f.quantiles[0.1], f.quantiles[0.9])
    assert f.intervals[0.95] == (f.quantiles[0.025], f.quantiles[0.975])
    assert f.predicted_price == f.quantiles[0.5]
    assert f.predicted_return == pytest.approx(f.distribution.location, abs=1e-15)
    assert f.predicted_price == pytest.approx(f.last_close * math.exp(f.predicted_return))
    assert f.p_up == again.p_up and f.p_up_base_rate == again.p_up_base_rate


def test_every_surface_shows_the_same_distribution(
    registry: Any, clock: FakeClock, cf_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # no production model: the technical fallback's point, the garch_ref fallback's shape
    plain = Predictor(registry=registry, clock=clock, record=False, cache_ttl=0)
    f = plain.predict("bitcoin", H)
    _check_one_distribution(f)
    assert f.source == "technical_analysis_fallback"
    assert f.distribution is not None
    assert f.distribution.source == FALLBACK_SCALE == "garch_ref (fallback)"
    assert (
        f.distribution_source
        == f"garch_ref (fallback: no production distribution for bitcoin h={H})"
    )
    expected = _numbers(f)

    # the API, one forecast and the batch (it records the forecast in the ledger)
    app = create_app(load_config(), registry=registry, clock=clock, retrain=None)
    client = SyncASGIClient(app)
    single = client.get(f"/v1/forecast/bitcoin?horizon={H}")
    assert single.status_code == 200
    assert _numbers(Forecast.model_validate(single.json())) == expected
    batch = client.get(f"/v1/forecast?ids=bitcoin&horizon={H}")
    assert batch.status_code == 200
    (one,) = batch.json()["forecasts"]
    assert _numbers(Forecast.model_validate(one)) == expected

    # the ledger row: the stored price and bounds are the distribution's, and it is kept with
    # garch_ref and the 30-day Gaussian at the same origin (location 0)
    row = Ledger().forecasts(crypto_id="bitcoin", horizon=H).iloc[-1]
    assert row["predicted_price"] == f.predicted_price
    assert (row["lower_80"], row["upper_80"]) == f.intervals[0.8]
    assert (row["lower_95"], row["upper_95"]) == f.intervals[0.95]
    assert ForecastDistribution.model_validate_json(row["distribution"]) == f.distribution
    reference = ForecastDistribution.model_validate_json(row["reference_distribution"])
    gaussian = ForecastDistribution.model_validate_json(row["gaussian_distribution"])
    assert (reference.source, reference.location) == ("garch_ref", 0.0)
    assert (gaussian.source, gaussian.location, gaussian.shape.kind) == (
        "rolling_gaussian",
        0.0,
        "normal",
    )
    assert reference.scale == pytest.approx(f.distribution.scale, rel=1e-12)  # the same fit

    # the dashboard reads the same fields
    html = client.get("/").text
    card = html[html.index('id="coin-bitcoin"') :]
    tr = re.search(rf'<tr class="forecast-row" data-horizon="{H}".*?</tr>', card, re.S)
    assert tr is not None
    shown = tr.group(0)
    assert f'data-price="{f.predicted_price}"' in shown
    for c in (0.8, 0.95):
        lo, hi = f.intervals[c]
        assert f'data-coverage="{c}" data-lower="{lo}" data-upper="{hi}"' in shown
    assert f'data-p-up="{f.p_up}"' in shown
    assert f'data-direction="{f.direction}"' in shown
    assert f'data-base-rate="{str(f.p_up_is_base_rate).lower()}"' in shown

    # the CLI: JSON and the table
    assert main(["forecast", "bitcoin", "-H", str(H), "--json"]) == 0
    (cli,) = json.loads(capsys.readouterr().out)["forecasts"]
    assert _numbers(Forecast.model_validate(cli)) == expected
    assert main(["forecast", "bitcoin", "-H", str(H)]) == 0
    table = capsys.readouterr().out
    lo80, hi80 = f.intervals[0.8]
    assert f"{f.predicted_price:,.0f}" in table
    assert f"{lo80:,.0f}-{hi80:,.0f}" in table
    assert f"{f.p_up:.0%}{'=' if f.p_up_is_base_rate else ''}" in table
    assert f" {f.direction} " in table


def test_the_served_replay_keeps_what_predictor_serves(tmp_path: Path) -> None:
    # a gate nothing passes: every origin is served by the fallback, as Predictor serves it
    settings = load_config(
        overrides={
            "training": {"days": 300, "validation_size": 60, "validation_retrain_every": 30},
            "promotion_gate": {"max_mase": 0.01},
        }
    )
    candles = load_ohlcv("bitcoin")
    origin = candles.index[-H - 1]
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")
    try:
        rows, _ = replay_period(candles, "bitcoin", H, origin, [origin], ("shrunk",), settings, reg)
        (row,) = rows
        f = Predictor(
            registry=reg, end=origin + pd.Timedelta(days=1), record=False, cache_ttl=0
        ).predict("bitcoin", H)
    finally:
        reg.close()
    _check_one_distribution(f)
    assert row["y_pred"] == f.predicted_price
    assert (row["lower_80"], row["upper_80"]) == f.intervals[0.8]
    assert (row["lower_95"], row["upper_95"]) == f.intervals[0.95]
    assert ForecastDistribution.model_validate_json(row["distribution"]) == f.distribution
    ref = ForecastDistribution.model_validate_json(row["reference_distribution"])
    assert ref.location == 0.0 and ref.scale == pytest.approx(f.distribution.scale, rel=1e-12)
    assert json.loads(row["gaussian_distribution"])["shape"]["kind"] == "normal"


def _candles(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.standard_t(4, n) * 0.02))
    idx = pd.date_range("2018-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame(
        {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close, "volume": 1.0},
        index=idx,
    )


def _dist(location: float, scores: list[float] | None = None) -> ForecastDistribution:
    shape = (
        DistributionShape(kind="empirical", scores=scores)
        if scores
        else DistributionShape(kind="t", df=4.0, scale=0.7)
    )
    return ForecastDistribution(source="test", location=location, scale=0.03, shape=shape)


def test_intervals_are_quantiles_and_the_price_is_the_median() -> None:
    served = read_distribution(_dist(0.01), 200.0)
    q = as_predictive(_dist(0.01)).quantiles([0.025, 0.1, 0.5, 0.9, 0.975]).iloc[0]
    assert served.intervals == {
        0.8: (served.quantiles[0.1], served.quantiles[0.9]),
        0.95: (served.quantiles[0.025], served.quantiles[0.975]),
    }
    assert served.quantiles[0.1] == pytest.approx(200 * math.exp(q[0.1]), rel=1e-12)
    assert served.median_price == pytest.approx(200 * math.exp(0.01), rel=1e-12)
    assert served.median_return == pytest.approx(0.01, abs=1e-15)


def test_direction_follows_the_median_and_is_flat_at_the_base_rate() -> None:
    base = read_distribution(_dist(0.0), 100.0)
    assert base.p_up == pytest.approx(base.p_up_base_rate)
    assert base.p_up_is_base_rate and base.direction == "flat"
    # a tiny location: p_up moves less than 2 points from the base rate: flat, and said so
    tiny = read_distribution(_dist(0.0005), 100.0)
    assert tiny.median_return > 0 and tiny.p_up > tiny.p_up_base_rate
    assert tiny.p_up_is_base_rate and tiny.direction == "flat"
    up = read_distribution(_dist(0.01), 100.0)
    assert up.p_up - up.p_up_base_rate >= 0.02 and not up.p_up_is_base_rate
    assert up.direction == "up"
    down = read_distribution(_dist(-0.01), 100.0)
    assert down.direction == "down" and down.p_up < down.p_up_base_rate - 0.02


def test_the_base_rate_is_p_up_of_the_same_shape_at_zero_location() -> None:
    # a skewed empirical shape (centred on its median): its base rate is not one half
    scores = [-3.0, -2.5, -2.0, -1.0, 0.0, 0.1, 0.2, 0.3, 0.4]
    dist = _dist(0.004, scores)
    served = read_distribution(dist, 100.0)
    at_zero = as_predictive(dist.model_copy(update={"location": 0.0}))
    assert served.p_up_base_rate == pytest.approx(float(at_zero.p_up().iloc[0]))
    assert served.p_up_base_rate != pytest.approx(0.5, abs=0.01)


def test_a_centred_empirical_shape_has_median_zero() -> None:
    shape = StandardShape("empirical", scores=np.random.default_rng(1).normal(0.4, 1.0, 301))
    assert abs(float(shape.ppf([0.5])[0])) > 0.1
    centred = shape.centred()
    assert float(centred.ppf([0.5])[0]) == pytest.approx(0.0, abs=1e-12)
    # only moved: the spread is the same
    np.testing.assert_allclose(np.diff(centred.scores), np.diff(shape.scores), atol=1e-12)
    for kind in (StandardShape("t", df=4.0, scale=0.7), StandardShape("normal")):
        assert kind.centred() is kind and float(kind.ppf([0.5])[0]) == 0.0


def test_a_stored_conformal_distribution_is_served_on_its_centred_shape() -> None:
    candles = _candles(700)
    stored = DistributionForecaster("ewma_t", horizon=3).fit(MarketData(candles.iloc[:-50]))
    assert stored.calibrator_.shape().kind == "empirical"
    served = served_distribution(candles, 3, 0.002, stored=stored, label="ewma_t (x v1)")
    assert served.source == "ewma_t (x v1)"
    assert served.median_return == pytest.approx(0.002, abs=1e-12)
    assert served.distribution.shape.kind == "empirical"


def test_fallback_is_garch_ref_then_ewma_t_under_500_returns_then_none() -> None:
    long = _candles(REFERENCE_MIN_RETURNS + 101)
    served = served_distribution(long, 7, 0.0)
    assert served.source == FALLBACK_SCALE
    # garch_ref fitted on these candles, uncalibrated, at horizon 7 from the same parameters
    fit = fit_reference(long)
    assert isinstance(fit.model, GarchRef)
    direct = DistributionForecaster("garch_ref", horizon=7, calibration="none").fit(
        MarketData(long)
    )
    expected = describe_distribution(direct.predict_distribution(MarketData(long)), "x")
    assert served.distribution.scale == pytest.approx(expected.scale, rel=1e-9)
    assert served.distribution.shape.df == pytest.approx(expected.shape.df, rel=1e-9)

    short = _candles(REFERENCE_MIN_RETURNS)  # 499 returns
    assert served_distribution(short, 7, 0.0).source == SHORT_HISTORY_SCALE
    assert SHORT_HISTORY_SCALE == "ewma_t (fallback: under 500 days of history)"
    with pytest.raises(Exception, match="needs at least"):
        served_distribution(_candles(40), 7, 0.0)


def test_a_short_history_serves_the_labelled_ewma_t(registry: Any, clock: FakeClock) -> None:
    pred = Predictor(registry=registry, clock=clock, record=False, cache_ttl=0, history=450)
    f = pred.predict("bitcoin", 1)
    assert len(pred.candles("bitcoin")) == 450 and f.distribution is not None
    assert f.distribution.source == SHORT_HISTORY_SCALE
    assert f.distribution_source == (
        "ewma_t (fallback: under 500 days of history; no production distribution for bitcoin h=1)"
    )
    _check_one_distribution(f)


def test_a_forecast_without_any_distribution_says_why(clock: FakeClock) -> None:
    candles = _candles(40)
    answer = PointForecast(
        0.01, {0.8: (-0.5, 0.5)}, "technical", "technical_analysis_fallback",
        fallback_reason="no production model",
    )  # fmt: skip
    f = build_forecast(
        "bitcoin", candles, 1, answer, interval="1d", now=clock.now, move_thresholds=(0.05,),
        staleness={"stale": False, "stale_reason": None},
    )  # fmt: skip
    # no interval from anywhere else (the point model's own bands are never served)
    assert f.intervals == {} and f.quantiles is None and f.distribution is None
    assert f.p_up is None and f.p_up_base_rate is None and not f.p_up_is_base_rate
    assert f.no_distribution_reason is not None and "needs at least" in f.no_distribution_reason
    close = float(candles["close"].iloc[-1])
    assert f.predicted_price == pytest.approx(close * math.exp(0.01)) and f.direction == "up"


def test_the_fallback_at_an_origin_ignores_every_later_candle() -> None:
    candles = _candles(900)
    origin = candles.index[-60]
    known = candles.loc[:origin]
    served = served_distribution(known, 7, 0.001)
    changed = candles.copy()
    after = changed.index > origin
    changed.loc[after, ["open", "high", "low", "close"]] *= 1.5
    again = served_distribution(changed.loc[:origin], 7, 0.001)
    assert again.quantiles == served.quantiles
    # the reference's variance filter at the origin reads no later return
    fit = fit_reference(known)
    assert fit.model is not None
    sigma_known = fit.model.with_horizon(7).predict_scale(MarketData(known)).loc[origin]
    sigma_changed = fit.model.with_horizon(7).predict_scale(MarketData(changed)).loc[origin]
    assert sigma_known == sigma_changed
