"""Hyperparameter tuning with Optuna: seeded TPE, median pruning, a resumable study.

The objective is the walk-forward MASE (model MAE / naive MAE on the same origins, on prices) of
a validation tail *inside the data it is given*. :func:`cryptoforecast.training.train_pipeline.
train_model_for_crypto` gives it only the part of the training window that comes before the
validation tail used by the promotion gate, so the gate judges the tuned parameters on origins
the search never saw, and nothing later than the training window is ever looked at.

Each fold of the walk-forward reports the running MASE to Optuna, so the median pruner can stop
a hopeless trial early. Studies live in SQLite at ``$CRYPTOFORECAST_HOME/optuna.db`` by default
and resume when the same study name is used again; any Optuna RDB URL works instead
(``training.optuna_storage`` in the config, e.g. ``postgresql+psycopg://...``) so workers on
several machines can share one study.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.redaction import mask_url, redact
from cryptoforecast.registry.engine import URL_FORMS

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import optuna

    from cryptoforecast.config import Settings
    from cryptoforecast.models.base import Forecaster

__all__ = [
    "TUNABLE_MODELS",
    "TuningResult",
    "default_storage_url",
    "suggest_params",
    "tune_hyperparameters",
    "walk_forward_folds",
    "walk_forward_mase",
]

#: model types with a search space; baselines have nothing to tune.
TUNABLE_MODELS = ("lightgbm", "xgboost", "lstm", "ensemble")


@dataclass
class TuningResult:
    """What a study found: best parameters, its objective value and the study's bookkeeping."""

    best_params: dict[str, Any]
    best_value: float
    n_trials: int
    n_pruned: int
    study_name: str
    storage: str
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary, stored with the model's config in the registry."""
        return {
            "best_params": dict(self.best_params),
            "best_value": self.best_value,
            "n_trials": self.n_trials,
            "n_pruned": self.n_pruned,
            "study_name": self.study_name,
            "storage": mask_url(self.storage),
            "objective": "walk-forward validation MASE (before the gate's validation tail)",
        }


def default_storage_url(settings: Settings | None = None) -> str:
    """The study storage: ``training.optuna_storage`` if set, else SQLite under the home dir."""
    configured = getattr(getattr(settings, "training", None), "optuna_storage", None)
    if configured:
        return str(configured)
    from cryptoforecast.paths import home_dir

    home = home_dir()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(home / 'optuna.db').as_posix()}"


