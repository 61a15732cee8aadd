"""Train one model for one coin: load -> features -> validate -> fit -> save -> register -> gate.

``train_model(...)`` is the synchronous core; ``train_model_for_crypto`` awaits it in a worker
thread, for code that runs an event loop (and the original snippet)::

    from cryptoforecast.training import train_model
    model = train_model("bitcoin", model_type="lightgbm", days=365, save_model=True)

    import asyncio
    from cryptoforecast.training import train_model_for_crypto
    model = asyncio.run(train_model_for_crypto(crypto_id="bitcoin", model_type="lightgbm",
                                               days=365, save_model=True))

Steps, in order, and nothing is written anywhere before the last two:

1. Candles: the last ``days`` candles up to ``end`` plus the warm-up history the features need
   (``features.warmup_rows``). A missing or corrupt input raises
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

The feature groups of ``feature_selection.exclude_groups`` for the horizon (the feature
ablation's verdicts by default) are left out of the training window in step 2, so no fit sees
them and the saved model's ``feature_names_`` (what the service builds for it) lack them.

Feature selection (``feature_selection.top_k``) is a step of the forecaster
(:class:`~cryptoforecast.training.fit.TopKFeatures`) that ranks features with its own fit's rows
only: every validation fold ranks on its fold's rows, the final model on the window's rows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from cryptoforecast.backtest.engine import FitCache
from cryptoforecast.config import Settings, load_config
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models import load_plugins
from cryptoforecast.models.base import Forecaster
from cryptoforecast.training.distribution_model import attach_distribution
from cryptoforecast.training.fit import TopKFeatures, model_params, new_forecaster, trainable_models
from cryptoforecast.training.gate import decide_family, with_top_features
from cryptoforecast.training.metrics import ValidationMetrics
from cryptoforecast.training.registration import (
    config_record,
    register_trained,
    registry_or_default,
)
from cryptoforecast.training.results import TrainingResult
from cryptoforecast.training.tuning import tune_hyperparameters
from cryptoforecast.training.validation import params_key, validate_walk_forward
from cryptoforecast.training.window import (
    TrainingData,
    load_training_candles,
    prepare_training_data,
)

__all__ = [
    "Fitted",
    "fit_and_validate",
    "resolve_settings",
    "train_model",
    "train_model_for_crypto",
]


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


@dataclass(frozen=True)
class Fitted:
    """One model type fitted and validated on a training window.

    ``model`` is the forecaster that is saved and served (fitted on every row of the window, with
    its predictive distribution attached when the config names one); ``metrics`` its validation
    beside naive's; ``params`` the hyperparameters used; ``tuning`` the tuning study, if any.
    """

    model: Forecaster
    metrics: ValidationMetrics
    params: dict[str, Any]
    tuning: dict[str, Any] | None = None


def _tuned(
    data: TrainingData, crypto_id: str, model_type: str, tune: int, settings: Settings
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The hyperparameters to train with: the config's, or the best of ``tune`` Optuna trials on
    the rows before the validation tail."""
    params = model_params(settings, model_type)
    if not tune:
        return params, None
    horizon = data.horizon
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
        top_k=settings.feature_selection.top_k,
        rows=cut,
    )
    return dict(result.best_params), result.to_dict()


