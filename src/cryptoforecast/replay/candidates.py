"""One retraining date of the served backtest: train every candidate, gate them as one family.

``train_candidates(candles, crypto_id, horizon, date, candidates, settings, registry)`` does
what a scheduled retraining does on the candles up to ``date``: each candidate model type goes
through the real pipeline (:func:`~cryptoforecast.training.window.prepare_training_data`, the
walk-forward validation, the final fit), the promotion gate decides on all of them together
(one Holm family of ``len(candidates)``), and each is registered and promoted or refused in
``registry``. A candidate with too little history sits the date out (its error is returned).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from cryptoforecast.backtest.engine import FitCache
from cryptoforecast.config import Settings
from cryptoforecast.exceptions import DataError
from cryptoforecast.features import warmup_rows
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.gate import decide_family, with_top_features
from cryptoforecast.training.pipeline import Fitted, fit_and_validate
from cryptoforecast.training.registration import config_record, register_trained
from cryptoforecast.training.window import prepare_training_data

__all__ = ["SOURCE", "train_candidates"]

#: the data source recorded for models trained by the served backtest
SOURCE = "served-backtest"


def train_candidates(
    candles: pd.DataFrame,
    crypto_id: str,
    horizon: int,
    date: pd.Timestamp,
    candidates: Sequence[str],
    settings: Settings,
    registry: ModelRegistry,
    fit_cache: FitCache | None = None,
    anchor: pd.Timestamp | None = None,
) -> list[dict[str, Any]]:
    """Train every candidate on candles up to ``date``, gate them together, register them.

    Returns one row per candidate: its gate evidence and decision (``model_id``, ``promoted``,
    ``mase``, the one-sided and Holm-adjusted DM p-values, ``subperiods_won``, ``reason``,
    ``top_features``: the model's five most important, comma-separated), or
    the ``error`` that kept it out.
    """
    history = candles.loc[:date]
    days = min(settings.training.days, len(history) - warmup_rows() - horizon)
    excluded = settings.feature_selection.excluded_groups(horizon)
    data = prepare_training_data(history, days, horizon, exclude_groups=excluded)
    fitted: dict[str, Fitted] = {}
    errors: dict[str, str] = {}
    for name in candidates:
        try:
            fitted[name] = fit_and_validate(
                data, crypto_id, name, settings, fit_cache=fit_cache, anchor=anchor
            )
        except DataError as exc:  # too little history for this candidate: it sits this one out
            errors[name] = str(exc)
    decisions = decide_family(
        {k: v.metrics for k, v in fitted.items()},
        settings.promotion_gate,
        family_size=len(candidates),
    )
    rows = [{"retrain_date": date, "candidate": k, "error": v} for k, v in errors.items()]
    for name, fit in fitted.items():
        decision = with_top_features(decisions[name], fit.model.feature_importance())
        record = config_record(
            name,
            horizon,
            days,
            SOURCE,
            date,
            params=fit.params,
            seed=settings.training.seed,
            exclude_groups=list(excluded),
            promotion_gate=settings.promotion_gate.model_dump(),
        )
        model_id = register_trained(
            registry, fit.model, data, crypto_id, name, horizon, fit.metrics, record,
            SOURCE, decision, settings.promotion_gate.retire_on_fail,
        )  # fmt: skip
        rows.append(
            {
                "retrain_date": date,
                "candidate": name,
                "model_id": model_id,
                "promoted": decision.promote,
                "mase": decision.mase,
                "dm_pvalue_one_sided": decision.dm_pvalue_one_sided,
                "dm_pvalue_holm": decision.dm_pvalue_holm,
                "subperiods_won": decision.subperiods_won,
                "reason": decision.reason,
                "top_features": ", ".join(decision.top_features),
                "error": None,
            }
        )
    return rows
