"""The promotion gate: pure functions from validation evidence to a decision.

A model reaches production only when its walk-forward validation shows an edge over the naive
forecast that is unlikely to be luck:

1. **Accuracy:** validation MASE below ``max_mase`` (1 = naive).
2. **Significance:** the Diebold-Mariano test of squared-error loss against naive, one-sided
   (H1: the model's loss is lower), with the HLN correction, at ``max_dm_pvalue`` *after a Holm
   correction* across the candidates competing for the same (coin, horizon). Trying four model
   types and keeping the best is four tries: without the correction a lucky window promotes
   noise about four times as often as the nominal level says.
3. **Stability:** the validation window is cut into ``stability_periods`` consecutive
   sub-periods; the model's MAE must be below naive's in at least ``stability_min_wins`` of them,
   so one lucky stretch cannot carry the whole window.

Holm's step-down procedure (Holm 1979): sort the family's ``m`` p-values ascending; the ``i``-th
smallest (1-based) is adjusted to ``max_{j <= i} min(1, (m - j + 1) * p_(j))``. A family member
whose p-value is not known (a candidate type not trained on this window) counts as ``p = 1``:
it never helps another member pass, and ``m`` stays the number of candidates competing.

4. **Recorded, not gated:** the predictive distribution's CRPS skill against ``ewma_t`` on the
   same validation origins (``crps``, ``crps_skill_pct``, ``dm_pvalue``) is kept in the decision
   and its reason. The edge the distribution models showed in the benchmark is small (well
   under 1% of CRPS against ``ewma_t`` at h=7 and h=14, not significant there), so gating a
   point model on it would add noise, not evidence; and a point model that is refused falls
   back with its distribution anyway.

5. **Recorded, not gated:** the model's :data:`TOP_FEATURES` most important features
   (:func:`with_top_features`), in the decision and at the end of its reason, so the history
   shows what each promoted or refused model leaned on (a model led by day-of-year features
   memorises past years).

Everything here is a pure function of numbers; the training pipeline stores the returned
:class:`GateDecision` (every number behind it) in the registry history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from cryptoforecast.evaluation.scoring import dm_crps
from cryptoforecast.evaluation.stats import DMResult, diebold_mariano
from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.training.metrics import ValidationMetrics

if TYPE_CHECKING:
    import pandas as pd

    from cryptoforecast.config import PromotionGateConfig

__all__ = [
    "TOP_FEATURES",
    "GateDecision",
    "decide_family",
    "distribution_evidence",
    "gate_decision",
    "holm_adjust",
    "one_sided_dm",
    "one_sided_dm_crps",
    "subperiod_mae",
    "with_top_features",
]

#: how many of a model's most important features its gate decision names
TOP_FEATURES = 5


def one_sided_dm(e_model: ArrayLike, e_naive: ArrayLike, horizon: int) -> tuple[float, float]:
    """``(statistic, p)`` of the one-sided DM test, H1: the model's squared error is lower.

    The HLN-corrected statistic is compared with Student's t on ``T - 1`` degrees of freedom;
    a negative statistic favours the model. An undefined test (too few origins, zero variance)
    gives ``p = 1``: no evidence.
    """
    return _one_sided(diebold_mariano(e_model, e_naive, horizon))


def one_sided_dm_crps(
    crps_model: ArrayLike, crps_base: ArrayLike, horizon: int
) -> tuple[float, float]:
    """``(statistic, p)`` of the one-sided DM test on per-origin CRPS, H1: the model's CRPS is
    lower; HAC (Bartlett weights, ``h - 1`` lags) with the HLN correction, as
    :func:`one_sided_dm`."""
    return _one_sided(dm_crps(crps_model, crps_base, horizon))


def _one_sided(res: DMResult) -> tuple[float, float]:
    """The one-sided p-value (H1: the model's loss is lower) of a two-sided HLN DM result."""
    from scipy import stats

    if not math.isfinite(res.statistic) or res.n < 2:
        return res.statistic, 1.0
    return float(res.statistic), float(stats.t.cdf(res.statistic, df=res.n - 1))


def holm_adjust(pvalues: Mapping[str, float], family_size: int | None = None) -> dict[str, float]:
    """Holm step-down adjusted p-values for each member of ``pvalues``.

    ``family_size`` (default ``len(pvalues)``) counts members whose p-value is unknown too; they
    rank last (p = 1). NaN p-values count as 1.
    """
    m = len(pvalues) if family_size is None else int(family_size)
    if m < len(pvalues):
        raise ConfigError(
            f"family_size {family_size} is smaller than the {len(pvalues)} p-values given; the "
            "family must include every candidate tested"
        )
    clean = {
        k: (float(p) if p is not None and math.isfinite(float(p)) else 1.0)
        for k, p in pvalues.items()
    }
    order = sorted(clean, key=lambda k: clean[k])
    out: dict[str, float] = {}
    running = 0.0
    for i, key in enumerate(order):
        running = max(running, min(1.0, (m - i) * clean[key]))
        out[key] = running
    return out


def subperiod_mae(
    y_true: ArrayLike, y_pred: ArrayLike, naive: ArrayLike, periods: int = 3
) -> tuple[list[float], list[float]]:
    """MAE of the model and of naive in ``periods`` consecutive, (nearly) equal sub-periods."""
    t = np.asarray(y_true, dtype="float64")
    p = np.asarray(y_pred, dtype="float64")
    n = np.asarray(naive, dtype="float64")
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise ConfigError(f"stability periods must be a whole number >= 1, got {periods!r}")
    if len(t) < periods:
        raise DataError(
            f"{len(t)} validation origins cannot be cut into {periods} sub-periods; validate on "
            "more origins"
        )
    model, base = [], []
    for idx in np.array_split(np.arange(len(t)), periods):
        model.append(float(np.mean(np.abs(t[idx] - p[idx]))))
        base.append(float(np.mean(np.abs(t[idx] - n[idx]))))
    return model, base


@dataclass(frozen=True)
class GateDecision:
    """Whether a model earned production, why, and every number behind it."""

    promote: bool
    reason: str
    mase: float
    max_mase: float
    dm_favours_model: bool | None
    dm_pvalue: float | None
    dm_pvalue_one_sided: float | None = None
    dm_pvalue_holm: float | None = None
    max_dm_pvalue: float | None = None
    family: dict[str, float | None] = field(default_factory=dict)
    family_size: int = 1
    subperiod_mae: list[float] = field(default_factory=list)
    subperiod_naive_mae: list[float] = field(default_factory=list)
    subperiods_won: int | None = None
    stability_min_wins: int | None = None
    #: the distribution's CRPS against ewma_t (recorded, not gated); None when none was scored
    distribution: dict[str, Any] | None = None
    #: the model's most important features, highest first (recorded, not gated; empty when the
    #: model has no feature importance)
    top_features: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def with_top_features(
    decision: GateDecision, importance: pd.Series | None, k: int = TOP_FEATURES
) -> GateDecision:
    """``decision`` naming the model's ``k`` most important features: in ``top_features`` and at
    the end of its reason (which the registry history records). ``importance`` is the model's
    ``feature_importance()`` (feature -> importance); ties keep its order, and features of zero
    importance are not named. ``None`` (a model without importance) is said so in the reason."""
    if importance is None or len(importance) == 0:
        return replace(decision, top_features=[], reason=decision.reason + _TOP_NONE)
    values = np.asarray(importance.to_numpy(dtype="float64"), dtype="float64")
    order = np.argsort(-np.nan_to_num(values, nan=0.0), kind="stable")
    top = [str(importance.index[i]) for i in order[:k] if values[i] > 0]
    if not top:
        return replace(decision, top_features=[], reason=decision.reason + _TOP_NONE)
    return replace(
        decision, top_features=top, reason=f"{decision.reason}; top features: {', '.join(top)}"
    )


_TOP_NONE = "; top features: none (the model reports no feature importance)"


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def distribution_evidence(metrics: ValidationMetrics) -> dict[str, Any] | None:
    """The distribution's CRPS skill against ``ewma_t`` from validation ``metrics``, if scored."""
    dist = metrics.distribution
    if dist is None or dist.model is None:
        return None
    return {
        "model": dist.model,
        "crps": _num(dist.crps),
        "crps_ewma_t": _num(dist.crps_baseline),
        "crps_skill_pct": _num(dist.crps_skill_pct),
        "dm_pvalue": _num(dist.dm_pvalue),
    }


def _distribution_note(evidence: Mapping[str, Any] | None) -> str:
    if evidence is None:
        return ""
    if evidence["crps"] is None or evidence["crps_ewma_t"] is None:
        return f"; distribution {evidence['model']}: not scored (recorded, not gated)"
    skill, p = evidence["crps_skill_pct"], evidence["dm_pvalue"]
    return (
        f"; distribution {evidence['model']}: CRPS {evidence['crps']:.5g} vs ewma_t "
        f"{evidence['crps_ewma_t']:.5g} (skill {'n/a' if skill is None else f'{skill:+.2f}%'}, "
        f"DM p = {'n/a' if p is None else f'{p:.3g}'}; recorded, not gated)"
    )


def gate_decision(
    metrics: ValidationMetrics,
    gate: PromotionGateConfig,
    *,
    holm_pvalue: float | None = None,
    family: Mapping[str, float | None] | None = None,
    family_size: int = 1,
) -> GateDecision:
    """Apply the gate to one candidate's validation ``metrics``.

    The gate reads ``mase``, ``dm_favours_model``, ``dm_pvalue`` (two-sided),
    ``dm_pvalue_one_sided``, ``subperiod_mae`` / ``subperiod_naive_mae`` and the distribution's
    skill of :class:`~cryptoforecast.training.metrics.ValidationMetrics` (what
    :func:`cryptoforecast.training.validation.validation_metrics` returns); a NaN figure counts
    as missing. ``holm_pvalue`` is the candidate's Holm-adjusted one-sided p-value (default: its
    own, a family of one).
    """
    mase = _num(metrics.mase)
    favours = metrics.dm_favours_model
    p_two = _num(metrics.dm_pvalue)
    p_one = _num(metrics.dm_pvalue_one_sided)
    if p_one is None and p_two is not None and favours is not None:
        # only the two-sided p is known: halve it when the direction favours the model
        p_one = p_two / 2 if favours else 1 - p_two / 2
    p_adj = holm_pvalue if holm_pvalue is not None else p_one
    failures: list[str] = []
    if mase is None:
        failures.append("validation MASE is not available")
    elif mase >= gate.max_mase:
        failures.append(f"validation MASE {mase:.4f} is not below {gate.max_mase:g} (naive = 1)")
    if gate.require_dm_direction and not favours:
        failures.append(
            "the Diebold-Mariano loss differential does not favour the model over naive"
        )
    if gate.max_dm_pvalue is not None and not (p_adj is not None and p_adj <= gate.max_dm_pvalue):
        label = "Holm-adjusted one-sided DM p-value" if family_size > 1 else "one-sided DM p-value"
        shown = "n/a" if p_adj is None else f"{p_adj:.3g}"
        failures.append(
            f"{label} {shown} is not at most {gate.max_dm_pvalue:g}"
            + (f" ({family_size} candidates)" if family_size > 1 else "")
        )
    sub_m = [float(v) for v in metrics.subperiod_mae]
    sub_n = [float(v) for v in metrics.subperiod_naive_mae]
    wins: int | None = None
    if gate.stability_min_wins:
        if not sub_m or len(sub_m) != len(sub_n):
            failures.append("no sub-period MAE to check stability")
        else:
            wins = sum(a < b for a, b in zip(sub_m, sub_n, strict=True))
            if wins < gate.stability_min_wins:
                failures.append(
                    f"MAE below naive's in only {wins} of {len(sub_m)} sub-periods (need "
                    f"{gate.stability_min_wins})"
                )
    if failures:
        reason = "; ".join(failures)
    else:
        reason = f"validation MASE {mase:.4f} < {gate.max_mase:g}"
        if p_adj is not None:
            reason += f", DM p = {p_adj:.3g}" + (" (Holm)" if family_size > 1 else "")
        if wins is not None:
            reason += f", better than naive in {wins} of {len(sub_m)} sub-periods"
    evidence = distribution_evidence(metrics)
    reason += _distribution_note(evidence)
    return GateDecision(
        promote=not failures,
        reason=reason,
        mase=math.nan if mase is None else mase,
        max_mase=gate.max_mase,
        dm_favours_model=None if favours is None else bool(favours),
        dm_pvalue=p_two,
        dm_pvalue_one_sided=p_one,
        dm_pvalue_holm=p_adj,
        max_dm_pvalue=gate.max_dm_pvalue,
        family=dict(family or {}),
        family_size=int(family_size),
        subperiod_mae=sub_m,
        subperiod_naive_mae=sub_n,
        subperiods_won=wins,
        stability_min_wins=gate.stability_min_wins or None,
        distribution=evidence,
    )


def decide_family(
    candidates: Mapping[str, ValidationMetrics],
    gate: PromotionGateConfig,
    family_size: int | None = None,
    others: Mapping[str, float | None] | None = None,
) -> dict[str, GateDecision]:
    """Gate every candidate of one (coin, horizon), Holm-correcting across them.

    ``candidates`` maps a candidate name to its validation metrics. ``others`` adds one-sided
    p-values of competitors not decided here (``None``: unknown, counted as 1);
    ``family_size`` (default: candidates + others, at least ``len(gate.candidates)``) is ``m``.
    """
    pvalues: dict[str, float | None] = {}
    for name, metrics in candidates.items():
        pvalues[name] = _num(metrics.dm_pvalue_one_sided)
    extra = dict(others or {})
    family = {**extra, **pvalues}
    m = family_size or max(len(family), len(gate.candidates))
    if gate.holm:
        adjusted = holm_adjust({k: 1.0 if v is None else v for k, v in family.items()}, m)
    else:
        adjusted = {k: 1.0 if v is None else float(v) for k, v in family.items()}
        m = 1
    return {
        name: gate_decision(
            metrics,
            gate,
            holm_pvalue=adjusted[name],
            family=family,
            family_size=m,
        )
        for name, metrics in candidates.items()
    }