def fit_and_validate(
    data: TrainingData,
    crypto_id: str,
    model_type: str,
    settings: Settings,
    *,
    tune: int = 0,
    fit_cache: FitCache | None = None,
    anchor: Any = None,
) -> Fitted:
    """Tune (with ``tune`` trials), validate walk-forward, fit the final model on the window.

    Every fit, the validation folds' and the final one, is a new forecaster from
    :func:`~cryptoforecast.training.fit.new_forecaster` fitted on the rows it may see.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    params, tuning = _tuned(data, crypto_id, model_type, tune, settings)
    if tuning is not None:
        timings["tune_s"] = time.perf_counter() - t0
    seed, top_k = settings.training.seed, settings.feature_selection.top_k
    new_model = partial(new_forecaster, model_type, data.horizon, params, seed, top_k)
    t0 = time.perf_counter()
    metrics, validation = validate_walk_forward(
        data,
        settings,
        new_model=new_model,
        cache_key=params_key(model_type, params, seed, top_k),
        fit_cache=fit_cache,
        anchor=anchor,
    )
    timings["validate_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fitted = new_model().fit(data.X, data.y)
    model = fitted.model if isinstance(fitted, TopKFeatures) else fitted
    attached = attach_distribution(model, data, validation, settings)
    timings["fit_s"] = time.perf_counter() - t0
    return Fitted(model, metrics.with_extra(**attached, timings=timings), params, tuning)


def train_model(
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
    note: str | None = None,
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
        note: stored as ``note`` in the registered model's config when given (the demo's
            smoke run says so there).

    Returns:
        The fitted forecaster, carrying what the training produced as one typed attribute,
        ``.training_result_`` (:class:`TrainingResult`: validation metrics beside naive's, the
        gate's decision, params, tuning, and the registry record when saved).

    Raises:
        DataError: missing, corrupt or too-short input (nothing is saved or registered).
        ConfigError: an unknown model type or a bad setting.
    """
    settings = resolve_settings(config)
    load_plugins(settings)  # the configured plug-ins, imported once per process
    trainable = trainable_models()
    if model_type not in trainable:
        raise ConfigError(f"unknown model_type {model_type!r}; use one of {', '.join(trainable)}")
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 366:
        raise ConfigError(f"horizon must be a whole number of candles >= 1, got {horizon!r}")
    if isinstance(tune, bool) or not isinstance(tune, int) or tune < 0:
        raise ConfigError(f"tune must be a whole number of Optuna trials >= 0, got {tune!r}")
    t_start = time.perf_counter()
    candles = load_training_candles(crypto_id, days, horizon, source, end, path)
    crypto_id = str(candles.attrs.get("crypto_id", crypto_id))
    excluded = settings.feature_selection.excluded_groups(horizon)
    data = prepare_training_data(candles, days, horizon, exclude_groups=excluded)
    fitted = fit_and_validate(data, crypto_id, model_type, settings, tune=tune)
    # one candidate decided alone: the other candidate types count in the Holm family (p = 1)
    decision = decide_family({model_type: fitted.metrics}, settings.promotion_gate)[model_type]
    decision = with_top_features(decision, fitted.model.feature_importance())
    run_config = config_record(
        model_type,
        horizon,
        days,
        source,
        end,
        params=fitted.params,
        seed=settings.training.seed,
        top_k_features=settings.feature_selection.top_k,
        exclude_groups=list(excluded),
        validation_size=settings.training.validation_size,
        validation_retrain_every=settings.training.validation_retrain_every,
        promotion_gate=settings.promotion_gate.model_dump(),
        tuning=fitted.tuning,
    )
    if note is not None:
        run_config["note"] = note
    model = fitted.model
    record = None
    if save_model:
        reg = registry_or_default(registry)
        model_id = register_trained(
            reg, model, data, crypto_id, model_type, horizon, fitted.metrics, run_config, source,
            decision, settings.promotion_gate.retire_on_fail,
        )  # fmt: skip
        record = reg.get(model_id)
    # the total (after registration) is kept with the result, not in the stored record
    timings = {**fitted.metrics.extra.get("timings", {}), "total_s": time.perf_counter() - t_start}
    model.training_result_ = TrainingResult(  # type: ignore[attr-defined]
        model=model,
        crypto_id=crypto_id,
        model_type=model_type,
        horizon=horizon,
        days=days,
        metrics=fitted.metrics.with_extra(timings=timings),
        params=fitted.params,
        tuning=fitted.tuning,
        gate=decision,
        record=record,
    )
    return model


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
    """:func:`train_model` awaited in a worker thread (same arguments, same result), so that
    trainings can be awaited together from an event loop. The configured plug-ins are loaded
    first, on the calling thread."""
    load_plugins(resolve_settings(config))
    return await asyncio.to_thread(
        train_model, crypto_id, model_type, days, save_model, horizon, tune, source, end,
        config, registry, path=path,
    )  # fmt: skip
