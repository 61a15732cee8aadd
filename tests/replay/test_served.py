"""The served backtest: each origin's forecast is what Predictor serves from the same registry."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from cryptoforecast.assets import snapshot_assets
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.replay.served import FALLBACK, backtest_served, replay_period
from cryptoforecast.serving.predictor import Predictor

FAST = {
    "lightgbm": {"n_estimators": 40, "early_stopping_rounds": 10},
    "shrunk": {"inner_folds": 2},
    "training": {"days": 300, "validation_size": 60, "validation_retrain_every": 30},
}
#: a lax gate, so that some retrainings promote and both a model and the fallback serve
LAX = {**FAST, "promotion_gate": {"max_dm_pvalue": 0.9, "stability_min_wins": 1}}


def test_each_served_forecast_equals_what_predictor_serves(tmp_path: Path) -> None:
    # first retraining: a gate every model passes (a model serves); second: one none passes
    # (the failed retrain retires the production model: the fallback serves)
    passes = load_config(
        overrides={
            **FAST,
            "promotion_gate": {
                "max_mase": 100.0,
                "require_dm_direction": False,
                "max_dm_pvalue": None,
                "stability_min_wins": 0,
            },
        }
    )
    fails = load_config(overrides={**FAST, "promotion_gate": {"max_mase": 0.01}})
    candles = load_ohlcv("bitcoin")
    h = 7
    origins = list(candles.index[-h - 12 : -h])
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")
    served = []
    for start, settings in ((0, passes), (6, fails)):
        block = origins[start : start + 6]
        rows, retrains = replay_period(
            candles, "bitcoin", h, block[0], block, ("lightgbm",), settings, reg,
            anchor=origins[0],
        )  # fmt: skip
        assert [r["promoted"] for r in retrains] == [settings is passes]
        for row in rows:
            closed = row["origin"] + pd.Timedelta(days=1)  # as of the origin's close
            plain = Predictor(
                registry=reg, source="snapshot", end=closed, record=False, cache_ttl=0
            ).predict("bitcoin", h)
            assert plain.as_of == row["origin"]
            assert plain.model_id == row["model_id"]
            assert (plain.model_type if plain.source == "model" else FALLBACK) == row["served"]
            assert plain.predicted_price == pytest.approx(row["y_pred"], rel=1e-12)
            assert plain.intervals[0.8][0] == pytest.approx(row["lower_80"], rel=1e-12)
            assert row["naive"] == plain.last_close
            i = candles.index.get_loc(row["origin"])
            assert row["y_true"] == candles["close"].iloc[i + h]
            served.append(row["served"])
    assert served == ["lightgbm"] * 6 + [FALLBACK] * 6
    events = [e.event for e in reg.history()]
    assert "archive" in events  # the failed retrain retired the first production model


def test_backtest_served_rows_metrics_and_shares() -> None:
    bt = backtest_served(
        "ethereum",
        1,
        days=20,
        candidates=("lightgbm", "shrunk"),
        retrain_every=10,
        config=load_config(overrides=FAST),
    )
    res = bt.results
    assert len(res) == 20 and res["origin"].is_monotonic_increasing
    for col in ("origin", "served", "model_id", "y_true", "y_pred", "naive", "fallback"):
        assert col in res.columns
    assert res["retrain_date"].nunique() == 2 and len(bt.retrains) == 4
    m = bt.metrics
    assert math.isclose(sum(m["served_share"].values()), 1.0)
    assert set(m["served_share"]) == {"lightgbm", "shrunk", FALLBACK}
    assert m["naive"]["mase"] == pytest.approx(1.0) and math.isfinite(m["model"]["mase"])
    assert "coverage_80" in m["model"] and math.isfinite(m["fallback"]["mase"])
    fallback_rows = res[res["served"] == FALLBACK]
    pd.testing.assert_series_equal(
        fallback_rows["fallback"], fallback_rows["y_pred"], check_names=False
    )
    # every stored gate decision is in the throwaway registry's evidence
    assert bt.retrains["dm_pvalue_holm"].between(0, 1).all()


@pytest.mark.slow
def test_dask_replay_equals_the_sequential_one() -> None:
    pytest.importorskip("distributed")
    kwargs = {
        "days": 12,
        "candidates": ("lightgbm",),
        "retrain_every": 6,
        "config": load_config(overrides=LAX),
    }
    seq = backtest_served("bitcoin", 1, **kwargs)
    par = backtest_served("bitcoin", 1, scheduler="local", n_workers=1, **kwargs)
    cols = ["origin", "served", "y_pred", "y_true", "naive", "fallback"]
    pd.testing.assert_frame_equal(seq.results[cols], par.results[cols])


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ConfigError, match="candidates"):
        backtest_served("bitcoin", 1, candidates=("arima",))
    with pytest.raises(ConfigError, match="retrain_every"):
        backtest_served("bitcoin", 1, retrain_every=0)


COINS = tuple(a.id for a in snapshot_assets())


@pytest.mark.slow
@pytest.mark.parametrize("coin", COINS)
def test_the_technical_fallback_is_no_worse_than_naive_when_served(coin: str) -> None:
    # naive never passes the gate (MASE = 1), so the fallback serves every origin
    bt = backtest_served(
        coin,
        7,
        days=90,
        candidates=("naive",),
        retrain_every=90,
        config=load_config(overrides=FAST),
    )
    assert (bt.results["served"] == FALLBACK).all()
    fb = bt.metrics["fallback"]
    assert fb["mase"] == pytest.approx(bt.metrics["model"]["mase"])
    # not significantly worse than no-change (the product's bar: DM p < 0.05 against it) and
    # within half a percent of it
    assert not (fb["dm_favours"] == "naive" and fb["dm_pvalue"] < 0.05), fb
    assert fb["mase"] < 1.005, fb
