"""The demo end to end with tiny settings: trainings gated, backtests beside naive, forecasts labelled."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from cryptoforecast.cli.demo import demo_settings, forecast_label, run_demo
from cryptoforecast.registry import ModelRegistry

TINY = {
    "lightgbm": {"n_estimators": 30, "early_stopping_rounds": 10},
    "training": {"days": 300, "validation_size": 60, "validation_retrain_every": 60},
    "demo": {
        "models": ["lightgbm", "drift"],
        "horizons": [1, 7],
        "backtest_days": 60,
        "retrain_frequency": 60,
    },
}


@pytest.mark.slow
def test_demo_trains_gates_backtests_and_forecasts(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    reg = ModelRegistry()
    result = run_demo(console=console, config=TINY, reports_dir=tmp_path / "reports", registry=reg)
    text = console.export_text()
    # every (model, horizon) was trained, registered and judged by the gate
    assert {(t.model_type, t.horizon) for t in result.trainings} == {
        ("lightgbm", 1),
        ("drift", 1),
        ("lightgbm", 7),
        ("drift", 7),
    }
    assert all(t.error is None for t in result.trainings)
    assert len(reg.list_models()) == 4
    assert len([e for e in reg.history() if e.event == "gate"]) == 4
    # backtests of each model and of naive on the same origins
    assert set(result.backtests) == {(m, h) for m in ("naive", "lightgbm", "drift") for h in (1, 7)}
    for (_model_type, h), bt in result.backtests.items():
        res = bt.results
        assert len(res) == 60 and (res["horizon"] == h).all()
        naive_origins = result.backtests[("naive", h)].results["origin"]
        assert list(res["origin"]) == list(naive_origins)
    assert "beside the naive forecast" in text
    # forecasts: one per horizon, from production or the labelled fallback
    assert [f.horizon for f in result.forecasts] == [1, 7]
    for f in result.forecasts:
        (lo80, hi80), (lo95, hi95) = f.intervals[0.8], f.intervals[0.95]
        assert lo95 <= lo80 <= hi80 <= hi95
        assert lo95 > 0
        prod = reg.get_production_model("bitcoin", None, f.horizon)
        label = forecast_label(f)
        if prod is None:
            assert label.startswith("FALLBACK") and "FALLBACK" in text
        else:
            assert label.startswith(prod.model_type) and "production" in label
            assert f.model_id == prod.model_id
    # every step was timed
    assert "forecast the next days" in result.timings and result.timings["total"] > 0
    if result.report_path is not None:
        assert result.report_path.is_file() and result.report_path.name == "bitcoin.html"


def test_demo_settings_apply_the_fast_lstm_epochs() -> None:
    s = demo_settings({"demo": {"lstm_epochs": 3}, "lstm": {"epochs": 40}})
    assert s.lstm.epochs == 3
    assert s.training.validation_retrain_every >= s.demo.retrain_frequency
    fast = demo_settings(None, fast=True)
    assert fast.demo.backtest_days < 365 and fast.lstm.epochs <= 2
