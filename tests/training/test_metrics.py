"""ValidationMetrics: the one typed validation result; ``to_dict`` is the layout the registry stores."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import PromotionGateConfig
from cryptoforecast.evaluation.summary import summarise_results
from cryptoforecast.training.gate import gate_decision
from cryptoforecast.training.metrics import DistributionSkill, ValidationMetrics
from cryptoforecast.training.registration import stored_metrics
from cryptoforecast.training.validation import validation_metrics
from tests.training.test_gate import results_frame

#: the stored point keys, in the order records hold them (records, service and dashboard read them)
POINT_KEYS = [
    "mase",
    "mae",
    "rmse",
    "mape",
    "directional_accuracy",
    "naive_mae",
    "naive_rmse",
    "naive_mape",
    "improvement_vs_naive_pct",
    "dm_stat",
    "dm_pvalue",
    "dm_pvalue_one_sided",
    "dm_favours_model",
    "subperiod_mae",
    "subperiod_naive_mae",
    "n_validation",
    "n_refits",
    "validation_start",
    "validation_end",
]
DISTRIBUTION_KEYS = [
    "distribution_model",
    "distribution_n",
    "distribution_crps",
    "distribution_crps_ewma_t",
    "distribution_crps_skill_pct",
    "distribution_dm_pvalue",
    "distribution_coverage_80",
    "distribution_coverage_95",
    "distribution_skill",
]


def frame_with_bands(n: int = 120, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = results_frame(0.03 * rng.standard_normal(n), 0.004 * rng.standard_normal(n))
    for level, width in ((80, 0.04), (95, 0.06)):
        frame[f"lower_{level}"] = frame["y_pred"] * (1 - width)
        frame[f"upper_{level}"] = frame["y_pred"] * (1 + width)
    return frame


def test_to_dict_is_the_flat_layout_the_registry_stores() -> None:
    frame = frame_with_bands()
    metrics = validation_metrics(frame, 1, (0.8, 0.95))
    flat = metrics.to_dict()
    assert list(flat) == [*POINT_KEYS, "coverage_80", "coverage_95"]
    # the figures are summarise_results' (the one metrics engine), model beside naive
    agg = summarise_results(frame, horizon=1, coverages=(0.8, 0.95))
    assert flat["mase"] == agg["model"]["mase"] and flat["naive_mae"] == agg["naive"]["mae"]
    assert flat["dm_stat"] == agg["dm_statistic"] and flat["dm_pvalue"] == agg["dm_pvalue"]
    assert flat["coverage_80"] == agg["model"]["coverage_80"] == metrics.coverage[80]
    assert flat["dm_favours_model"] is (agg["dm_favours"] == "model")
    assert flat["n_validation"] == 120 and flat["validation_start"] == str(frame["origin"].iloc[0])
    assert isinstance(flat["subperiod_mae"], list) and len(flat["subperiod_mae"]) == 3
    json.dumps(flat)  # plain values only
    # a coverage level the results carry no bounds for is recorded as NaN
    bare = validation_metrics(frame.drop(columns=["lower_80", "upper_80"]), 1, (0.8,))
    assert math.isnan(bare.to_dict()["coverage_80"])


def test_distribution_then_extra_then_gate_follow_in_the_stored_order() -> None:
    skill = DistributionSkill(
        model="har_rv",
        n=100,
        crps=0.020,
        crps_baseline=0.021,
        crps_skill_pct=4.76,
        dm_pvalue=0.3,
        coverage_80=0.8,
        coverage_95=0.94,
        skill={"ewma_t": {"crps": 0.021}},
    )
    metrics = ValidationMetrics(mase=0.9, coverage={80: 0.81}, distribution=skill).with_extra(
        distribution_attached="har_rv", timings={"fit_s": 1.0}
    )
    flat = metrics.to_dict()
    assert list(flat) == [
        *POINT_KEYS,
        "coverage_80",
        *DISTRIBUTION_KEYS,
        "distribution_attached",
        "timings",
    ]
    assert flat["distribution_crps_ewma_t"] == 0.021
    assert flat["distribution_skill"] == {"ewma_t": {"crps": 0.021}}
    decision = gate_decision(metrics, PromotionGateConfig())
    stored = stored_metrics(metrics, decision)
    assert list(stored) == [*flat, "gate"] and stored["gate"] == decision.to_dict()
    # the gate records the distribution's skill from the typed block, not gated on it
    assert decision.distribution == {
        "model": "har_rv",
        "crps": 0.020,
        "crps_ewma_t": 0.021,
        "crps_skill_pct": 4.76,
        "dm_pvalue": 0.3,
    }
    assert "distribution har_rv: CRPS" in decision.reason


def test_validation_metrics_are_immutable_and_with_extra_copies() -> None:
    metrics = ValidationMetrics(mase=0.9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        metrics.mase = 0.5  # type: ignore[misc]
    timed = metrics.with_extra(timings={"fit_s": 1.0})
    assert metrics.extra == {} and timed.extra == {"timings": {"fit_s": 1.0}}
    assert timed.mase == 0.9 and timed.with_extra(note="x").extra == {
        "timings": {"fit_s": 1.0},
        "note": "x",
    }


def test_unmeasured_figures_are_missing_evidence_at_the_gate() -> None:
    decision = gate_decision(ValidationMetrics(), PromotionGateConfig())
    assert not decision.promote and "not available" in decision.reason
    assert decision.dm_pvalue is None and decision.dm_favours_model is None
    assert decision.distribution is None
