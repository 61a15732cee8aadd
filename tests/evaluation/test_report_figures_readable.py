"""The report's figures can be read: every chart with time on its x axis labels its dates, no
axes carries more than four series, and the calibration chart's labels do not overlap, even
with eight models across two horizons."""

from __future__ import annotations

from itertools import combinations
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.report_figures import report_figures
from cryptoforecast.models.base import BaseForecaster

#: the charts whose x axis is time, and those whose x axis is not
TIME_CHARTS = ("price", "rolling_mase", "strategy")
OTHER_CHARTS = ("errors", "calibration", "importance")
MAX_SERIES = 4


class _Momentum(BaseForecaster):
    """Follows (or fades, with ``sign=-1``) the last return: a cheap model with importance."""

    model_type: ClassVar[str] = "momentum"

    def __init__(self, horizon: int = 1, sign: float = 1.0) -> None:
        super().__init__(horizon=horizon)
        self.sign = sign

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        self.beta_ = self.sign * abs(float(np.polyfit(X["ret_1"], y, 1)[0])) + 0.1 * self.sign

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        return X["ret_1"] * self.beta_

    def feature_importance(self) -> pd.Series:
        return pd.Series({"ret_1": 0.7, "ret_mean_5": 0.3})


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    """Eight runs (naive, drift, momentum and reversal at two horizons): the old charts drew
    eight error histograms on one axes and nine lines in the rolling-MASE chart."""
    rng = np.random.default_rng(11)
    n = 300
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    idx = pd.date_range("2022-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    candles = pd.DataFrame({"close": close}, index=idx)
    r = np.log(candles["close"]).diff()
    feats = pd.DataFrame({"ret_1": r, "ret_mean_5": r.rolling(5).mean()}, index=idx)
    runs = []
    for h in (1, 2):
        for name, trainer in (
            ("naive", trainer_for("naive", h)),
            ("drift", trainer_for("drift", h)),
            ("momentum", lambda X, y, h=h: _Momentum(horizon=h).fit(X, y)),
            ("reversal", lambda X, y, h=h: _Momentum(horizon=h, sign=-1.0).fit(X, y)),
        ):
            bt = ForecastBacktester(
                initial_train_size=80, test_size=30, step_size=30, retrain_frequency=30, horizon=h
            )
            bt.run_walk_forward_validation(candles, trainer, features=feats)
            runs.append(BacktestRun.from_backtester(f"{name} h={h}", bt))
    figs = report_figures(runs, rolling_window=20)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for fig in figs.values():
        if fig is not None:
            FigureCanvasAgg(fig)
            fig.canvas.draw()
    return figs


def _is_date_axis(axis: Any) -> bool:
    return type(axis.get_major_formatter()).__module__ == "matplotlib.dates"


def _series(ax: Any) -> set[str]:
    """The labelled artists on an axes, grouped by label (a histogram's bars are one series)."""
    artists = [*ax.lines, *ax.collections, *ax.patches, *ax.containers]
    return {
        str(a.get_label())
        for a in artists
        if a.get_label() and not str(a.get_label()).startswith("_")
    }


def _data_axes(fig: Any) -> list[Any]:
    return [ax for ax in fig.axes if ax.get_visible() and ax.has_data()]


@pytest.mark.parametrize("key", TIME_CHARTS)
def test_every_time_chart_labels_its_dates_on_every_axes(figures: dict, key: str) -> None:
    axes = _data_axes(figures[key])
    assert axes, f"{key} has no axes with data"
    for ax in axes:
        assert _is_date_axis(ax.xaxis), f"{key}: {ax.get_title()!r} has no date axis"
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        assert len(labels) >= 2, f"{key}: {ax.get_title()!r} shows dates {labels}"


@pytest.mark.parametrize("key", TIME_CHARTS + OTHER_CHARTS)
def test_no_axes_carries_more_than_four_series(figures: dict, key: str) -> None:
    fig = figures[key]
    assert fig is not None
    for ax in _data_axes(fig):
        series = _series(ax)
        assert series, f"{key}: {ax.get_title()!r} names none of its series"
        assert len(series) <= MAX_SERIES, f"{key}: {ax.get_title()!r} draws {sorted(series)}"


@pytest.mark.parametrize("key", ("errors", "rolling_mase", "strategy", "calibration"))
def test_every_model_is_drawn_beside_naive(figures: dict, key: str) -> None:
    """Split into small multiples, yet no model is lost and each panel keeps its bar."""
    drawn = " ".join(" ".join(_series(ax)) + " " + ax.get_title() for ax in figures[key].axes)
    for name in ("drift", "momentum", "reversal"):
        for h in (1, 2):
            assert f"{name} h={h}" in drawn, f"{key} lost {name} h={h}"
    for ax in _data_axes(figures[key]):
        labels = " ".join(_series(ax))
        assert any(w in labels for w in ("naive", "buy and hold", "perfect")), (
            f"{key}: {ax.get_title()!r} stands alone: {labels}"
        )


def test_calibration_labels_do_not_overlap(figures: dict) -> None:
    fig = figures["calibration"]
    texts = [t for ax in fig.axes for t in ax.texts if t.get_visible() and t.get_text()]
    assert len(texts) >= 8, "the calibration chart lost its coverage labels"
    boxes = [(t.get_text(), t.get_window_extent()) for t in texts]
    clashes = [(a, b) for (a, ba), (b, bb) in combinations(boxes, 2) if ba.overlaps(bb)]
    assert not clashes, f"overlapping labels: {clashes[:5]}"


def test_the_distribution_fan_has_dates_and_one_entry_for_its_bands() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from cryptoforecast.evaluation.report_distribution import fan_figure

    t = pd.date_range("2024-01-01", periods=90, freq="D", tz="UTC")
    price = pd.Series(np.linspace(100.0, 130.0, 90))
    results = pd.DataFrame({"target_time": t, "y_true": price})
    for q, z in ((0.025, -1.96), (0.1, -1.28), (0.25, -0.67), (0.5, 0.0)):
        results[f"price_q_{q:g}"] = price * np.exp(0.05 * z)
        results[f"price_q_{1 - q:g}"] = price * np.exp(-0.05 * z)
    fig = fan_figure(BacktestRun("har_rv", results, {}))
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    (ax,) = fig.axes
    assert _is_date_axis(ax.xaxis)
    assert [t.get_text() for t in ax.get_xticklabels() if t.get_text()], "no dates"
    assert _series(ax) == {"95/80/50% bands", "median", "actual"}
