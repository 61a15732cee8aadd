"""Hyperparameter tuning with Optuna: seeded TPE, median pruning, a resumable study.

The objective is the walk-forward MASE (model MAE / naive MAE on the same origins, on prices) of
a validation tail *inside the data it is given*. :func:`cryptoforecast.training.pipeline.
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

from cryptoforecast.backtest.engine import backtester_from
from cryptoforecast.compat import import_optional
from cryptoforecast.config import Settings
from cryptoforecast.evaluation.metrics import mase
from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.features import build_features
from cryptoforecast.models.base import Forecaster
from cryptoforecast.models.catalog import MODEL_CLASSES
from cryptoforecast.paths import home_dir
from cryptoforecast.redaction import describe_url, mask_url, password_of, redact
from cryptoforecast.registry.engine import URL_FORMS
from cryptoforecast.training.fit import fit_forecaster
from cryptoforecast.training.window import TrainingData

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import optuna

__all__ = [
    "TUNABLE_MODELS",
    "TuningResult",
    "default_storage_url",
    "suggest_params",
    "tune_hyperparameters",
    "walk_forward_mase",
]

#: model types with a search space (:func:`suggest_params`); baselines have nothing to tune.
TUNABLE_MODELS: tuple[str, ...] = tuple(name for name, cls in MODEL_CLASSES.items() if cls.tunable)


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

    home = home_dir()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(home / 'optuna.db').as_posix()}"


def _booster_params(
    trial: optuna.Trial, tree_shape: Callable[[optuna.Trial], dict[str, Any]]
) -> dict[str, Any]:
    """The search space LightGBM and XGBoost share, around each one's ``tree_shape``.

    Suggested in this order (rounds, rate, tree shape, sampling, L2): a seeded sampler's draws
    follow the order of the suggestions, so the order is part of the search.
    """
    params = {
        "n_estimators": trial.suggest_int("n_estimators", 100, 1000, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.005, 0.2, log=True),
        **tree_shape(trial),
    }
    params["subsample"] = trial.suggest_float("subsample", 0.5, 1.0)
    params["colsample_bytree"] = trial.suggest_float("colsample_bytree", 0.3, 1.0)
    params["reg_lambda"] = trial.suggest_float("reg_lambda", 1e-3, 10.0, log=True)
    return params


def suggest_params(trial: optuna.Trial, model_type: str) -> dict[str, Any]:
    """Sample one parameter set for ``model_type`` (the search space lives here)."""
    if model_type == "lightgbm":
        return _booster_params(
            trial,
            lambda t: {
                "num_leaves": t.suggest_int("num_leaves", 4, 63, log=True),
                "min_child_samples": t.suggest_int("min_child_samples", 5, 100, log=True),
            },
        )
    if model_type == "xgboost":
        return _booster_params(
            trial,
            lambda t: {
                "max_depth": t.suggest_int("max_depth", 2, 8),
                "min_child_weight": t.suggest_float("min_child_weight", 0.5, 20.0, log=True),
            },
        )
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


def walk_forward_mase(
    fit_fn: Callable[[pd.DataFrame, pd.Series], Forecaster],
    candles: pd.DataFrame,
    features: pd.DataFrame,
    n_val: int,
    step: int,
    horizon: int,
    report: Callable[[float, int], None] | None = None,
    settings: Settings | None = None,
) -> float:
    """Walk-forward MASE of the models ``fit_fn`` builds over the last ``n_val`` labelled rows.

    ``candles`` (with ``horizon`` rows after the last labelled one) and their ``features`` go to
    :class:`~cryptoforecast.backtest.engine.ForecastBacktester`, the one walk-forward engine: expanding window, a refit every
    ``step`` origins, purged by the horizon. MASE is on prices, against the naive forecast on the
    same origins. ``report(running_mase, fold)`` is called after each fold (the backtester's
    progress hook), so a pruner can stop the walk. ``settings`` (default: the defaults) supplies
    whatever the walk does not set itself.
    """
    n_rows = len(candles) - horizon
    first = n_rows - n_val
    if n_val < 1 or step < 1 or first - horizon + 1 < 1:
        raise DataError(
            f"walk-forward over the last {n_val} of {n_rows} rows leaves no training rows at "
            f"horizon {horizon}; train on more days or shrink training.validation_size"
        )
    backtester = backtester_from(
        settings if settings is not None else Settings(),
        horizon,
        initial_train_size=first - horizon + 1,
        test_size=step,
        step_size=step,
        retrain_frequency=step,
        window="expanding",
        interval_coverage=(),
        test_origins=n_val,
    )
    folds = iter(range(n_val))

    def progress(done: int, total: int) -> None:
        if report is not None:
            report(_price_mase(backtester.results_so_far()), next(folds))

    results = backtester.run_walk_forward_validation(
        candles, fit_fn, features=features, progress=progress
    )
    return _price_mase(results)


def _price_mase(results: pd.DataFrame) -> float:
    """MASE of a backtest's price forecasts; infinite when the naive error is zero."""
    if not np.isfinite(results["y_pred"].to_numpy()).all():
        raise DataError("a model returned a non-finite forecast; check its inputs and parameters")
    value = mase(results["y_true"], results["y_pred"], results["naive"])
    return value if math.isfinite(value) else math.inf


