"""The distribution gate: pure functions from validation CRPS to a decision per candidate.

A distribution version of a (coin, horizon) reaches production only when its walk-forward
validation shows it beats the fallback that would serve otherwise, ``garch_ref`` (the textbook
GARCH(1,1)-t, uncalibrated), on the same origins:

1. **Accuracy:** its mean CRPS is lower than ``garch_ref``'s.
2. **Significance:** the one-sided Diebold-Mariano test of the CRPS differentials (H1: the
   candidate's CRPS is lower; HAC with Bartlett weights and ``h - 1`` lags, HLN-corrected:
   :func:`~cryptoforecast.training.gate.one_sided_dm_crps`) is significant at
   ``promotion_gate.max_dm_pvalue`` *after a Holm correction* over the candidates of the
   (coin, horizon) (:func:`~cryptoforecast.training.gate.holm_adjust`). A candidate that could
   not be validated counts in the family with ``p = 1``.
3. **Stability:** the common origins are cut into ``promotion_gate.stability_periods``
   consecutive sub-periods; its mean CRPS must be below ``garch_ref``'s in at least
   ``promotion_gate.stability_min_wins`` of them (the point gate's numbers).

Among the candidates that pass, the one with the lowest validation CRPS is promoted; the others
that passed are recorded as passed but not chosen (not promoted; the reason names the winner).
When none passes, ``garch_ref`` (the fallback) serves, and every reason says so with its
figures. Only origins where both the candidate and ``garch_ref`` were scored are compared.

Everything here is a pure function of numbers; :func:`cryptoforecast.training.distributions.
train_distributions` stores each :class:`DistributionGateDecision` (every number behind it) with
the version it decided, and its reason in the registry history.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from cryptoforecast.exceptions import DataError
from cryptoforecast.training.gate import holm_adjust, one_sided_dm_crps

if TYPE_CHECKING:
    from cryptoforecast.config import PromotionGateConfig

__all__ = [
    "REFERENCE",
    "CrpsComparison",
    "DistributionGateDecision",
    "compare_crps",
    "decide_distributions",
    "distribution_gate",
]

#: the fallback every distribution candidate must beat
REFERENCE = "garch_ref"


@dataclass(frozen=True)
class CrpsComparison:
    """A candidate's validation CRPS beside the reference's on the origins both scored."""

    n_origins: int
    crps: float
    crps_reference: float
    #: ``100 * (1 - crps / crps_reference)``: positive when the candidate is better
    crps_skill_pct: float
    dm_stat: float
    #: one-sided DM p-value, H1: the candidate's CRPS is lower
    dm_pvalue_one_sided: float
    subperiod_crps: list[float] = field(default_factory=list)
    subperiod_reference_crps: list[float] = field(default_factory=list)


def compare_crps(
    crps: ArrayLike, reference_crps: ArrayLike, horizon: int, periods: int = 3
) -> CrpsComparison:
    """Compare per-origin CRPS of a candidate with the reference's on the same origins.

    ``crps`` and ``reference_crps`` are aligned (one value per validation origin, NaN where a
    model was not scored); only origins where both are finite count. The mean CRPS of each in
    ``periods`` consecutive, (nearly) equal sub-periods of those origins is kept too (empty when
    there are fewer origins than periods).
    """
    c = np.asarray(crps, dtype="float64").reshape(-1)
    r = np.asarray(reference_crps, dtype="float64").reshape(-1)
    if c.size != r.size:
        raise DataError(
            f"the candidate has {c.size} CRPS values but {REFERENCE} has {r.size}; both must be "
            "on the same validation origins"
        )
    if isinstance(periods, bool) or not isinstance(periods, int) or periods < 1:
        raise DataError(f"stability periods must be a whole number >= 1, got {periods!r}")
    ok = np.isfinite(c) & np.isfinite(r)
    c, r = c[ok], r[ok]
    n = int(c.size)
    if n == 0:
        return CrpsComparison(0, math.nan, math.nan, math.nan, math.nan, 1.0)
    mean_c, mean_r = float(c.mean()), float(r.mean())
    skill = 100.0 * (1.0 - mean_c / mean_r) if mean_r > 0 else math.nan
    stat, p = one_sided_dm_crps(c, r, int(horizon))
    sub_c: list[float] = []
    sub_r: list[float] = []
    if n >= periods:
        for idx in np.array_split(np.arange(n), periods):
            sub_c.append(float(c[idx].mean()))
            sub_r.append(float(r[idx].mean()))
    return CrpsComparison(n, mean_c, mean_r, skill, float(stat), float(p), sub_c, sub_r)


@dataclass(frozen=True)
class DistributionGateDecision:
    """Whether a distribution candidate earned production, why, and every number behind it.

    ``passed``: it met every rule of the gate; ``promote``: it passed *and* had the lowest
    validation CRPS of those that passed (``chosen`` names that candidate, ``None`` when none
    passed and the fallback serves). ``error`` is set when the candidate could not be validated.
    """

    candidate: str
    passed: bool
    promote: bool
    reason: str
    chosen: str | None
    reference: str
    n_origins: int
    crps: float
    crps_reference: float
    crps_skill_pct: float
    dm_stat: float
    dm_pvalue_one_sided: float
    dm_pvalue_holm: float
    max_dm_pvalue: float | None
    family: dict[str, float | None] = field(default_factory=dict)
    family_size: int = 1
    subperiod_crps: list[float] = field(default_factory=list)
    subperiod_reference_crps: list[float] = field(default_factory=list)
    subperiods_won: int | None = None
    stability_periods: int | None = None
    stability_min_wins: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _figures(c: CrpsComparison) -> str:
    return (
        f"validation CRPS {c.crps:.5g} vs {REFERENCE} {c.crps_reference:.5g} "
        f"(skill {c.crps_skill_pct:+.2f}%, {c.n_origins} origins)"
    )


def distribution_gate(
    candidate: str,
    comparison: CrpsComparison,
    gate: PromotionGateConfig,
    *,
    holm_pvalue: float | None = None,
    family: Mapping[str, float | None] | None = None,
    family_size: int = 1,
) -> DistributionGateDecision:
    """Apply the gate's rules to one candidate's ``comparison`` with ``garch_ref``.

    ``holm_pvalue`` is its Holm-adjusted one-sided p-value (default: its own, a family of one).
    The decision's ``promote`` equals ``passed`` here; :func:`decide_distributions` chooses one
    among the candidates that pass.
    """
    c = comparison
    p_adj = c.dm_pvalue_one_sided if holm_pvalue is None else float(holm_pvalue)
    periods = gate.stability_periods
    failures: list[str] = []
    if c.n_origins == 0:
        failures.append(f"no validation origin was scored by both it and {REFERENCE}")
    elif not c.crps < c.crps_reference:
        failures.append(f"{_figures(c)}: not lower")
    if gate.max_dm_pvalue is not None and not p_adj <= gate.max_dm_pvalue:
        label = "Holm-adjusted one-sided DM p-value" if family_size > 1 else "one-sided DM p-value"
        failures.append(
            f"{label} {p_adj:.3g} is not at most {gate.max_dm_pvalue:g}"
            + (f" ({family_size} candidates)" if family_size > 1 else "")
        )
    wins: int | None = None
    if gate.stability_min_wins:
        if not c.subperiod_crps:
            failures.append(
                f"{c.n_origins} common origins cannot be cut into {periods} sub-periods"
            )
        else:
            wins = sum(
                a < b for a, b in zip(c.subperiod_crps, c.subperiod_reference_crps, strict=True)
            )
            if wins < gate.stability_min_wins:
                failures.append(
                    f"CRPS below {REFERENCE}'s in only {wins} of {len(c.subperiod_crps)} "
                    f"sub-periods (need {gate.stability_min_wins})"
                )
    if failures:
        # the figures lead, unless the first failure already shows them (or there are none)
        shown = c.n_origins == 0 or not c.crps < c.crps_reference
        reason = ("" if shown else f"{_figures(c)}, but ") + "; ".join(failures)
    else:
        reason = f"beats {REFERENCE}: {_figures(c)}"
        if gate.max_dm_pvalue is not None:
            reason += f", one-sided DM p = {p_adj:.3g}" + (" (Holm)" if family_size > 1 else "")
        if wins is not None:
            reason += f", lower CRPS in {wins} of {len(c.subperiod_crps)} sub-periods"
    return DistributionGateDecision(
        candidate=candidate,
        passed=not failures,
        promote=not failures,
        reason=reason,
        chosen=None,
        reference=REFERENCE,
        n_origins=c.n_origins,
        crps=c.crps,
        crps_reference=c.crps_reference,
        crps_skill_pct=c.crps_skill_pct,
        dm_stat=c.dm_stat,
        dm_pvalue_one_sided=c.dm_pvalue_one_sided,
        dm_pvalue_holm=p_adj,
        max_dm_pvalue=gate.max_dm_pvalue,
        family=dict(family or {}),
        family_size=int(family_size),
        subperiod_crps=list(c.subperiod_crps),
        subperiod_reference_crps=list(c.subperiod_reference_crps),
        subperiods_won=wins,
        stability_periods=periods,
        stability_min_wins=gate.stability_min_wins or None,
    )


def decide_distributions(
    candidates: Mapping[str, ArrayLike],
    reference_crps: ArrayLike,
    horizon: int,
    gate: PromotionGateConfig,
    *,
    unavailable: Mapping[str, str] | None = None,
) -> dict[str, DistributionGateDecision]:
    """Gate every distribution candidate of one (coin, horizon) and choose at most one.

    ``candidates`` maps a candidate name to its per-origin validation CRPS, aligned with
    ``reference_crps`` (``garch_ref``'s on the same origins). ``unavailable`` maps a candidate
    that could not be validated to why: it is decided as failed and counts in the Holm family
    with ``p = 1``. The family is every candidate given (with ``gate.holm`` off, no correction).
    The decisions come back in the order given, candidates then unavailable ones.
    """
    missing = dict(unavailable or {})
    both = sorted(set(candidates) & set(missing))
    if both:
        raise DataError(f"candidates {both} are given both with CRPS and as unavailable")
    comparisons = {
        name: compare_crps(crps, reference_crps, horizon, gate.stability_periods)
        for name, crps in candidates.items()
    }
    family: dict[str, float | None] = {
        **{name: c.dm_pvalue_one_sided for name, c in comparisons.items()},
        **dict.fromkeys(missing),
    }
    m = len(family)
    if gate.holm:
        adjusted = holm_adjust({k: 1.0 if v is None else v for k, v in family.items()}, m)
    else:
        adjusted = {k: 1.0 if v is None else float(v) for k, v in family.items()}
        m = 1
    decisions = {
        name: distribution_gate(
            name, c, gate, holm_pvalue=adjusted[name], family=family, family_size=m
        )
        for name, c in comparisons.items()
    }
    passing = [d for d in decisions.values() if d.passed]
    winner = min(passing, key=lambda d: d.crps) if passing else None
    out: dict[str, DistributionGateDecision] = {}
    for name, d in decisions.items():
        if winner is None:
            reason = f"{d.reason}; no candidate passed: {REFERENCE} (the fallback) serves"
        elif d is winner:
            reason = (
                f"{d.reason}; chosen: the lowest validation CRPS of the {len(passing)} that passed"
            )
        elif d.passed:
            reason = (
                f"passed the gate but not chosen: {winner.candidate} has the lower validation "
                f"CRPS ({winner.crps:.5g} vs {d.crps:.5g}); {d.reason}"
            )
        else:
            reason = f"{d.reason}; {winner.candidate} was chosen"
        out[name] = replace(
            d,
            promote=d is winner,
            reason=reason,
            chosen=None if winner is None else winner.candidate,
        )
    chosen = None if winner is None else winner.candidate
    tail = (
        f"; no candidate passed: {REFERENCE} (the fallback) serves"
        if chosen is None
        else f"; {chosen} was chosen"
    )
    for name, why in missing.items():
        out[name] = DistributionGateDecision(
            candidate=name,
            passed=False,
            promote=False,
            reason=f"could not be validated: {why}{tail}",
            chosen=chosen,
            reference=REFERENCE,
            n_origins=0,
            crps=math.nan,
            crps_reference=math.nan,
            crps_skill_pct=math.nan,
            dm_stat=math.nan,
            dm_pvalue_one_sided=1.0,
            dm_pvalue_holm=adjusted[name],
            max_dm_pvalue=gate.max_dm_pvalue,
            family=family,
            family_size=m,
            stability_periods=gate.stability_periods,
            stability_min_wins=gate.stability_min_wins or None,
            error=why,
        )
    return out
