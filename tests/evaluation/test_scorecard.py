"""Honesty scorecard: pass/fail per design target, naive beside it, flags where naive passes too."""

from __future__ import annotations

import math
from typing import Any

import pytest
from rich.console import Console

from cryptoforecast.evaluation.scorecard import (
    TARGETS,
    scorecard,
    scorecard_records,
    scorecard_table,
    verdict,
)
from cryptoforecast.exceptions import DataError


def _agg(horizon: int = 1, **model: float) -> dict[str, Any]:
    base = {
        "mape": 2.2,
        "r2_price": 0.99,
        "r2_logret": -0.001,
        "directional_accuracy": math.nan,
        "directional_pvalue": math.nan,
        "mase": 1.0,
    }
    mod = {**base, "directional_accuracy": 0.52, "directional_pvalue": 0.2, "mase": 0.99, **model}
    return {
        "model_type": "lightgbm",
        "horizon": horizon,
        "model": mod,
        "naive": base,
        "improvement_vs_naive_pct": (1 - mod["mase"]) * 100,
        "dm_pvalue": 0.4,
        "dm_favours": "model",
        "dm_reason": None,
    }


def _row(card, name: str) -> dict[str, Any]:  # noqa: ANN001
    return card.set_index("target").loc[name].to_dict()


def test_typical_model_fails_skill_targets_and_flags_naive_passes() -> None:
    card = scorecard(_agg())
    assert list(card["target"]) == [t.name for t in TARGETS]
    mape1 = _row(card, "MAPE < 5% (1 day)")
    assert mape1["passed"] and mape1["naive_passes"] and "naive passes too" in mape1["note"]
    assert mape1["model"] == 2.2 and mape1["naive"] == 2.2
    mape7 = _row(card, "MAPE < 10% (7 days)")
    assert mape7["passed"] is None and not mape7["applicable"] and "horizon 7" in mape7["note"]
    r2p = _row(card, "R2 > 0.80 on prices")
    assert r2p["passed"] and r2p["naive_passes"]
    r2r = _row(card, "R2 > 0.80 on log returns")
    assert not r2r["passed"] and not r2r["naive_passes"]
    beat = _row(card, "Beats naive by 30%+ (MAE)")
    assert not beat["passed"] and beat["naive"] == 0.0 and beat["model"] == pytest.approx(1.0)
    da = _row(card, "Directional accuracy > 60%")
    assert da["model"] == pytest.approx(52.0) and not da["passed"] and "p = 0.2" in da["note"]
    assert math.isnan(da["naive"]) and not da["naive_passes"]
    assert "does NOT beat" not in verdict(_agg()) and "not significantly" in verdict(_agg())


def test_strong_model_passes_and_horizon_seven_uses_its_own_mape() -> None:
    agg = _agg(horizon=7, mape=4.0, directional_accuracy=0.65, r2_logret=0.85, mase=0.6)
    agg["dm_pvalue"] = 0.001
    card = scorecard(agg)
    assert _row(card, "MAPE < 10% (7 days)")["passed"]
    assert _row(card, "MAPE < 5% (1 day)")["passed"] is None
    for name in (
        "Beats naive by 30%+ (MAE)",
        "Directional accuracy > 60%",
        "R2 > 0.80 on log returns",
        "Better than naive (DM p < 0.05)",
    ):
        row = _row(card, name)
        assert row["passed"] and not row["naive_passes"], name
    assert "beats naive" in verdict(agg)


def test_significant_difference_in_naives_favour_is_a_fail() -> None:
    agg = _agg(mase=1.3)
    agg.update(dm_pvalue=0.001, dm_favours="naive")
    row = _row(scorecard(agg), "Better than naive (DM p < 0.05)")
    assert row["passed"] is False and "favour naive" in row["note"]
    assert "does NOT beat naive" in verdict(agg)


def test_records_and_rich_table() -> None:
    records = scorecard_records(_agg())
    assert len(records) == len(TARGETS) and {"model", "naive", "passed", "naive_passes"} <= set(
        records[0]
    )
    console = Console(record=True, width=200)
    console.print(scorecard_table(_agg()))
    text = console.export_text()
    assert "PASS" in text and "FAIL" in text and "naive too" in text and "n/a" in text
    with pytest.raises(DataError, match="calculate_aggregate_metrics"):
        scorecard({"mape": 1.0})
