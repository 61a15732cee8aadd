"""The predictive distribution trained with each point model: part of the model version.

Training composes the configured scale model (``distribution.model``, e.g. ``har_rv``) with the
trained point model: location from the point model, scale from the volatility model fitted on
the training window's candles, shape as ``distribution.calibration`` says (by default the scale
model's own parametric shape; with a conformal choice, normalised conformal scores). The scores
are out of sample twice over: the volatility model that scales them is fitted only on candles ``horizon``
days before the calibration rows, and their location is the point model's walk-forward
validation forecast at each origin (made by a model that never saw that origin's future).

The validation walk-forward scores the same distribution at every validation origin (the
backtester's distribution block) against ``rolling_gaussian``, ``ewma_t`` and ``garch_t``;
:func:`distribution_metrics` reads the skill against ``ewma_t`` into a typed
:class:`~cryptoforecast.training.metrics.DistributionSkill`, stored in the registry beside the
point metrics. The gate records it; it does not decide on it.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from cryptoforecast.evaluation.distribution_summary import summarise_distribution
from cryptoforecast.exceptions import DataError
from cryptoforecast.models.distribution import DistributionForecaster, MarketData
from cryptoforecast.training.metrics import SKILL_BASELINE, DistributionSkill

if TYPE_CHECKING:
    from cryptoforecast.config import Settings
    from cryptoforecast.training.window import TrainingData

__all__ = ["attach_distribution", "distribution_metrics", "fit_distribution"]

log = logging.getLogger(__name__)


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def distribution_metrics(results: pd.DataFrame, horizon: int) -> DistributionSkill | None:
    """The distribution's scores of a validation run whose results carry the distribution
    columns (``crps``, ``crps_<baseline>``, ``q_<level>``); ``None`` when they carry none."""
    if "crps" not in results.columns:
        return None
    name = str(results["distribution"].iloc[0]) if "distribution" in results.columns else None
    block = summarise_distribution(results, int(horizon), name)
    skill = block.get("skill", {}).get(SKILL_BASELINE, {})
    coverage = block.get("coverage", {})
    return DistributionSkill(
        model=name,
        n=int(block.get("n", 0)),
        crps=_num(block.get("crps")),
        crps_baseline=_num(skill.get("crps")),
        crps_skill_pct=_num(skill.get("crps_skill_pct")),
        dm_pvalue=_num(skill.get("dm_pvalue")),
        coverage_80=_num(coverage.get("80")),
        coverage_95=_num(coverage.get("95")),
        skill={
            base: {k: _num(v) for k, v in vals.items()}
            for base, vals in block.get("skill", {}).items()
        },
    )


def fit_distribution(
    data: TrainingData, validation: pd.DataFrame, settings: Settings
) -> tuple[DistributionForecaster | None, str | None]:
    """``(distribution, None)`` fitted on the training window, or ``(None, why not)``.

    ``validation`` is the validation walk-forward's results (``origin``, ``y_pred_logret``):
    their out-of-sample point forecasts locate the calibration scores.
    """
    cfg = settings.distribution
    if cfg.model is None:
        return None, "no distribution model configured (distribution.model is null)"
    candles = data.candles.loc[data.start :]
    location = pd.Series(
        validation["y_pred_logret"].to_numpy(dtype="float64"),
        index=pd.DatetimeIndex(validation["origin"]),
    )
    dist = DistributionForecaster(
        cfg.model,
        horizon=int(data.horizon),
        calibration=cfg.calibration,
        calibration_fraction=cfg.calibration_fraction,
    )
    try:
        dist.fit(MarketData(candles), location=location)
    except DataError as exc:  # too short a window for the scale or its calibration
        log.warning("no %s distribution for this model: %s", cfg.model, exc)
        return None, f"{cfg.model} could not be fitted: {exc}"
    return dist, None


def attach_distribution(
    model: Any, data: TrainingData, validation: pd.DataFrame, settings: Settings
) -> dict[str, Any]:
    """Fit the configured distribution and attach it to ``model`` (the forecaster that is saved),
    so :meth:`save_model` stores it in the artifact. Returns what to record in the metrics: the
    scale model's name, or why there is none."""
    dist, why_not = fit_distribution(data, validation, settings)
    model.distribution_ = dist
    if dist is None:
        return {"distribution_attached": None, "distribution_note": why_not}
    return {"distribution_attached": dist.volatility}