def tuning_frames(data: TrainingData, rows: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The candles and features of the window's first ``rows`` labelled rows, plus the
    ``horizon`` candles after them whose closes are those rows' labels."""
    if not 1 <= rows <= len(data.X):
        raise ConfigError(f"rows must be between 1 and {len(data.X)}, got {rows!r}")
    start = data.candles.index.get_loc(data.X.index[0])
    candles = data.candles.iloc[start : start + rows + data.horizon]
    full = data.features if data.features is not None else build_features(data.candles)
    return candles, full.loc[candles.index]


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    optuna = import_optional("optuna", "tune_hyperparameters")
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def _trial_logger(n_trials: int, folds: int) -> Callable[[Any, Any], None]:
    """An Optuna callback logging one line per finished trial (``cryptoforecast train --tune``
    shows them as progress).

    A MASE is shown only for a complete trial: Optuna keeps a pruned trial's last running MASE
    as its value, a figure over part of the validation only, so a pruned trial says after how
    many of its ``folds`` it stopped, and a failed one says it failed."""
    optuna = import_optional("optuna", "tune_hyperparameters")
    done = [0]

    def log_trial(study: Any, trial: Any) -> None:
        done[0] += 1
        if trial.state == optuna.trial.TrialState.COMPLETE:
            outcome = f"MASE {trial.value:.4f}"
        elif trial.state == optuna.trial.TrialState.PRUNED:
            outcome = f"pruned after {len(trial.intermediate_values)} of {folds} folds"
        else:  # FAIL: the objective raised a caught error or answered NaN
            outcome = "failed"
        try:
            best = f"best MASE {study.best_value:.4f}"
        except ValueError:  # no trial completed yet
            best = "no completed trial yet"
        logger.info("trial %d/%d: %s (%s)", done[0], n_trials, outcome, best)

    return log_trial


def tune_hyperparameters(
    data: TrainingData,
    model_type: str,
    n_trials: int,
    settings: Settings,
    study_name: str,
    storage: str | None = None,
    base_params: dict[str, Any] | None = None,
    top_k: int | None = None,
    rows: int | None = None,
) -> TuningResult:
    """Run ``n_trials`` more trials of the study ``study_name`` and return the best parameters.

    Args:
        data: the training window; tuning uses its first ``rows`` labelled rows (default all),
            which must all be earlier than the data the tuned model is judged on.
        model_type: one of :data:`TUNABLE_MODELS`.
        n_trials: trials to add to the study (it resumes when it exists already).
        settings: supplies the seed, the fold size and the default hyperparameters.
        study_name: the study's key in the storage.
        storage: an Optuna RDB URL; default :func:`default_storage_url`.
        base_params: hyperparameters the sampled ones override (default: the config's).
        top_k: keep only the ``top_k`` most important features in each fold (ranked on that
            fold's training rows).
        rows: labelled rows of the window to tune on (the pipeline stops before the gate's tail).
    """
    optuna = import_optional("optuna", "tune_hyperparameters")
    horizon = data.horizon
    n = len(data.X) if rows is None else int(rows)
    candles, features = tuning_frames(data, n)
    if model_type not in TUNABLE_MODELS:
        raise ConfigError(
            f"model_type {model_type!r} has nothing to tune; tune one of "
            f"{', '.join(TUNABLE_MODELS)} or pass tune=0"
        )
    if n_trials < 1:
        raise ConfigError(f"n_trials must be >= 1, got {n_trials}")
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

    def objective(trial: Any) -> float:
        params = {**base, **suggest_params(trial, model_type)}

        def fit_fn(X_tr: pd.DataFrame, y_tr: pd.Series) -> Forecaster:
            return fit_forecaster(model_type, horizon, X_tr, y_tr, params, seed=seed, top_k=top_k)

        def report(value: float, fold: int) -> None:
            trial.report(value, fold)
            if trial.should_prune():
                raise optuna.TrialPruned(f"running MASE {value:.4f} after fold {fold}")

        return walk_forward_mase(
            fit_fn, candles, features, n_val, step, horizon, report=report, settings=settings
        )

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
                f"cannot open the Optuna storage {describe_url(url)!r} (training.optuna_storage): "
                f"{type(exc).__name__}: "
                f"{redact(str(exc).splitlines()[0] if str(exc) else exc, password_of(url))}. "
                f"Use a reachable database URL such as {URL_FORMS}."
            ) from None
        if study.trials:  # resuming: a fresh sampler with the same seed would replay old samples
            study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
        study.optimize(
            objective,
            n_trials=n_trials,
            catch=(),
            callbacks=[_trial_logger(n_trials, math.ceil(n_val / step))],
        )
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
