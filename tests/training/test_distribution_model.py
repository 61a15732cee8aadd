"""Training composes the configured scale model with the point model: saved in its artifact,
scored walk-forward in validation, its CRPS skill against ewma_t recorded by the gate."""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.evaluation.distribution_summary import summarise_distribution
from cryptoforecast.models.artifacts import read_manifest
from cryptoforecast.models.catalog import load_forecaster
from cryptoforecast.models.distribution import DistributionForecaster
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training import distribution_model as dm
from cryptoforecast.training.pipeline import train_model_for_crypto
from cryptoforecast.training.validation import validate_walk_forward

FAST = {
    "lightgbm": {"n_estimators": 40, "early_stopping_rounds": 10},
    "training": {"validation_size": 120, "validation_retrain_every": 30},
}


def settings(**extra: dict) -> object:
    overrides = {k: dict(v) for k, v in FAST.items()}
    overrides.update(extra)
    return load_config(overrides=overrides)


def train(model_type: str = "lightgbm", **extra: dict) -> object:
    return asyncio.run(
        train_model_for_crypto(
            "bitcoin", model_type, days=500, horizon=1, end="2025-03-31", config=settings(**extra)
        )
    )


def test_training_stores_the_distribution_and_records_its_skill() -> None:
    model = train(distribution={"model": "har_rv"})
    m = model.training_result_.metrics.to_dict()  # the flat metrics, as the registry stores them
    assert m["distribution_attached"] == "har_rv" and m["distribution_model"] == "har_rv"
    assert m["distribution_n"] > 60
    for key in ("distribution_crps", "distribution_crps_ewma_t", "distribution_crps_skill_pct"):
        assert math.isfinite(m[key])
    assert m["distribution_crps_skill_pct"] == pytest.approx(
        100 * (1 - m["distribution_crps"] / m["distribution_crps_ewma_t"])
    )
    assert 0 <= m["distribution_dm_pvalue"] <= 1
    assert set(m["distribution_skill"]) == {"rolling_gaussian", "ewma_t", "garch_ref"}
    # the gate records it beside the point evidence, in its decision and its reason
    gate = model.training_result_.gate.to_dict()
    assert gate["distribution"]["crps_skill_pct"] == m["distribution_crps_skill_pct"]
    assert "distribution har_rv: CRPS" in gate["reason"] and "recorded, not gated" in gate["reason"]
    reg = ModelRegistry()
    try:
        rec = reg.get(model.training_result_.model_id)
        assert rec.metrics["distribution_crps"] == pytest.approx(m["distribution_crps"])
        events = [e for e in reg.history() if e.model_id == model.training_result_.model_id]
        assert any("distribution har_rv: CRPS" in (e.reason or "") for e in events)
    finally:
        reg.close()
    # part of the model version: inside the artifact, hashed with the weights
    manifest = read_manifest(model.training_result_.artifact_path)
    assert "distribution/distribution.json" in manifest["files"]
    loaded = load_forecaster(model.training_result_.artifact_path)
    assert isinstance(loaded.distribution_, DistributionForecaster)
    assert loaded.distribution_.volatility == "har_rv" and loaded.distribution_.horizon == 1
    assert loaded.distribution_.train_end_ == model.distribution_.train_end_
    # the distribution saw no candle after the training window's last one
    assert pd.Timestamp(loaded.distribution_.train_end_) <= pd.Timestamp("2025-03-31", tz="UTC")


def test_no_distribution_configured_records_why() -> None:
    model = train("drift", distribution={"model": None})
    m = model.training_result_.metrics.to_dict()
    assert (
        m["distribution_attached"] is None
        and "distribution.model is null" in m["distribution_note"]
    )
    assert "distribution_crps" not in m and model.training_result_.gate.distribution is None
    assert load_forecaster(model.training_result_.artifact_path).distribution_ is None


def test_validation_scores_match_the_backtester_block() -> None:
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.training.window import prepare_training_data

    data = prepare_training_data(load_ohlcv("bitcoin", end="2025-03-31"), 500, 1)
    cfg = settings(distribution={"model": "garch_t"})
    from cryptoforecast.training.fit import fit_forecaster

    metrics, results = validate_walk_forward(
        data, cfg, fit=lambda X, y: fit_forecaster("drift", 1, X, y, {})
    )
    block = summarise_distribution(results, 1, "garch_t")
    assert metrics.distribution is not None
    assert metrics.distribution.crps == pytest.approx(block["crps"])
    assert metrics.distribution.dm_pvalue == pytest.approx(block["skill"]["ewma_t"]["dm_pvalue"])
    # the location of the distribution is the validation point forecast at each origin
    q50 = results["q_0.5"].to_numpy()
    assert np.isfinite(q50).sum() > 60


def test_calibration_scores_are_out_of_sample_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spy: every score the shape is built from sits at a validation origin (a point forecast
    made out of sample) and was scaled by a model fitted h days before the first of them."""
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.training.fit import fit_forecaster
    from cryptoforecast.training.window import prepare_training_data

    data = prepare_training_data(load_ohlcv("bitcoin", end="2025-03-31"), 500, 1)
    cfg = settings(distribution={"model": "ewma_t", "calibration": "conformal"})
    _, results = validate_walk_forward(
        data, cfg, fit=lambda X, y: fit_forecaster("drift", 1, X, y, {})
    )
    seen: dict[str, object] = {}
    real = DistributionForecaster.holdout_scores

    def spy(self, market, location=None):  # noqa: ANN001, ANN202
        seen["location"] = location
        seen["scores"] = real(self, market, location)
        return seen["scores"]

    fits: list[pd.Timestamp] = []
    real_fit = dm.DistributionForecaster._new_model

    def new_model(self):  # noqa: ANN001, ANN202
        model = real_fit(self)
        original = model.fit

        def fit(market):  # noqa: ANN001, ANN202
            fits.append(market.daily.index[-1])
            return original(market)

        model.fit = fit
        return model

    monkeypatch.setattr(DistributionForecaster, "holdout_scores", spy)
    monkeypatch.setattr(DistributionForecaster, "_new_model", new_model)
    dist, why = dm.fit_distribution(data, results, cfg)
    assert dist is not None and why is None
    location = seen["location"]
    assert set(location.index) == set(pd.DatetimeIndex(results["origin"]))
    n_scores = len(seen["scores"])
    assert 30 <= n_scores <= len(results)
    # the holdout scale model was fitted on candles ending h days before the scored rows
    first_scored = data.candles.loc[data.start :].index[
        len(data.candles.loc[data.start :]) - round(len(data.candles.loc[data.start :]) * 0.3)
    ]
    assert fits[0] < first_scored
    # the final scale model then sees the whole window, and nothing after it
    assert fits[-1] == data.candles.index[-1]
