"""Distribution versions of a (coin, horizon): validated walk-forward without look-ahead, gated
against garch_ref, registered with their decision, promoted only when they pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import (
    BASELINES,
    CombinedDistribution,
    DistributionForecaster,
    MarketData,
    load_distribution,
)
from cryptoforecast.registry import DISTRIBUTION, ModelRegistry
from cryptoforecast.serving import Predictor
from cryptoforecast.training.distributions import (
    distribution_data,
    train_distributions,
    validation_walks,
)

END = "2024-06-30"
CANDIDATES = ["garch_t", "har_rv", "ewma_t", "lightgbm_vol", "combination"]
FAST: dict[str, Any] = {"training": {"validation_size": 60, "validation_retrain_every": 30}}
#: a gate any candidate with a lower mean CRPS than garch_ref passes (tests of registration)
LENIENT: dict[str, Any] = {
    **FAST,
    "promotion_gate": {"max_dm_pvalue": 1.0, "stability_min_wins": 1},
}


def _registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")


def _shaken(frame: pd.DataFrame, after: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Every candle at or after ``after`` scaled by its own random factor (still valid)."""
    out = frame.copy()
    late = out.index >= after
    factor = np.exp(np.random.default_rng(seed).normal(0.0, 0.05, int(late.sum())))
    for col in ("open", "high", "low", "close"):
        out.loc[late, col] = out.loc[late, col].to_numpy() * factor
    return out


@pytest.mark.parametrize("calibration", ["none", "conformal_window"])
def test_changing_every_candle_after_an_origin_leaves_its_validation_unchanged(
    calibration: str,
) -> None:
    h = 7
    settings = load_config(overrides={**FAST, "distribution": {"calibration": calibration}})
    # lightgbm_vol's calibration holdout needs a longer window than this test's
    candidates = CANDIDATES if calibration == "none" else [*CANDIDATES[:3], "combination"]
    daily = load_ohlcv("bitcoin", end=END)
    intraday = load_ohlcv("bitcoin", interval="4h", end=END)

    def walks(d: pd.DataFrame, i: pd.DataFrame) -> Any:
        data = distribution_data("bitcoin", d, 600, h, i)
        return validation_walks(data, candidates, settings)

    base = walks(daily, intraday)
    assert set(base.walks) == set(candidates) and not base.errors
    t = base.origins[35]  # inside a refit block: the block's scales are predicted at once
    day = pd.Timedelta(days=1)
    # 1. every candle after the origin changes: what was issued at origins up to it does not
    after_t = walks(_shaken(daily, t + day, 1), _shaken(intraday, t + day, 2))
    # 2. every candle after the origin's target (the close h days on) changes: nor its score
    after_h = t + (h + 1) * day
    after_target = walks(_shaken(daily, after_h, 3), _shaken(intraday, after_h, 4))
    upto = base.origins[base.origins <= t]
    for kind, names in (("walks", candidates), ("baselines", BASELINES)):
        for name in names:
            a, b, c = (getattr(run, kind)[name] for run in (base, after_t, after_target))
            pd.testing.assert_frame_equal(a.quantiles.loc[upto], b.quantiles.loc[upto])
            pd.testing.assert_series_equal(a.crps.loc[upto], c.crps.loc[upto])
            assert np.isfinite(a.crps.loc[t])
            # the change is real: a later origin's distribution moved
            later = base.origins[-1]
            assert not np.allclose(a.quantiles.loc[later], b.quantiles.loc[later])


