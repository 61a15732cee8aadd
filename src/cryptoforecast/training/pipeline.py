"""Train one model for one coin: load -> features -> validate -> fit -> save -> register -> gate.

``train_model_for_crypto`` is the entry point users run::

    import asyncio
    from cryptoforecast.training import train_model_for_crypto
    model = asyncio.run(train_model_for_crypto(crypto_id="bitcoin", model_type="lightgbm",
                                               days=365, save_model=True))

Steps, in order, and nothing is written anywhere before the last two:

1. Candles: the last ``days`` candles up to ``end`` plus the warm-up history the features need
   (``features.warmup_rows``), loaded off the event loop. A missing or corrupt input raises
   :class:`DataError` here, so the registry is never touched.
2. Features and the ``horizon``-step log-return target, built once (features are causal, plain
   functions); the training window is the last ``days`` rows with complete features.
3. Optional Optuna tuning (``tune=N``) on the part of the window *before* the validation tail.
4. Validation: a walk-forward backtest (``ForecastBacktester``) whose forecast origins are the
   last ``training.validation_size`` rows of the window, refitting every
   ``training.validation_retrain_every`` rows. Metrics are stored beside the naive forecast's on
   the same origins: MAE, RMSE, MAPE, MASE, directional accuracy, the Diebold-Mariano test and
   interval coverage.
5. The final model is fitted on every row of the window with a known target.
6. With ``save_model=True``: the artifact is written to
   ``<artifact root>/<model_type>/<crypto_id>/h<h>/v<version>_<UTC timestamp>``, registered as
   ``staging`` with metrics, config, lineage and feature importance, and the promotion gate
   decides whether it is promoted to ``production`` (the reason is recorded either way).

Feature selection (``feature_selection.top_k``) ranks features with each fit's own training rows
only: every validation fold ranks on its fold's rows, the final model on the window's rows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptoforecast.config import Settings, load_config
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.training.distribution_model import attach_distribution
from cryptoforecast.training.fitting import (
    TRAINABLE_MODELS,
    TrainingData,
    fit_forecaster,
    load_training_candles,
    model_params,
    prepare_training_data,
    unwrap,
)
from cryptoforecast.training.gate import GateDecision, decide_family, gate_decision
from cryptoforecast.training.metrics import ValidationMetrics
from cryptoforecast.training.records import (
    config_record,
    record_decision,
    register_trained,
    registry_or_default,
)
from cryptoforecast.training.results import TrainingResult, training_result
from cryptoforecast.training.tuning import tune_hyperparameters
from cryptoforecast.training.validation import (
    MIN_TRAIN_ROWS,
    FitCache,
    params_key,
    validate_walk_forward,
)

if TYPE_CHECKING:
    from cryptoforecast.models.base import Forecaster

__all__ = [
    "MIN_TRAIN_ROWS",
    "PREDICT_CONTEXT",
    "TRAINABLE_MODELS",
    "GateDecision",
    "TrainingData",
    "TrainingResult",
    "ValidationMetrics",
    "fit_and_validate",
    "fit_forecaster",
    "gate_decision",
    "model_params",
    "prepare_training_data",
    "record_decision",
    "resolve_settings",
    "train_model_for_crypto",
    "training_result",
    "validate_walk_forward",
]

#: rows of past features handed to ``predict`` before each test block (sequence models' lookback)
PREDICT_CONTEXT = 400


# --------------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------------
def resolve_settings(config: Settings | Mapping[str, Any] | str | Path | None) -> Settings:
    """``Settings`` from a Settings object, a mapping of overrides, a YAML path or ``None``."""
    if isinstance(config, Settings):
        return config
    if config is None:
        return load_config()
    if isinstance(config, Mapping):
        return load_config(overrides=config)
    if isinstance(config, str | Path):
        return load_config(config)
    raise ConfigError(
        f"config must be a Settings object, a mapping of overrides or a YAML path, got "
        f"{type(config).__name__}"
    )


# --------------------------------------------------------------------------------------------
# the entry point
# --------------------------------------------------------------------------------------------
def fit_and_validate(
    data: TrainingData,
    crypto_id: str,
    model_type: str,
    horizon: int,
    tune: int,
    settings: Settings,
    fit_cache: FitCache | None = None,
    anchor: Any = None,
) -> tuple[Forecaster, ValidationMetrics, dict[str, Any], dict[str, Any] | None]:
    """CPU-bound part: tune, validate, fit the final model. Returns model, metrics, params, tuning."""
    params = model_params(settings, model_type)
    seed = settings.training.seed
    top_k = settings.feature_selection.top_k
    timings: dict[str, float] = {}
    tuning: dict[str, Any] | None = None
    if tune:
        t0 = time.perf_counter()
        n_gate = min(settings.training.validation_size, len(data.X) // 3)
        # purged like every validation fit: only rows whose h-step label is known at the gate's
        # first origin (row len - n_gate), so no tuning label overlaps a validation target
        cut = len(data.X) - n_gate - horizon + 1
        result = tune_hyperparameters(
            data,
            model_type,
            tune,
            settings,
            study_name=f"{model_type}-{crypto_id}-h{horizon}-to{data.X.index[cut - 1]:%Y%m%d}-n{cut}",
            base_params=params,
            top_k=top_k,
            rows=cut,
        )
        params = dict(result.best_params)
        tuning = result.to_dict()
        timings["tune_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    metrics, validation = validate_walk_forward(
        data,
        lambda X, y: fit_forecaster(model_type, horizon, X, y, params, seed, top_k),
        settings,
        cache_key=params_key(model_type, params, seed, top_k),
        fit_cache=fit_cache,
        anchor=anchor,
    )
    timings["validate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = fit_forecaster(model_type, horizon, data.X, data.y, params, seed, top_k)
    attached = attach_distribution(model, data, validation, settings)
    timings["fit_s"] = time.perf_counter() - t0
    return model, metrics.with_extra(**attached, timings=timings), params, tuning


async def train_model_for_crypto(
    crypto_id: str,
    model_type: str = "lightgbm",
    days: int = 365,
    save_model: bool = True,
    horizon: int = 1,
    tune: int = 0,
    source: str = "snapshot",
    end: Any = None,
    config: Settings | Mapping[str, Any] | str | Path | None = None,
    registry: Any = None,
    *,
    path: str | Path | None = None,
) -> Forecaster:
    """Train, validate and (optionally) save, register and gate one model.

    Args:
        crypto_id: asset id or symbol (``bitcoin``, ``BTC``).
        model_type: lightgbm, xgboost, lstm, ensemble, naive, drift (or technical).
        days: the training window in candles; the features' warm-up is loaded on top.
        save_model: save the artifact, register it as staging and apply the promotion gate.
        horizon: forecast horizon in candles.
        tune: Optuna trials to run before training (0: use the config's hyperparameters).
        source: ``snapshot``, ``csv`` (with ``path=``), ``binance`` or ``coingecko``.
        end: last candle of the window (inclusive); ``None`` means the newest available.
        config: ``Settings``, a mapping of overrides (``{"lstm": {"epochs": 5}}``), a YAML path,
            or ``None`` for :func:`cryptoforecast.config.load_config`.
        registry: a ``ModelRegistry``; default: a new one on the configured URL.
        path: the CSV file for ``source="csv"``.

    Returns:
        The fitted forecaster, carrying what the training produced as one typed attribute,
        ``.training_result_`` (:class:`TrainingResult`: validation metrics beside naive's, the
        gate's decision, params, tuning, and the registry record when saved).

    Raises:
        DataError: missing, corrupt or too-short input (nothing is saved or registered).
        ConfigError: an unknown model type or a bad setting.
    """
    settings = resolve_settings(config)
    if model_type not in TRAINABLE_MODELS:
        raise ConfigError(
            f"unknown model_type {model_type!r}; use one of {', '.join(TRAINABLE_MODELS)}"
        )
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 366:
        raise ConfigError(f"horizon must be a whole number of candles >= 1, got {horizon!r}")
    if isinstance(tune, bool) or not isinstance(tune, int) or tune < 0:
        raise ConfigError(f"tune must be a whole number of Optuna trials >= 0, got {tune!r}")
    t_start = time.perf_counter()
    candles = await load_training_candles(crypto_id, days, horizon, source, end, path)
    crypto_id = str(candles.attrs.get("crypto_id", crypto_id))
    data = await asyncio.to_thread(prepare_training_data, candles, days, horizon)
    model, metrics, params, tuning = await asyncio.to_thread(
        fit_and_validate, data, crypto_id, model_type, horizon, tune, settings
    )
    # one candidate decided alone: the other candidate types count in the Holm family (p = 1)
    decision = decide_family({model_type: metrics}, settings.promotion_gate)[model_type]
    run_config = config_record(
        model_type,
        horizon,
        days,
        source,
        end,
        params=params,
        seed=settings.training.seed,
        top_k_features=settings.feature_selection.top_k,
        validation_size=settings.training.validation_size,
        validation_retrain_every=settings.training.validation_retrain_every,
        promotion_gate=settings.promotion_gate.model_dump(),
        tuning=tuning,
    )
    inner = unwrap(model)
    record = None
    if save_model:
        reg = registry_or_default(registry)
        model_id = await asyncio.to_thread(
            register_trained,
            reg,
            model,
            data,
            crypto_id,
            model_type,
            horizon,
            metrics,
            run_config,
            source,
            decision,
            settings.promotion_gate.retire_on_fail,
        )
        record = await asyncio.to_thread(reg.get, model_id)
    # the total (after registration) is kept with the result, not in the stored record
    timings = {**metrics.extra.get("timings", {}), "total_s": time.perf_counter() - t_start}
    metrics = metrics.with_extra(timings=timings)
    inner.training_result_ = TrainingResult(  # type: ignore[attr-defined]
        model=inner,
        crypto_id=crypto_id,
        model_type=model_type,
        horizon=horizon,
        days=days,
        metrics=metrics,
        params=params,
        tuning=tuning,
        gate=decision,
        record=record,
    )
    return inner
