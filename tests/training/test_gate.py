"""The promotion gate: a planted edge is promoted, noise is not, Holm and stability each matter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.config import PromotionGateConfig, load_config
from cryptoforecast.training.gate import decide_family, holm_adjust, one_sided_dm, subperiod_mae
from cryptoforecast.training.metrics import ValidationMetrics
from cryptoforecast.training.validation import validate_walk_forward, validation_metrics
from cryptoforecast.training.window import prepare_training_data
from tests.ridge import RidgeForecaster

N = 365


def results_frame(truth_lr: np.ndarray, pred_lr: np.ndarray, start: float = 100.0) -> pd.DataFrame:
    """A validation results frame (prices) for log-return truth and forecasts at each origin."""
    n = len(truth_lr)
    close = start * np.exp(np.cumsum(np.r_[0.0, truth_lr[:-1]]))
    return pd.DataFrame(
        {
            "origin": pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC"),
            "fold": np.arange(n) // 30,
            "close_at_origin": close,
            "y_true": close * np.exp(truth_lr),
            "y_pred": close * np.exp(pred_lr),
            "naive": close,
        }
    )


def test_holm_adjusted_pvalues_match_the_step_down_definition() -> None:
    adj = holm_adjust({"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.5})
    assert adj == pytest.approx({"a": 0.04, "c": 0.09, "b": 0.09, "d": 0.5})
    # unknown family members count: one p-value in a family of four is multiplied by four
    assert holm_adjust({"a": 0.01}, family_size=4) == pytest.approx({"a": 0.04})


def test_one_sided_dm_halves_the_two_sided_p_in_the_models_favour() -> None:
    rng = np.random.default_rng(0)
    e_naive = rng.standard_normal(300)
    e_model = 0.9 * e_naive + 0.1 * rng.standard_normal(300)
    stat, p = one_sided_dm(e_model, e_naive, 1)
    assert stat < 0 and p < 0.01
    stat_rev, p_rev = one_sided_dm(e_naive, e_model, 1)
    assert p_rev == pytest.approx(1 - p)


def planted_candles(n: int = 1600, seed: int = 0, phi: float = 0.35) -> pd.DataFrame:
    """Daily candles whose log return follows an AR(1): a predictable component of size ``phi``."""
    rng = np.random.default_rng(seed)
    r = np.zeros(n)
    for t in range(1, n):
        r[t] = phi * r[t - 1] + 0.02 * rng.standard_normal()
    index = pd.date_range("2019-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    close = 100 * np.exp(np.cumsum(r))
    spread = np.abs(rng.standard_normal(n)) * 0.005
    frame = pd.DataFrame(
        {
            "open": np.r_[close[0], close[:-1]],
            "high": close * (1 + spread),
            "low": close * (1 - spread),
            "close": close,
            "volume": 1e6 * (1 + rng.random(n)),
        },
        index=index,
    )
    frame["high"] = frame[["open", "high", "close"]].max(axis=1)
    frame["low"] = frame[["open", "low", "close"]].min(axis=1)
    return frame


class LagRidge(RidgeForecaster):
    """Ridge on the previous day's log return only (the planted component's predictor)."""

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: object, y_val: object) -> None:
        super()._fit(X[["ret_log_1"]], y, X_val, y_val)

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        return super()._predict(X[["ret_log_1"]])


def test_a_planted_edge_is_promoted_through_the_real_validation() -> None:
    settings = load_config(overrides={"training": {"validation_size": 365}})
    data = prepare_training_data(planted_candles(), 1100, horizon=1)
    metrics, results = validate_walk_forward(data, settings, new_model=lambda: LagRidge(horizon=1))
    assert metrics.n_validation >= 365 and metrics.n_refits >= 12
    decision = decide_family({"ridge": metrics}, settings.promotion_gate)["ridge"]
    assert decision.promote, decision.reason
    assert decision.family_size == 4 and decision.dm_pvalue_holm <= 0.05
    assert decision.subperiods_won >= 2


def noise_family(rng: np.random.Generator, k: int = 4) -> dict[str, ValidationMetrics]:
    """``k`` candidates without an edge: forecasts independent of a random-walk truth."""
    truth = 0.03 * rng.standard_t(4, N)
    out = {}
    for i in range(k):
        pred = 0.004 * rng.standard_normal(N)
        out[f"noise{i}"] = validation_metrics(results_frame(truth, pred), 1, ())
    return out


def test_pure_noise_is_not_promoted_in_95_of_100_seeded_trials() -> None:
    gate = PromotionGateConfig()
    promoted = 0
    for seed in range(100):
        decisions = decide_family(noise_family(np.random.default_rng(seed)), gate)
        promoted += any(d.promote for d in decisions.values())
    assert promoted <= 5


def family_with_one_lucky_candidate() -> dict[str, ValidationMetrics]:
    """Four candidates; one's one-sided p is 0.03 (stable, MASE < 1), the others' are large."""
    stable = {"subperiod_mae": [0.9, 0.9, 1.1], "subperiod_naive_mae": [1.0, 1.0, 1.0]}
    base = {"mase": 0.97, "dm_favours_model": True, **stable}
    return {
        "lucky": ValidationMetrics(**base, dm_pvalue_one_sided=0.03),
        "b": ValidationMetrics(**base, dm_pvalue_one_sided=0.40),
        "c": ValidationMetrics(**base, dm_pvalue_one_sided=0.60),
        "d": ValidationMetrics(**base, dm_pvalue_one_sided=0.80),
    }


def test_holm_correction_keeps_one_lucky_candidate_of_four_out() -> None:
    family = family_with_one_lucky_candidate()
    with_holm = decide_family(family, PromotionGateConfig())
    without = decide_family(family, PromotionGateConfig(holm=False))
    assert without["lucky"].promote  # 0.03 < 0.05 on its own
    assert not with_holm["lucky"].promote  # 4 * 0.03 = 0.12 after Holm
    assert with_holm["lucky"].dm_pvalue_holm == pytest.approx(0.12)
    assert "Holm" in with_holm["lucky"].reason


def test_stability_rule_refuses_an_edge_from_one_lucky_stretch() -> None:
    rng = np.random.default_rng(7)
    truth = 0.03 * rng.standard_normal(N)
    pred = np.zeros(N)
    third = N // 3
    pred[:third] = 0.8 * truth[:third]  # a strong edge in the first sub-period only...
    pred[third:] = 0.006 * rng.standard_normal(N - third)  # ...and noise afterwards
    metrics = validation_metrics(results_frame(truth, pred), 1, ())
    model, naive = subperiod_mae(
        *(results_frame(truth, pred)[c].to_numpy() for c in ("y_true", "y_pred", "naive"))
    )
    assert model[0] < naive[0] and model[1] > naive[1] and model[2] > naive[2]
    assert metrics.mase < 1 and metrics.dm_pvalue_one_sided < 0.0125
    stable_gate = decide_family({"m": metrics}, PromotionGateConfig())["m"]
    no_stability = decide_family({"m": metrics}, PromotionGateConfig(stability_min_wins=0))["m"]
    assert no_stability.promote
    assert not stable_gate.promote and stable_gate.subperiods_won == 1
    assert "sub-periods" in stable_gate.reason
