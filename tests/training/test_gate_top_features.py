"""The gate's record names the top 5 features of each model it decides on: promoted or refused,
in the decision stored with the model, the registry history, the training summary and the CLI."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training import train_model, with_top_features
from cryptoforecast.training.gate import TOP_FEATURES, GateDecision

from .fast_settings import FAST, OPEN_GATE

SHUT_GATE = {"max_mase": 0.01}


def decision(reason: str = "validation MASE 0.9 < 1") -> GateDecision:
    return GateDecision(
        promote=True, reason=reason, mase=0.9, max_mase=1.0, dm_favours_model=True, dm_pvalue=0.01
    )


def test_the_top_five_by_importance_highest_first_ties_in_order() -> None:
    imp = pd.Series({"a": 1.0, "b": 5.0, "c": 3.0, "d": 3.0, "e": 0.5, "f": 4.0, "g": 0.0})
    out = with_top_features(decision(), imp)
    assert TOP_FEATURES == 5
    assert out.top_features == ["b", "f", "c", "d", "a"]
    assert out.reason == "validation MASE 0.9 < 1; top features: b, f, c, d, a"
    assert out.to_dict()["top_features"] == ["b", "f", "c", "d", "a"]
    # features of zero importance are not named; fewer than 5 are named as they are
    few = with_top_features(decision(), pd.Series({"x": 0.0, "y": 2.0, "z": math.nan}))
    assert few.top_features == ["y"]


@pytest.mark.parametrize("imp", [None, pd.Series(dtype="float64"), pd.Series({"x": 0.0})])
def test_a_model_without_importance_is_said_so(imp: Any) -> None:
    out = with_top_features(decision(), imp)
    assert out.top_features == []
    assert out.reason.endswith("; top features: none (the model reports no feature importance)")


def _top5(record: Any) -> list[str]:
    imp = pd.Series(record.feature_importance, dtype="float64")
    return list(imp.sort_values(ascending=False, kind="stable").index[:5])


@pytest.mark.parametrize(("gate", "promoted"), [(OPEN_GATE, True), (SHUT_GATE, False)])
def test_the_history_and_summary_name_the_top_features(gate: dict, promoted: bool) -> None:
    cfg = load_config(overrides={**FAST, "promotion_gate": gate})
    model = train_model("bitcoin", days=400, horizon=1, save_model=True, config=cfg)
    result = model.training_result_
    record = result.record
    assert record is not None and result.gate.promote is promoted
    top = _top5(record)
    assert len(top) == 5 and set(top) <= set(model.feature_names_)
    assert result.gate.top_features == top
    assert record.metrics["gate"]["top_features"] == top
    events = [e for e in ModelRegistry().history(model_id=record.model_id) if e.event == "gate"]
    assert len(events) == 1
    verdict = "gate passed" if promoted else "gate failed"
    assert events[0].reason.startswith(verdict)
    assert events[0].reason.endswith(f"; top features: {', '.join(top)}")
    assert result.summary().gate_reason.endswith(f"top features: {', '.join(top)}")
