"""Forecasts as data: ``Forecast.to_frame``, ``Predictor.predict_path`` and the fan chart.

Every column is one of the forecast's own fields (nothing recomputed); the path is ``predict``
per horizon; the chart is a real PNG with a date axis; nothing after the origin moves the path.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import DataError
from cryptoforecast.serving import Forecast, Predictor, plot_forecast_path
from cryptoforecast.serving import predictor as predictor_module
from cryptoforecast.serving.state import ServingState

from .conftest import FakeClock, Trained

ORIGIN = "2025-03-01"


def make_predictor(registry: Any, clock: FakeClock, **kwargs: Any) -> Predictor:
    return Predictor(registry=registry, clock=clock, record=False, state=ServingState(), **kwargs)


def quantile_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("q")]


def test_to_frame_is_one_row_of_the_forecasts_own_fields(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    forecast = make_predictor(registry, clock).predict("bitcoin", 1)
    assert forecast.source == "model" and forecast.quantiles and forecast.p_move
    frame = forecast.to_frame()

    assert frame.index.tolist() == [1] and frame.index.name == "horizon"
    row = frame.iloc[0]
    for name in ("crypto_id", "interval", "last_close", "predicted_price", "predicted_return"):
        assert row[name] == getattr(forecast, name), name
    for name in ("direction", "p_up", "source", "model_type", "model_id", "distribution_source"):
        assert row[name] == getattr(forecast, name), name
    assert row["as_of"] == pd.Timestamp(forecast.as_of)
    assert row["target_time"] == pd.Timestamp(forecast.target_time)
    assert quantile_columns(frame) == sorted(quantile_columns(frame))  # named so they sort
    assert [row[f"q{level:g}"] for level in sorted(forecast.quantiles)] == [
        forecast.quantiles[level] for level in sorted(forecast.quantiles)
    ]
    assert row["q0.5"] == forecast.predicted_price  # the median is the point forecast
    for coverage, (lower, upper) in forecast.intervals.items():
        name = f"{coverage * 100:g}"
        assert (row[f"lower_{name}"], row[f"upper_{name}"]) == (lower, upper)
    assert {"lower_80", "upper_80", "lower_95", "upper_95"} <= set(frame.columns)
    assert row["p_move_0.05"] == forecast.p_move[0.05]
    assert row["p_move_0.1"] == forecast.p_move[0.1]
    assert frame.attrs["crypto_id"] == "bitcoin" and frame.attrs["as_of"] == forecast.as_of


def test_to_frame_without_a_distribution_has_no_quantile_columns(
    registry: Any, clock: FakeClock
) -> None:
    forecast = make_predictor(registry, clock).predict("bitcoin", 3)
    bare = Forecast.model_validate(
        forecast.model_dump()
        | {"quantiles": None, "intervals": {}, "p_move": None, "distribution": None}
    )
    frame = bare.to_frame()
    assert not quantile_columns(frame)
    assert not [c for c in frame.columns if c.startswith(("lower_", "upper_", "p_move"))]
    assert frame.iloc[0]["predicted_price"] == forecast.predicted_price


def test_predict_path_rows_equal_predict_per_horizon(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    p = make_predictor(registry, clock)
    path = p.predict_path("btc", horizons=range(1, 15), as_of=ORIGIN)  # an alias resolves
    assert path.index.tolist() == list(range(1, 15))
    assert path.attrs["crypto_id"] == "bitcoin"
    assert path["as_of"].nunique() == 1
    assert path.loc[1, "source"] == "model" and path.loc[2, "source"] != "model"
    for h in range(1, 15):
        one = Predictor(registry=registry, clock=clock, record=False, state=ServingState()).predict(
            "bitcoin", h, as_of=ORIGIN
        )
        expected = one.to_frame()
        pd.testing.assert_frame_equal(path.loc[[h], expected.columns], expected, check_dtype=False)
    quantiles = path[sorted(quantile_columns(path), key=lambda c: float(c[1:]))].to_numpy()
    assert np.all(np.diff(quantiles, axis=1) >= 0)  # non-decreasing along each row
    assert (path["lower_95"] <= path["lower_80"]).all()
    assert (path["upper_80"] <= path["upper_95"]).all()
    assert (path["target_time"].diff().dropna() == pd.Timedelta(days=1)).all()


@pytest.mark.parametrize("horizons", [[0], [15], [1, 2.5], [True], []])
def test_predict_path_refuses_bad_horizons_as_predict_does(
    registry: Any, clock: FakeClock, horizons: list[Any]
) -> None:
    p = make_predictor(registry, clock)
    with pytest.raises(DataError, match="horizon"):
        p.predict_path("bitcoin", horizons=horizons)
    if horizons:  # the same refusal as predict's for the bad one (the last)
        with pytest.raises(DataError, match="horizon"):
            p.predict("bitcoin", horizons[-1])


def test_the_path_ignores_every_candle_after_its_origin(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = make_predictor(registry, clock).predict_path("bitcoin", as_of=ORIGIN)
    origin = pd.Timestamp(ORIGIN, tz="UTC")
    real = predictor_module.load_ohlcv

    def shocked(*args: Any, **kwargs: Any) -> pd.DataFrame:
        out = real(*args, **kwargs).copy()
        after = out.index > origin
        out.loc[after, ["open", "high", "low", "close", "volume"]] *= 3.0
        return out

    monkeypatch.setattr(predictor_module, "load_ohlcv", shocked)
    p = make_predictor(registry, clock)
    pd.testing.assert_frame_equal(p.predict_path("bitcoin", as_of=ORIGIN), clean)
    latest = p.predict_path("bitcoin", horizons=[1])
    assert latest.loc[1, "last_close"] != clean.loc[1, "last_close"]  # the shock is real


def non_blank(png: Path) -> None:
    import matplotlib.image as mpimg

    pixels = mpimg.imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert float(pixels[..., :3].std()) > 0.05  # not one colour
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 20


def date_labels(fig: Any) -> list[str]:
    fig.canvas.draw()  # tick labels are set when drawn
    ax = fig.axes[0]
    return [t.get_text() for t in ax.get_xticklabels() if t.get_text()]


def test_plot_path_writes_a_fan_chart_with_a_date_axis(
    registry: Any, btc_model: Trained, clock: FakeClock, tmp_path: Path
) -> None:
    png = tmp_path / "fan.png"
    p = make_predictor(registry, clock)
    fig = p.plot_path("bitcoin", level=[80, 95], as_of=ORIGIN, path=png)
    non_blank(png)
    labels = date_labels(fig)
    assert len(labels) >= 3
    assert any(month in " ".join(labels) for month in ("Jan", "Feb", "Mar", "Dec"))
    ax = fig.axes[0]
    assert "bitcoin" in ax.get_title() and "2025-03-01" in ax.get_title()
    assert "fallback" in ax.get_title() and "model" in ax.get_title()  # h=1 model, rest fallback
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"close", "80% interval", "95% interval", "median forecast"} <= set(legend)
    close_line = next(line for line in ax.get_lines() if line.get_label() == "close")
    shown = pd.to_datetime(close_line.get_xdata())
    assert len(shown) == 90
    assert pd.Timestamp(shown.max()).tz_localize(None) <= pd.Timestamp(ORIGIN)  # none after it


def test_a_single_forecast_plots_as_a_point_with_bars(
    registry: Any, clock: FakeClock, tmp_path: Path
) -> None:
    png = tmp_path / "one.png"
    forecast = make_predictor(registry, clock).predict("bitcoin", 7, as_of=ORIGIN)
    fig = forecast.plot(level=[95], path=png)
    non_blank(png)
    assert date_labels(fig)
    assert "fallback" in fig.axes[0].get_title() and "h=7" in fig.axes[0].get_title()


def test_a_level_the_distribution_lacks_is_refused_with_the_levels_it_has(
    registry: Any, clock: FakeClock, tmp_path: Path
) -> None:
    frame = make_predictor(registry, clock).predict_path("bitcoin", [1, 2], as_of=ORIGIN)
    with pytest.raises(ValueError, match=r"level 50 .*its levels are 80, 95"):
        plot_forecast_path(frame, level=[50, 95], path=tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    for level in ([0.8], 80):  # a fraction reads as a percentage; one level needs no list
        fig = plot_forecast_path(frame, level=level)
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert "80% interval" in legend and "95% interval" not in legend
    assert math.isfinite(float(frame["lower_80"].iloc[0]))