def test_train_distributions_registers_every_candidate_and_promotes_only_a_pass(
    tmp_path: Path,
) -> None:
    reg = _registry(tmp_path)
    out = train_distributions("bitcoin", 7, days=600, end=END, config=LENIENT, registry=reg)
    records = reg.list_models("bitcoin", DISTRIBUTION, 7)
    assert sorted(r.config["distribution"] for r in records) == sorted(CANDIDATES)
    assert out.registered == {r.config["distribution"]: r.model_id for r in records}
    # on this window har_rv and garch_t beat garch_ref's mean CRPS; har_rv by more
    assert out.chosen == "har_rv"
    assert out.candidates["garch_t"].decision.passed
    assert not out.candidates["garch_t"].decision.promote
    for rec in records:
        decision = out.candidates[rec.config["distribution"]].decision
        assert (rec.status == "production") == decision.promote  # promoted only if it passed
        assert decision.passed or not decision.promote
        assert rec.metrics["gate"]["reason"] == decision.reason
        assert rec.metrics["crps_garch_ref"] == pytest.approx(decision.crps_reference)
        for base in ("crps_garch_ref", "crps_ewma_t", "crps_rolling_gaussian"):
            assert np.isfinite(rec.metrics[base])  # every figure beside its baselines'
        gates = [e for e in reg.history(model_id=rec.model_id) if e.event == "gate"]
        assert len(gates) == 1 and decision.reason in gates[0].reason
        assert rec.config["days"] == 600 and rec.config["source"] == "snapshot"
        assert rec.lineage["data_hash"] and rec.lineage["train_end"].startswith(END)
        json.dumps(rec.metrics, allow_nan=False)
    # every candidate scored every origin, beside the baselines' walks (for the ewma_t
    # candidate too: its own walk on the window is not the ewma_t baseline's)
    for rec in records:
        assert rec.metrics["n_validation"] == out.n_validation == 60
        for base in ("garch_ref", "ewma_t", "rolling_gaussian"):
            assert rec.metrics[f"crps_{base}"] == pytest.approx(out.baselines[base], rel=1e-12)
    assert out.baselines["ewma_t"] != out.candidates["ewma_t"].metrics.crps  # type: ignore[union-attr]
    winner = out.candidates["har_rv"]
    assert max(r.model_id for r in records) == winner.model_id  # registered last
    assert out.production is not None and out.production.model_id == winner.model_id
    assert winner.record is not None and winner.record.config["intraday"] is True
    assert out.candidates["garch_t"].record.config["intraday"] is False  # type: ignore[union-attr]
    loser = out.candidates["garch_t"].decision.reason
    assert loser.startswith("passed the gate but not chosen: har_rv")
    # the artifact is the DistributionForecaster that was fitted on the window
    dist = DistributionForecaster.load(winner.record.artifact_path)
    assert dist.volatility == "har_rv" and dist.horizon == 7 and dist.uses_intraday_
    market = MarketData(
        load_ohlcv("bitcoin", end=END), load_ohlcv("bitcoin", interval="4h", end=END)
    )
    q = dist.predict_quantiles(market.until(pd.Timestamp(END, tz="UTC")))
    assert q.iloc[-1].is_monotonic_increasing
    summary = out.summary()
    assert summary.model_type == DISTRIBUTION and summary.model_id == winner.model_id
    assert summary.status == "production" and summary.gate_passed
    assert set(summary.metrics["candidates"]) == set(CANDIDATES)

    # the same evidence under the default gate: nothing passes, the production version is retired
    again = train_distributions("bitcoin", 7, days=600, end=END, config=FAST, registry=reg)
    assert again.chosen is None and again.production is None
    assert reg.get(winner.model_id).status == "archived"
    assert all(r.status != "production" for r in reg.list_models("bitcoin", DISTRIBUTION, 7))
    assert "garch_ref (the fallback) serves" in again.summary().gate_reason  # type: ignore[operator]


def test_a_registration_failing_halfway_keeps_only_what_was_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = _registry(tmp_path)
    calls: list[str] = []
    real = reg.register_with_decision

    def flaky(save: Any, *args: Any, **kwargs: Any) -> int:
        calls.append(kwargs["gate_reason"])
        if len(calls) == 2:
            raise OSError("disk full")
        return real(save, *args, **kwargs)

    monkeypatch.setattr(reg, "register_with_decision", flaky)
    config = {**FAST, "distribution": {"candidates": ["ewma_t", "rolling_gaussian"]}}
    with pytest.raises(OSError, match="disk full"):
        train_distributions("bitcoin", 1, days=400, end=END, config=config, registry=reg)
    records = reg.list_models(model_type=DISTRIBUTION)
    assert len(calls) == 2 and len(records) == 1
    assert [e.event for e in reg.history()] == ["register", "gate"]
    saved = [p for p in (tmp_path / "art").rglob("*") if p.is_dir() and p.name.startswith("v")]
    assert [p.name for p in saved] == [Path(records[0].artifact_relpath).name]