def suggest_params(trial: optuna.Trial, model_type: str) -> dict[str, Any]:
    """Sample one parameter set for ``model_type`` (the search space lives here)."""
    if model_type == "lightgbm":
        return {
            "n_estimators": trial.suggest_int("n_estimators", 100, 1000, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.005, 0.2, log=True),
            "num_leaves": trial.suggest_int("num_leaves", 4, 63, log=True),
            "min_child_samples": trial.suggest_int("min_child_samples", 5, 100, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        }
    if model_type == "xgboost":
        return {
            "n_estimators": trial.suggest_int("n_estimators", 100, 1000, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.005, 0.2, log=True),
            "max_depth": trial.suggest_int("max_depth", 2, 8),
            "min_child_weight": trial.suggest_float("min_child_weight", 0.5, 20.0, log=True),
            "subsample": trial.suggest_float("subsample", 0.5, 1.0),
            "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
            "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True),
        }
    if model_type == "lstm":
        return {
            "hidden_size": trial.suggest_categorical("hidden_size", [16, 32, 64]),
            "lookback": trial.suggest_categorical("lookback", [14, 30, 60]),
            "dropout": trial.suggest_float("dropout", 0.0, 0.4),
            "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-3, log=True),
        }
    if model_type == "ensemble":
        return {
            "meta": trial.suggest_categorical("meta", ["ridge", "lgbm", "mean"]),
            "inner_folds": trial.suggest_int("inner_folds", 3, 6),
        }
    raise ConfigError(
        f"model_type {model_type!r} has nothing to tune; tune one of {', '.join(TUNABLE_MODELS)} "
        "or pass tune=0"
    )


def walk_forward_folds(
    n_rows: int, n_val: int, step: int, horizon: int
) -> Iterator[tuple[int, int, int]]:
    """Yield ``(train_stop, test_start, test_stop)`` row positions of an expanding walk-forward.

    The last ``n_val`` rows are forecast, ``step`` origins per refit. Row ``i``'s target is the
    close ``horizon`` rows later, so at origin ``o`` only rows ``i <= o - horizon`` have a known
    label: the training slice is ``[0, o - horizon + 1)`` (a purge gap of ``horizon - 1`` rows
    whose labels reach past the origin).
    """
    if n_val < 1 or step < 1 or horizon < 1:
        raise ConfigError(
            f"walk-forward needs n_val, step, horizon >= 1, got {n_val}, {step}, {horizon}"
        )
    start = n_rows - n_val
    if start - horizon + 1 < 1:
        raise DataError(
            f"walk-forward over the last {n_val} of {n_rows} rows leaves no training rows at "
            f"horizon {horizon}; train on more days or shrink training.validation_size"
        )
    for origin in range(start, n_rows, step):
        yield origin - horizon + 1, origin, min(origin + step, n_rows)


def walk_forward_mase(
    fit_fn: Callable[[pd.DataFrame, pd.Series], Forecaster],
    X: pd.DataFrame,
    y: pd.Series,
    close: pd.Series,
    n_val: int,
    step: int,
    horizon: int,
    report: Callable[[float, int], None] | None = None,
) -> float:
    """Walk-forward MASE of the models ``fit_fn`` builds, on the last ``n_val`` rows of ``X``.

    ``X``, ``y`` and ``close`` share an index and have known targets on every row. Errors are
    on prices: ``close * exp(prediction)`` against ``close * exp(y)``; the scale is the naive
    forecast's MAE on the same origins. ``report(running_mase, fold)`` is called after each fold.
    """
    abs_model = 0.0
    abs_naive = 0.0
    for fold, (train_stop, lo, hi) in enumerate(walk_forward_folds(len(X), n_val, step, horizon)):
        model = fit_fn(X.iloc[:train_stop], y.iloc[:train_stop])
        # past rows as context for sequence models; only the test rows' forecasts are scored
        pred = model.predict(X.iloc[max(0, lo - 400) : hi]).reindex(X.index[lo:hi])
        price = close.iloc[lo:hi].to_numpy()
        truth = price * np.exp(y.iloc[lo:hi].to_numpy())
        forecast = price * np.exp(pred.to_numpy())
        if not np.isfinite(forecast).all():
            raise DataError(f"{type(model).__name__} returned a non-finite forecast in fold {fold}")
        abs_model += float(np.abs(truth - forecast).sum())
        abs_naive += float(np.abs(truth - price).sum())
        running = abs_model / abs_naive if abs_naive > 0 else math.inf
        if report is not None:
            report(running, fold)
    return abs_model / abs_naive if abs_naive > 0 else math.inf


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    import optuna

    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def _trial_logger(n_trials: int) -> Callable[[Any, Any], None]:
    """An Optuna callback logging one line per finished trial (``cryptoforecast train --tune``
    shows them as progress)."""
    done = [0]

    def log_trial(study: Any, trial: Any) -> None:
        done[0] += 1
        value = "pruned" if trial.value is None else f"MASE {trial.value:.4f}"
        try:
            best = f"best MASE {study.best_value:.4f}"
        except ValueError:  # no trial completed yet
            best = "no completed trial yet"
        logger.info("trial %d/%d: %s (%s)", done[0], n_trials, value, best)

    return log_trial


def tune_hyperparameters(
    X: pd.DataFrame,
    y: pd.Series,
    close: pd.Series,
    model_type: str,
    horizon: int,
    n_trials: int,
    settings: Settings,
    study_name: str,
    storage: str | None = None,
    base_params: dict[str, Any] | None = None,
    top_k: int | None = None,
) -> TuningResult:
    """Run ``n_trials`` more trials of the study ``study_name`` and return the best parameters.

    Args:
        X, y, close: features, ``horizon``-step log-return targets and closes of the tuning data
            (rows with known targets only; everything must be earlier than the data the tuned
            model is judged on).
        model_type: one of :data:`TUNABLE_MODELS`.
        n_trials: trials to add to the study (it resumes when it exists already).
        settings: supplies the seed, the fold size and the default hyperparameters.
        study_name: the study's key in the storage.
        storage: an Optuna RDB URL; default :func:`default_storage_url`.
        base_params: hyperparameters the sampled ones override (default: the config's).
        top_k: keep only the ``top_k`` most important features in each fold (ranked on that
            fold's training rows).
    """
    import optuna

    from cryptoforecast.training.train_pipeline import fit_forecaster

    if model_type not in TUNABLE_MODELS:
        raise ConfigError(
            f"model_type {model_type!r} has nothing to tune; tune one of "
            f"{', '.join(TUNABLE_MODELS)} or pass tune=0"
        )
    if n_trials < 1:
        raise ConfigError(f"n_trials must be >= 1, got {n_trials}")
    n = len(X)
    n_val = min(settings.training.validation_size, n // 3)
    step = settings.training.validation_retrain_every
    if n_val < 10 or n - n_val < 60:
        raise DataError(
            f"tuning needs at least 90 rows before the gate's validation tail, got {n}; train on "
            "more days (--days) or use tune=0"
        )
    base = dict(settings.model_params(model_type) if base_params is None else base_params)
    url = storage or default_storage_url(settings)
    seed = settings.training.seed

    def objective(trial: optuna.Trial) -> float:
        params = {**base, **suggest_params(trial, model_type)}

        def fit_fn(X_tr: pd.DataFrame, y_tr: pd.Series) -> Forecaster:
            return fit_forecaster(model_type, horizon, X_tr, y_tr, params, seed=seed, top_k=top_k)

        def report(value: float, fold: int) -> None:
            trial.report(value, fold)
            if trial.should_prune():
                raise optuna.TrialPruned(f"running MASE {value:.4f} after fold {fold}")

        return walk_forward_mase(fit_fn, X, y, close, n_val, step, horizon, report=report)

    with _quiet_optuna():
        try:
            study = optuna.create_study(
                storage=url,
                study_name=study_name,
                direction="minimize",
                load_if_exists=True,
                sampler=optuna.samplers.TPESampler(seed=seed),
                pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
            )
        except (ImportError, ValueError, RuntimeError, sa.exc.SQLAlchemyError) as exc:
            raise ConfigError(
                f"cannot open the Optuna storage {mask_url(url)!r} (training.optuna_storage): "
                f"{type(exc).__name__}: {redact(str(exc).splitlines()[0] if str(exc) else exc)}. "
                f"Use a reachable database URL such as {URL_FORMS}."
            ) from None
        if study.trials:  # resuming: a fresh sampler with the same seed would replay old samples
            study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
        study.optimize(objective, n_trials=n_trials, catch=(), callbacks=[_trial_logger(n_trials)])
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise DataError(
            f"no Optuna trial of study {study_name!r} completed; see the log for errors"
        )
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    history = [
        {"number": t.number, "state": t.state.name, "value": t.value, "params": dict(t.params)}
        for t in study.trials
    ]
    best = study.best_trial
    return TuningResult(
        best_params={**base, **best.params},
        best_value=float(best.value),  # type: ignore[arg-type]
        n_trials=len(study.trials),
        n_pruned=len(pruned),
        study_name=study_name,
        storage=url,
        history=history,
    )
