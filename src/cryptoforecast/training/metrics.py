"""Typed validation metrics: what one walk-forward validation scored, beside naive's.

:class:`ValidationMetrics` is what
:func:`~cryptoforecast.training.validation.validation_metrics` returns (the one metrics function
on the training side, built on :func:`~cryptoforecast.evaluation.summary.summarise_results`) and
what the promotion gate, :class:`~cryptoforecast.training.results.TrainingResult` and the
training summaries read. :meth:`ValidationMetrics.to_dict` is the flat dict the registry stores
(``mase``, ``naive_mae``, ``dm_pvalue``, ``coverage_80``, ``distribution_crps`` ...), key for key
and in the same order, so records, the service and the dashboard read what they always read.

A field left at its default means "not measured": NaN for a figure, ``None`` for the DM
direction, empty sub-periods. The gate treats such evidence as missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["SKILL_BASELINE", "DistributionSkill", "ValidationMetrics"]

#: the baseline whose CRPS skill is recorded beside the point metrics
SKILL_BASELINE = "ewma_t"


@dataclass(frozen=True)
class DistributionSkill:
    """The predictive distribution's scores on the validation origins (recorded, not gated).

    ``crps_baseline`` is the CRPS of :data:`SKILL_BASELINE` on the same origins,
    ``crps_skill_pct`` and ``dm_pvalue`` compare the two; ``skill`` holds the same figures
    against every baseline scored (``rolling_gaussian``, ``ewma_t``, ``garch_t``). Non-finite
    figures are ``None``.
    """

    model: str | None
    n: int
    crps: float | None
    crps_baseline: float | None
    crps_skill_pct: float | None
    dm_pvalue: float | None
    coverage_80: float | None
    coverage_95: float | None
    skill: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The flat ``distribution_*`` entries the registry stores."""
        return {
            "distribution_model": self.model,
            "distribution_n": self.n,
            "distribution_crps": self.crps,
            f"distribution_crps_{SKILL_BASELINE}": self.crps_baseline,
            "distribution_crps_skill_pct": self.crps_skill_pct,
            "distribution_dm_pvalue": self.dm_pvalue,
            "distribution_coverage_80": self.coverage_80,
            "distribution_coverage_95": self.coverage_95,
            "distribution_skill": {base: dict(vals) for base, vals in self.skill.items()},
        }


#: fields stored in their own layout after the point figures (the rest keep their names)
_NESTED = ("coverage", "distribution", "extra")


@dataclass(frozen=True)
class ValidationMetrics:
    """Walk-forward validation of one model beside the naive forecast on the same origins.

    ``dm_*`` is the Diebold-Mariano test of squared-error loss against naive (``dm_pvalue``
    two-sided; ``dm_pvalue_one_sided``: H1 the model's loss is lower); ``subperiod_mae`` and
    ``subperiod_naive_mae`` are the MAEs in the gate's consecutive sub-periods. ``coverage``
    maps an interval level (80) to the share of outcomes inside it. ``distribution`` is the
    predictive distribution's CRPS skill, when the run scored one. ``extra`` holds figures
    recorded beside the validation by training (which distribution the saved model carries,
    timings); they are stored after the rest. The fields are declared in the order the registry
    stores them: keep it so.
    """

    mase: float = math.nan
    mae: float = math.nan
    rmse: float = math.nan
    mape: float = math.nan
    directional_accuracy: float = math.nan
    naive_mae: float = math.nan
    naive_rmse: float = math.nan
    naive_mape: float = math.nan
    improvement_vs_naive_pct: float = math.nan
    dm_stat: float = math.nan
    dm_pvalue: float = math.nan
    dm_pvalue_one_sided: float = math.nan
    dm_favours_model: bool | None = None
    subperiod_mae: Sequence[float] = ()
    subperiod_naive_mae: Sequence[float] = ()
    n_validation: int = 0
    n_refits: int = 0
    validation_start: str | None = None
    validation_end: str | None = None
    coverage: Mapping[int, float] = field(default_factory=dict)
    distribution: DistributionSkill | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_extra(self, **figures: Any) -> ValidationMetrics:
        """A copy with ``figures`` added to (or replacing those in) :attr:`extra`."""
        return replace(self, extra={**self.extra, **figures})

    def to_dict(self) -> dict[str, Any]:
        """The flat dict the registry stores: point figures, ``coverage_<level>``, the
        distribution's ``distribution_*`` entries, then :attr:`extra`."""
        # the point figures under their own names, in declaration order (the stored order)
        out: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NESTED
        }
        out["subperiod_mae"] = list(self.subperiod_mae)
        out["subperiod_naive_mae"] = list(self.subperiod_naive_mae)
        for level, share in self.coverage.items():
            out[f"coverage_{level}"] = share
        if self.distribution is not None:
            out.update(self.distribution.to_dict())
        out.update(self.extra)
        return out
