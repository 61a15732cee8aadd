"""The naive baseline is never compared with itself: its verdict and its scorecard say it IS the
bar ("naive does NOT beat naive" was printed by ``backtest --model naive``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.evaluation.scorecard import scorecard_records, verdict


def _metrics(model: str) -> dict[str, Any]:
    rng = np.random.default_rng(3)
    n = 200
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    idx = pd.date_range("2022-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    candles = pd.DataFrame({"close": close}, index=idx)
    r = np.log(candles["close"]).diff()
    feats = pd.DataFrame({"ret_1": r, "ret_mean_5": r.rolling(5).mean()}, index=idx)
    bt = ForecastBacktester(
        initial_train_size=80, test_size=30, step_size=30, retrain_frequency=30, horizon=1
    )
    bt.run_walk_forward_validation(candles, trainer_for(model, 1), features=feats)
    return bt.calculate_aggregate_metrics()


@pytest.fixture(scope="module")
def naive() -> dict[str, Any]:
    return _metrics("naive")


def test_the_naive_verdict_says_it_is_the_bar(naive: dict[str, Any]) -> None:
    line = verdict(naive)
    assert "beat" not in line and "edges" not in line, line
    assert line.startswith("naive") and "the bar" in line, line


def test_a_named_naive_run_is_the_bar_too(naive: dict[str, Any]) -> None:
    assert "the bar" in verdict({**naive, "model_type": "naive h=7"})


def test_the_naive_scorecard_compares_nothing_with_itself(naive: dict[str, Any]) -> None:
    rows = scorecard_records(naive)
    relative = [r for r in rows if r["metric"] in ("improvement_vs_naive_pct", "dm_pvalue")]
    assert relative and all(r["passed"] is None for r in relative), relative
    assert all("naive itself" in r["note"] for r in relative), relative
    assert not any("naive passes too" in r["note"] for r in rows), rows


def test_another_model_is_still_judged_against_naive() -> None:
    line = verdict(_metrics("drift"))
    assert "naive" in line and "the bar" not in line, line
