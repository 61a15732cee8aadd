"""The HTML report: self-contained (no http(s) reference, no script), every plot embedded."""

from __future__ import annotations

import base64
import re
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.report import render_report, write_report
from cryptoforecast.evaluation.report_figures import PLOTS
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.base import BaseForecaster

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Momentum(BaseForecaster):
    """Tiny model with a feature importance, so the report's importance plot is exercised."""

    model_type: ClassVar[str] = "momentum"

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        self.beta_ = float(np.polyfit(X["ret_1"], y, 1)[0])

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        return X["ret_1"] * self.beta_

    def feature_importance(self) -> pd.Series:
        return pd.Series({"ret_1": 0.7, "ret_mean_5": 0.3})


@pytest.fixture(scope="module")
def runs() -> list[BacktestRun]:
    rng = np.random.default_rng(5)
    n = 260
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    idx = pd.date_range("2022-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    candles = pd.DataFrame({"close": close}, index=idx)
    r = np.log(candles["close"]).diff()
    feats = pd.DataFrame({"ret_1": r, "ret_mean_5": r.rolling(5).mean()}, index=idx)
    out = []
    for name, trainer in (
        ("naive", trainer_for("naive", 2)),
        ("momentum", lambda X, y: _Momentum(horizon=2).fit(X, y)),
    ):
        bt = ForecastBacktester(
            initial_train_size=80, test_size=30, step_size=30, retrain_frequency=30, horizon=2
        )
        bt.run_walk_forward_validation(candles, trainer, features=feats)
        out.append(BacktestRun.from_backtester(name, bt))
    return out


def test_report_is_self_contained_with_every_plot(runs: list[BacktestRun], tmp_path) -> None:  # noqa: ANN001
    path = write_report(
        tmp_path / "sub" / "r.html", runs, title="synthetic, h=2", settings={"coin": "test"}
    )
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", text, re.IGNORECASE)
    assert "<script" not in text.lower() and "<link" not in text.lower()
    imgs = dict(
        re.findall(
            r"<img id='plot-([a-z_]+)'[^>]*src='data:image/png;base64,([A-Za-z0-9+/=]+)'", text
        )
    )
    assert set(imgs) == set(PLOTS)
    for key, b64 in imgs.items():
        data = base64.b64decode(b64)
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, key
    # both models, naive beside them, and the scorecard
    assert text.count("<h3>naive</h3>") == 1 and text.count("<h3>momentum</h3>") == 1
    assert "naive (same origins)" in text and "Honesty scorecard" in text
    assert "naive h=2: the baseline every model here is measured against." in text
    assert "naive does NOT beat naive" not in text
    assert "coin: test" in text


def test_importance_section_says_when_no_model_has_one(runs: list[BacktestRun]) -> None:
    text = render_report(runs[0])
    assert (
        "plot-importance" not in text and "No model in this report has a feature importance" in text
    )
    for key in PLOTS[:-1]:
        assert f"plot-{key}" in text


def test_bad_runs() -> None:
    with pytest.raises(DataError, match="at least one"):
        render_report([])
    with pytest.raises(DataError, match="no results"):
        BacktestRun.from_backtester("x", ForecastBacktester())


def test_runs_on_other_origins_get_their_own_naive_column(runs: list[BacktestRun]) -> None:
    r = runs[0].results
    candles = pd.DataFrame({"close": np.r_[r["close_at_origin"].to_numpy(), [100.0]]})
    candles.index = pd.date_range("2022-01-01", periods=len(candles), freq="D", tz="UTC")
    ret = np.log(candles["close"]).diff()
    feats = pd.DataFrame({"ret_1": ret, "ret_mean_5": ret.rolling(5).mean()}, index=candles.index)
    bt = ForecastBacktester(initial_train_size=40, horizon=1)
    bt.run_walk_forward_validation(candles, trainer_for("drift", 1), features=feats)
    text = render_report([*runs, BacktestRun.from_backtester("drift h=1", bt)])
    assert "naive h=2 (same origins)" in text and "naive h=1 (same origins)" in text
    assert text.count("<th>buy and hold h=") == 2
