"""The training pipeline's validation: the one walk-forward engine, scored for the gate.

``validate_walk_forward(data, settings, new_model=...)`` runs
:class:`~cryptoforecast.backtest.engine.ForecastBacktester` (the same splits, purge and
refit schedule as every backtest) over the last ``training.validation_size`` origins of the
training window (365 by default), refitting every ``training.validation_retrain_every`` rows
(30) with a purge of ``horizon`` rows. Each validation fit sees the same number of rows as the
first one (a sliding window over the rows before its origin), so a fit depends only on its own
rows: ``fit_cache`` can then reuse it across retrainings whose validation windows overlap (the
served backtest does), with exactly the result of refitting.

``anchor`` aligns the refit origins to a fixed date (every ``validation_retrain_every`` rows from
it), adding at most ``validation_retrain_every - 1`` earlier origins; without it the grid starts
``validation_size`` origins before the window's end. An anchored walk fits every fold on the same
number of rows whatever the anchor's offset (the rows left before the earliest possible first
origin, ``validation_retrain_every - 1`` fewer than without an anchor), so that two retrainings
a week apart ask for the same fits at the grid's shared origins and the cache answers them.

Metrics come from :func:`~cryptoforecast.evaluation.summary.summarise_results` (the one metrics
engine) as a typed :class:`~cryptoforecast.training.metrics.ValidationMetrics` (what the gate,
the training result and the registry read; ``to_dict()`` is the flat dict stored), plus the
gate's evidence: the one-sided DM p-value and the MAE of model and naive in
``promotion_gate.stability_periods`` consecutive sub-periods. With ``distribution.model`` set,
the same walk scores that predictive distribution around the validation forecasts (the
backtester's distribution block) and the metrics carry its CRPS skill against ``ewma_t``
(:func:`~cryptoforecast.training.distribution_model.distribution_metrics`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cryptoforecast.backtest.engine import FitCache, ModelTrainer, backtester_from
from cryptoforecast.evaluation.summary import summarise_results
from cryptoforecast.exceptions import DataError
from cryptoforecast.features import build_features
from cryptoforecast.training.distribution_model import distribution_metrics
from cryptoforecast.training.gate import one_sided_dm, subperiod_mae
from cryptoforecast.training.metrics import ValidationMetrics

if TYPE_CHECKING:
    from cryptoforecast.config import Settings
    from cryptoforecast.models.base import Forecaster
    from cryptoforecast.training.window import TrainingData

__all__ = ["MIN_TRAIN_ROWS", "params_key", "validate_walk_forward", "validation_metrics"]

#: the fewest rows the first validation fold may train on
MIN_TRAIN_ROWS = 60


def validation_metrics(
    results: pd.DataFrame,
    horizon: int,
    coverages: tuple[float, ...],
    stability_periods: int = 3,
) -> ValidationMetrics:
    """Validation metrics of ``results`` (the backtester's frame) beside naive's, typed."""
    agg = summarise_results(results, horizon=horizon, coverages=coverages)
    model, naive = agg["model"], agg["naive"]
    truth = results["y_true"].to_numpy(dtype="float64")
    pred = results["y_pred"].to_numpy(dtype="float64")
    base = results["naive"].to_numpy(dtype="float64")
    stat, p_one = one_sided_dm(truth - pred, truth - base, horizon)
    sub_m, sub_n = subperiod_mae(truth, pred, base, min(stability_periods, len(truth)))
    levels = [round(c * 100) for c in coverages]
    return ValidationMetrics(
        mase=model["mase"],
        mae=model["mae"],
        rmse=model["rmse"],
        mape=model["mape"],
        directional_accuracy=model["directional_accuracy"],
        naive_mae=naive["mae"],
        naive_rmse=naive["rmse"],
        naive_mape=naive["mape"],
        improvement_vs_naive_pct=agg["improvement_vs_naive_pct"],
        dm_stat=agg["dm_statistic"],
        dm_pvalue=agg["dm_pvalue"],
        dm_pvalue_one_sided=p_one,
        # squared-error loss (the DM test's): does the loss differential favour the model?
        dm_favours_model=agg["dm_favours"] == "model",
        subperiod_mae=sub_m,
        subperiod_naive_mae=sub_n,
        n_validation=int(len(results)),
        n_refits=int(agg["n_refits"]),
        validation_start=str(results["origin"].iloc[0]),
        validation_end=str(results["origin"].iloc[-1]),
        coverage={lv: model.get(f"coverage_{lv:d}", np.nan) for lv in levels},
        # the predictive distribution's CRPS skill against ewma_t, when the run scored one
        distribution=distribution_metrics(results, horizon),
    )


def _anchored_origins(data: TrainingData, n_val: int, step: int, anchor: Any) -> int:
    """``n_val`` plus the fewest extra origins that put the first refit on the anchor's grid."""
    if anchor is None:
        return n_val
    index = data.features.index if data.features is not None else data.candles.index
    a = index.get_indexer([pd.Timestamp(anchor)])[0]
    first = index.get_indexer([data.X.index[-1]])[0] - n_val + 1
    if a < 0 or first < 0:
        return n_val
    return int(n_val + (first - a) % step)


def validate_walk_forward(
    data: TrainingData,
    settings: Settings,
    *,
    new_model: Callable[[], Forecaster] | None = None,
    fit: ModelTrainer | None = None,
    cache_key: Any = None,
    fit_cache: FitCache | None = None,
    anchor: Any = None,
) -> tuple[ValidationMetrics, pd.DataFrame]:
    """Walk-forward validation over the window's last ``training.validation_size`` rows.

    Each refit is ``new_model()`` fitted on the fold's rows, or ``fit(X, y)`` (one of the two).
    Returns ``(metrics, results)``. The validation tail shrinks (to at most a third of the window)
    when the window is short, and the metrics record how many origins were used. With
    ``fit_cache`` (and a ``cache_key`` naming the model and its parameters) a fit on the same rows
    is reused instead of repeated.
    """
    n = len(data.X)
    h = data.horizon
    step = settings.training.validation_retrain_every
    n_val = min(settings.training.validation_size, n // 3)
    n_val = int(min(_anchored_origins(data, n_val, step, anchor), n - MIN_TRAIN_ROWS - h))
    if n_val < 10 or n - n_val - h < MIN_TRAIN_ROWS:
        raise DataError(
            f"the training window has {n} labelled rows, too few for a validation walk-forward "
            f"(need at least {MIN_TRAIN_ROWS + 10 + h}); train on more days"
        )
    # an anchored grid adds up to step - 1 origins in front; the rows per fit must not depend
    # on how many, or no two retrainings share a fit (module docstring)
    base = int(min(settings.training.validation_size, n // 3))
    rows_per_fit = n - n_val - h + 1
    if anchor is not None:
        rows_per_fit = max(MIN_TRAIN_ROWS, min(rows_per_fit, n - (base + step - 1) - h + 1))
    coverages = tuple(settings.backtest.interval_coverage)
    # the window's candles (plus the unlabelled last rows) and its precomputed features
    candles = data.candles.loc[data.X.index[0] :]
    full = data.features if data.features is not None else build_features(data.candles)
    feats = full.loc[candles.index]
    backtester = backtester_from(
        settings,
        h,
        initial_train_size=rows_per_fit,
        test_size=step,
        step_size=step,
        retrain_frequency=step,
        window="sliding",
        interval_coverage=coverages,
        test_origins=n_val,
        distribution=settings.distribution.model,
        distribution_calibration=settings.distribution.calibration,
    )
    results = backtester.run_walk_forward_validation(
        candles,
        fit,
        features=feats,
        new_model=new_model,
        fit_cache=fit_cache,
        cache_key=cache_key,
    )
    metrics = validation_metrics(results, h, coverages, settings.promotion_gate.stability_periods)
    return dataclasses.replace(metrics, n_refits=int(backtester.n_refits_)), results


def params_key(model_type: str, params: Mapping[str, Any], seed: int, top_k: int | None) -> str:
    """A stable text key for a model type and its hyperparameters (for ``fit_cache``)."""
    return json.dumps([model_type, params, seed, top_k], sort_keys=True, default=str)
