"""The distribution gate: a candidate is promoted only when it beats garch_ref on validation CRPS,
significantly after Holm over the candidates, in enough sub-periods; the best that passes wins."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cryptoforecast.config import PromotionGateConfig
from cryptoforecast.evaluation import crps_gaussian
from cryptoforecast.training.distribution_gate import (
    REFERENCE,
    compare_crps,
    decide_distributions,
)
from cryptoforecast.training.gate import one_sided_dm_crps
from cryptoforecast.training.registration import json_safe

GATE = PromotionGateConfig()


def _planted(n: int = 600, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns whose true scale switches between calm and stormy regimes: CRPS of a forecast
    that tracks the true scale, and of one with the scale fixed at the overall average."""
    rng = np.random.default_rng(seed)
    sigma = np.where((np.arange(n) // 50) % 2 == 0, 0.01, 0.05)
    r = sigma * rng.standard_normal(n)
    tracking = crps_gaussian(r, np.zeros(n), sigma)
    fixed = crps_gaussian(r, np.zeros(n), np.full(n, float(np.sqrt(np.mean(sigma**2)))))
    return r, np.asarray(tracking), np.asarray(fixed)


def test_a_planted_better_candidate_is_promoted_and_an_equal_one_is_not() -> None:
    _, tracking, fixed = _planted()
    out = decide_distributions(
        {"tracks_the_scale": tracking, "same_as_reference": fixed.copy()}, fixed, 1, GATE
    )
    best, equal = out["tracks_the_scale"], out["same_as_reference"]
    assert best.passed and best.promote and best.chosen == "tracks_the_scale"
    assert best.crps < best.crps_reference and best.dm_pvalue_holm < 0.05
    assert best.subperiods_won == 3
    assert "chosen" in best.reason and "beats garch_ref" in best.reason
    assert not equal.passed and not equal.promote and equal.chosen == "tracks_the_scale"
    assert equal.crps == pytest.approx(equal.crps_reference)
    assert "not lower" in equal.reason and "tracks_the_scale was chosen" in equal.reason


def test_with_no_candidate_passing_the_fallback_serves_and_every_reason_says_so() -> None:
    _, tracking, fixed = _planted()
    # the reference now tracks the scale and the candidates do not
    out = decide_distributions({"fixed": fixed, "worse": fixed * 1.01}, tracking, 1, GATE)
    assert not any(d.passed or d.promote for d in out.values())
    assert {d.chosen for d in out.values()} == {None}
    for d in out.values():
        assert f"{REFERENCE} (the fallback) serves" in d.reason
        assert f"{d.crps:.5g}" in d.reason and f"{d.crps_reference:.5g}" in d.reason


def _differential_with_p(p_target: float, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Reference and candidate CRPS whose one-sided DM p-value (h=1) is ``p_target``, the
    candidate equally better on average in each of the three sub-periods."""
    rng = np.random.default_rng(11)
    noise = rng.standard_normal(n)
    for idx in np.array_split(np.arange(n), 3):  # each sub-period's mean differential = delta
        noise[idx] -= noise[idx].mean()
    reference = np.full(n, 1.0)

    def p_of(delta: float) -> float:
        return one_sided_dm_crps(reference - delta + 0.01 * noise, reference, 1)[1]

    lo, hi = 0.0, 0.01
    for _ in range(80):  # bisection: p falls as the improvement delta grows
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if p_of(mid) > p_target else (lo, mid)
    delta = (lo + hi) / 2
    return reference - delta + 0.01 * noise, reference


def test_holm_bites_a_p_value_just_under_alpha_alone_fails_in_a_family_of_four() -> None:
    candidate, reference = _differential_with_p(0.03)
    alone = decide_distributions({"a": candidate}, reference, 1, GATE)["a"]
    assert alone.dm_pvalue_one_sided == pytest.approx(0.03, abs=1e-6)
    assert alone.passed and alone.promote and alone.family_size == 1
    assert alone.subperiods_won == 3

    four = decide_distributions(
        {"a": candidate, "b": reference.copy(), "c": reference * 1.001},
        reference,
        1,
        GATE,
        unavailable={"d": "lightgbm_vol needs 400 complete rows"},
    )
    a = four["a"]
    assert a.family_size == 4 and set(a.family) == {"a", "b", "c", "d"}
    assert a.dm_pvalue_one_sided == pytest.approx(0.03, abs=1e-6)
    assert a.dm_pvalue_holm == pytest.approx(0.12, abs=1e-5)  # 4 x 0.03: the smallest p
    assert not a.passed and not a.promote and a.chosen is None
    assert "Holm-adjusted one-sided DM p-value 0.12 is not at most 0.05 (4 candidates)" in a.reason
    d = four["d"]
    assert not d.passed and d.error and "could not be validated" in d.reason
    assert d.family["d"] is None and d.dm_pvalue_holm == 1.0

    no_holm = decide_distributions(
        {"a": candidate, "b": reference.copy()},
        reference,
        1,
        GATE.model_copy(update={"holm": False}),
    )
    assert no_holm["a"].passed and no_holm["a"].family_size == 1


def test_the_sub_period_rule_bites() -> None:
    n = 300
    rng = np.random.default_rng(5)
    reference = np.full(n, 1.0) + 0.001 * rng.standard_normal(n)
    candidate = reference.copy()
    candidate[:100] -= 0.01  # much better in the first third ...
    candidate[100:] += 0.001  # ... slightly worse in the other two
    d = decide_distributions({"lucky": candidate}, reference, 1, GATE)["lucky"]
    assert d.crps < d.crps_reference and d.dm_pvalue_holm < 1e-6  # better and "significant"
    assert d.subperiods_won == 1 and not d.passed
    assert "CRPS below garch_ref's in only 1 of 3 sub-periods (need 2)" in d.reason
    lenient = GATE.model_copy(update={"stability_min_wins": 1})
    assert decide_distributions({"lucky": candidate}, reference, 1, lenient)["lucky"].passed


def test_the_lowest_crps_of_those_that_pass_is_promoted_the_others_are_recorded() -> None:
    _, tracking, fixed = _planted()
    good = (tracking + fixed) / 2  # better than the reference, worse than tracking
    out = decide_distributions({"good": good, "best": tracking}, fixed, 1, GATE)
    assert out["best"].promote and out["best"].passed
    assert out["good"].passed and not out["good"].promote and out["good"].chosen == "best"
    assert out["good"].reason.startswith("passed the gate but not chosen: best has the lower")


def test_every_number_is_in_the_decision_and_it_is_json_safe() -> None:
    _, tracking, fixed = _planted()
    tracking[5] = np.nan  # an origin the candidate did not score is left out of the comparison
    d = decide_distributions({"x": tracking}, fixed, 7, GATE)["x"].to_dict()
    for key, value in {
        "candidate": "x",
        "reference": REFERENCE,
        "n_origins": 599,
        "family_size": 1,
        "max_dm_pvalue": 0.05,
        "stability_periods": 3,
        "stability_min_wins": 2,
    }.items():
        assert d[key] == value, key
    for key in ("crps", "crps_reference", "crps_skill_pct", "dm_stat", "dm_pvalue_one_sided"):
        assert np.isfinite(d[key]), key
    assert d["crps_skill_pct"] == pytest.approx(100 * (1 - d["crps"] / d["crps_reference"]))
    assert len(d["subperiod_crps"]) == len(d["subperiod_reference_crps"]) == 3
    assert d["subperiods_won"] == 3 and d["family"] == {"x": d["dm_pvalue_one_sided"]}
    json.dumps(json_safe(d), allow_nan=False)


def test_compare_crps_refuses_misaligned_inputs_and_handles_no_common_origin() -> None:
    from cryptoforecast.exceptions import DataError

    with pytest.raises(DataError, match="same validation origins"):
        compare_crps([1.0, 2.0], [1.0], 1)
    none = compare_crps([np.nan, 1.0], [1.0, np.nan], 1)
    assert none.n_origins == 0 and none.dm_pvalue_one_sided == 1.0
    d = decide_distributions({"x": [np.nan, 1.0]}, [1.0, np.nan], 1, GATE)["x"]
    assert not d.passed and "no validation origin was scored by both" in d.reason