def test_a_source_without_4h_candles_trains_har_rv_on_daily_candles_labelled(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "btc.csv"
    frame = load_ohlcv("bitcoin", end=END).reset_index()
    frame["timestamp"] = frame["timestamp"].dt.strftime("%Y-%m-%d")
    frame.to_csv(csv, index=False)
    config = {**FAST, "distribution": {"candidates": ["har_rv", "ewma_t"]}}
    out = train_distributions(
        "bitcoin", 1, days=400, source="csv", path=csv, config=config, save=False
    )
    assert not out.intraday and "csv file has no 4h candles" in (out.intraday_note or "")
    har = out.candidates["har_rv"]
    assert not har.intraday and har.metrics is not None and not har.metrics.intraday
    assert (har.intraday_note or "").startswith(
        "har_rv on daily candles: the csv file has no 4h candles (import them with "
    )
    assert out.candidates["ewma_t"].intraday_note is None  # it never reads 4h candles
    assert out.registered == {} and out.production is None
    assert out.summary().metrics["intraday"] is False


def test_too_short_a_window_fails_before_anything_is_registered(tmp_path: Path) -> None:
    reg = _registry(tmp_path)
    with pytest.raises(DataError, match="too few for a distribution validation"):
        train_distributions("bitcoin", 7, days=25, end=END, config=FAST, registry=reg)
    assert reg.list_models() == []


def test_a_candidate_that_cannot_be_fitted_on_the_window_is_reported_not_registered(
    tmp_path: Path,
) -> None:
    reg = _registry(tmp_path)
    config = {**FAST, "distribution": {"candidates": ["ewma_t", "lightgbm_vol"]}}
    out = train_distributions("bitcoin", 1, days=300, end=END, config=config, registry=reg)
    lgbm = out.candidates["lightgbm_vol"]
    assert lgbm.error and "lightgbm_vol needs" in lgbm.error and lgbm.record is None
    assert lgbm.decision.family_size == 2 and "could not be validated" in lgbm.decision.reason
    assert [r.config["distribution"] for r in reg.list_models()] == ["ewma_t"]
    assert out.candidates["ewma_t"].decision.family_size == 2  # it still counts in the family


def test_garch_gjr_makes_the_garch_t_candidate_a_gjr_garch_and_its_record_says_so(
    tmp_path: Path,
) -> None:
    reg = _registry(tmp_path)
    config = {**FAST, "distribution": {"candidates": ["garch_t"], "garch_gjr": True}}
    out = train_distributions("bitcoin", 1, days=400, end=END, config=config, registry=reg)
    rec = out.candidates["garch_t"].record
    assert rec is not None and rec.config["volatility_params"] == {"gjr": True}
    dist = DistributionForecaster.load(rec.artifact_path)
    assert dist.volatility_params == {"gjr": True} and dist.model_.get_params()["gjr"] is True
    plain = train_distributions(
        "bitcoin",
        1,
        days=400,
        end=END,
        config={**FAST, "distribution": {"candidates": ["garch_t"]}},
        save=False,
    )
    assert plain.candidates["garch_t"].metrics.crps != out.candidates["garch_t"].metrics.crps  # type: ignore[union-attr]


def test_the_combination_version_is_trained_registered_and_served(tmp_path: Path) -> None:
    """The combination candidate: walked from its members' walks (weights from past CRPS only),
    fitted as its members fitted on the window with the weights of every validation origin,
    saved as one artifact that loads and serves, named, like any distribution version."""
    reg = _registry(tmp_path)
    config = {**LENIENT, "distribution": {"candidates": ["ewma_t", "har_rv", "combination"]}}
    out = train_distributions("bitcoin", 7, days=600, end=END, config=config, registry=reg)
    combo = out.candidates["combination"]
    assert combo.record is not None and combo.metrics is not None
    assert combo.record.config["distribution"] == "combination"
    assert combo.decision.family_size == 3  # it counts in the Holm family like any candidate
    stored = load_distribution(combo.record.artifact_path)
    assert isinstance(stored, CombinedDistribution)
    assert sorted(stored.members) == ["ewma_t", "har_rv"]
    assert sum(stored.weights.values()) == pytest.approx(1.0)
    # its CRPS is the member walks' weighted quantile average's, beside garch_ref's
    assert combo.metrics.crps_garch_ref == pytest.approx(out.baselines["garch_ref"], rel=1e-12)
    assert min(out.candidates[m].metrics.crps for m in ("ewma_t", "har_rv")) * 0.97 < (  # type: ignore[union-attr]
        combo.metrics.crps
    )
    # served when it is the production distribution, whatever the gate said (forced here)
    reg.promote(combo.record.model_id, reason="test", force=True)
    forecast = Predictor(registry=reg, end=END, record=False).predict("bitcoin", 7)
    assert forecast.distribution_model_id == combo.record.model_id
    assert forecast.distribution_source.startswith("combination")
    q = forecast.quantiles or {}
    assert len(q) >= 5 and forecast.predicted_price == pytest.approx(q[0.5])
    assert list(q.values()) == sorted(q.values())
