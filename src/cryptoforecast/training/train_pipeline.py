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
import datetime as dt
import inspect
import math
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.models.distribution.shapes import QUANTILES
from cryptoforecast.models.probabilities import QuantileProbabilities
from cryptoforecast.training.distribution_model import attach_distribution
from cryptoforecast.training.gate import GateDecision, decide_family, gate_decision
from cryptoforecast.training.validation import (
    MIN_TRAIN_ROWS,
    FitCache,
    params_key,
    validate_walk_forward,
)

if TYPE_CHECKING:
    from cryptoforecast.config import Settings
    from cryptoforecast.models.base import Forecaster

__all__ = [
    "MIN_TRAIN_ROWS",
    "PREDICT_CONTEXT",
    "TRAINABLE_MODELS",
    "GateDecision",
    "TrainingData",
    "artifact_dir",
    "fit_forecaster",
    "gate_decision",
    "model_params",
    "prepare_training_data",
    "record_decision",
    "resolve_settings",
    "train_model_for_crypto",
    "validate_walk_forward",
]

TRAINABLE_MODELS = (
    "lightgbm",
    "xgboost",
    "lstm",
    "ensemble",
    "shrunk",
    "naive",
    "drift",
    "technical",
)
#: rows of past features handed to ``predict`` before each test block (sequence models' lookback)
PREDICT_CONTEXT = 400


# --------------------------------------------------------------------------------------------
# settings
# --------------------------------------------------------------------------------------------
def resolve_settings(config: Settings | Mapping[str, Any] | str | Path | None) -> Settings:
    """``Settings`` from a Settings object, a mapping of overrides, a YAML path or ``None``."""
    from cryptoforecast.config import Settings, load_config

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
# data
# --------------------------------------------------------------------------------------------
@dataclass
class TrainingData:
    """The training window: candles (with warm-up on top), features, target and closes.

    ``X``, ``y`` and ``close`` cover the window's rows that have a known target (the last
    ``horizon`` rows of the window cannot be labelled yet and are left out).
    """

    candles: pd.DataFrame
    X: pd.DataFrame
    y: pd.Series
    close: pd.Series
    horizon: int
    feature_set: str | None = None
    features: pd.DataFrame | None = None

    @property
    def start(self) -> pd.Timestamp:
        return self.X.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.X.index[-1]


def _warmup() -> int:
    """Rows of history the features need before their first complete row."""
    from cryptoforecast.features import warmup_rows

    return int(warmup_rows())


def prepare_training_data(
    candles: pd.DataFrame,
    days: int,
    horizon: int,
    extra_features: pd.DataFrame | None = None,
) -> TrainingData:
    """Build features and target from ``candles`` and keep the last ``days`` complete rows.

    ``extra_features`` (on the candles' index, e.g. the global model's cross-sectional ones) are
    joined onto the built features before the window is cut.
    """
    from cryptoforecast.features import build_features, make_target

    if not isinstance(candles, pd.DataFrame) or candles.empty or "close" not in candles:
        raise DataError(
            f"training candles are empty or have no 'close' column (got "
            f"{type(candles).__name__} with columns {list(getattr(candles, 'columns', []))[:8]}); "
            "check the data source"
        )
    feats = build_features(candles)
    if extra_features is not None:
        attrs = dict(feats.attrs)
        feats = feats.join(extra_features.reindex(feats.index))
        feats.attrs.update(attrs)
    target = make_target(candles, horizon)
    complete = feats.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise DataError(
            f"no row of the {len(candles)} candles has a complete feature vector; load more "
            "history (the features need warm-up rows)"
        )
    first = int(np.argmax(complete))
    window = feats.iloc[first:].iloc[-days:]
    if len(window) < days:
        raise DataError(
            f"{len(candles)} candles give only {len(window)} complete feature rows (the features "
            f"need {first} rows of warm-up), fewer than the {days}-day training window asked for; "
            f"train on days <= {len(window)} or load a longer history"
        )
    if not window.notna().all(axis=None):
        bad = window.columns[window.isna().any()].tolist()[:5]
        raise DataError(
            f"features have gaps after the warm-up in columns {bad}; the candles probably have "
            "missing or invalid values: repair or refresh the data"
        )
    y = target.reindex(window.index)
    known = y.notna().to_numpy()
    X = window.loc[known].astype("float64")
    y = y.loc[known].astype("float64")
    close = candles["close"].reindex(X.index).astype("float64")
    return TrainingData(
        candles=candles,
        X=X,
        y=y,
        close=close,
        horizon=horizon,
        feature_set=feats.attrs.get("feature_set"),
        features=feats,
    )


async def _load_candles(
    crypto_id: str,
    days: int,
    horizon: int,
    source: str,
    end: Any,
    path: str | Path | None,
) -> pd.DataFrame:
    """The window's candles plus the features' warm-up, read in a worker thread."""
    from cryptoforecast.data import load_ohlcv

    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DataError(f"days must be a positive whole number of candles, got {days!r}")
    n = days + _warmup() + horizon
    kwargs: dict[str, Any] = {"days": n, "source": source, "end": end}
    if path is not None:
        kwargs["path"] = path
    if source in ("binance", "coingecko") and end is None:
        kwargs["refresh"] = True  # train on today's candles, not on a stale cache
    return await asyncio.to_thread(load_ohlcv, crypto_id, **kwargs)


# --------------------------------------------------------------------------------------------
# fitting, with optional feature selection
# --------------------------------------------------------------------------------------------
class _ColumnSubset(QuantileProbabilities):
    """A fitted forecaster that sees only ``columns`` of whatever frame it is given.

    Used inside validation folds after top-k selection, so the backtester can pass the full
    feature frame. Never saved: the final model is saved as the inner forecaster itself.
    """

    def __init__(self, inner: Forecaster, columns: list[str]) -> None:
        self.inner = inner
        self.columns = list(columns)
        self.horizon = inner.horizon
        self.model_type = inner.model_type
        self.feature_names_ = list(columns)

    def fit(
        self, X: pd.DataFrame, y: pd.Series, X_val: Any = None, y_val: Any = None
    ) -> _ColumnSubset:
        self.inner.fit(X[self.columns], y)
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        return self.inner.predict(X[self.columns])

    def predict_interval(
        self, X: pd.DataFrame, coverage: float | None = None, level: Any = None
    ) -> pd.DataFrame:
        return self.inner.predict_interval(X[self.columns], coverage, level)

    def predict_quantiles(self, X: pd.DataFrame, quantiles: Any = QUANTILES) -> pd.DataFrame:
        return self.inner.predict_quantiles(X[self.columns], quantiles)

    def feature_importance(self) -> pd.Series | None:
        return self.inner.feature_importance()

    def save_model(self, path: str | Path) -> Path:
        return self.inner.save_model(path)

    def load_model(self, path: str | Path) -> _ColumnSubset:
        self.inner.load_model(path)
        return self

    def __getattr__(self, name: str) -> Any:
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


def model_params(settings: Settings, model_type: str) -> dict[str, Any]:
    """Hyperparameters of ``model_type`` from the config; the ensemble also gets its bases'."""
    params: dict[str, Any] = dict(settings.model_params(model_type))
    if model_type == "ensemble":
        bases = params.get("base_models") or ["lightgbm", "lstm"]
        params["base_params"] = {
            b: settings.model_params(b)
            for b in bases
            if isinstance(b, str) and settings.model_params(b)
        }
    if model_type == "shrunk":
        params["base_params"] = settings.model_params(str(params.get("base", "lightgbm")))
    return params


def _construct(model_type: str, horizon: int, params: Mapping[str, Any], seed: int) -> Forecaster:
    from cryptoforecast.models import make_forecaster, model_class

    if model_type not in TRAINABLE_MODELS:
        raise ConfigError(
            f"unknown model_type {model_type!r}; use one of {', '.join(TRAINABLE_MODELS)}"
        )
    cls = model_class(model_type)
    accepted = inspect.signature(cls).parameters
    kwargs = {k: v for k, v in params.items() if k in accepted}
    if "random_state" in accepted and "random_state" not in kwargs:
        kwargs["random_state"] = seed
    return make_forecaster(model_type, horizon=horizon, **kwargs)


def rank_features(
    model_type: str,
    horizon: int,
    X: pd.DataFrame,
    y: pd.Series,
    params: Mapping[str, Any],
    seed: int,
) -> pd.Series:
    """Feature importance learned from ``X``/``y`` only, highest first.

    Uses the model's own importance when it has one, else a small LightGBM fitted on the same
    rows. Ties keep the feature order of ``X`` (stable sort).
    """
    model = _construct(model_type, horizon, params, seed)
    model.fit(X, y)
    imp = model.feature_importance()
    if imp is None or len(imp) == 0:
        ranker = _construct("lightgbm", horizon, {"n_estimators": 200}, seed)
        ranker.fit(X, y)
        imp = ranker.feature_importance()
    if imp is None:  # pragma: no cover - LightGBM always has one
        raise DataError("could not rank features: no model gave a feature importance")
    imp = imp.reindex([str(c) for c in X.columns]).fillna(0.0).astype("float64")
    order = np.argsort(-imp.to_numpy(), kind="stable")
    return imp.iloc[order]


def fit_forecaster(
    model_type: str,
    horizon: int,
    X: pd.DataFrame,
    y: pd.Series,
    params: Mapping[str, Any],
    seed: int = 42,
    top_k: int | None = None,
) -> Forecaster:
    """Fit ``model_type`` on ``X``/``y`` with ``params``; with ``top_k`` keep the best k features.

    Features are ranked on ``X``/``y`` (the rows this fit may see) and nothing else. The result
    predicts from a frame with all of ``X``'s columns either way.
    """
    if top_k is not None and 0 < top_k < X.shape[1]:
        ranking = rank_features(model_type, horizon, X, y, params, seed)
        keep_set = set(ranking.index[:top_k])
        keep = [str(c) for c in X.columns if str(c) in keep_set]
        inner = _construct(model_type, horizon, params, seed)
        inner.fit(X[keep], y)
        inner.feature_ranking_ = ranking  # type: ignore[attr-defined]
        return _ColumnSubset(inner, keep)  # type: ignore[return-value]
    model = _construct(model_type, horizon, params, seed)
    return model.fit(X, y)


def _unwrap(model: Forecaster) -> Forecaster:
    return model.inner if isinstance(model, _ColumnSubset) else model  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# artifacts and registration
# --------------------------------------------------------------------------------------------
def artifact_dir(
    root: Path, model_type: str, crypto_id: str, horizon: int, version: str, when: dt.datetime
) -> Path:
    """``<root>/<model_type>/<crypto_id>/h<h>/v<version>_<UTC timestamp>``."""
    stamp = when.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path(root) / model_type / crypto_id / f"h{horizon}" / f"v{version}_{stamp}"


def _registry(registry: Any) -> Any:
    if registry is not None:
        return registry
    from cryptoforecast.registry import ModelRegistry

    return ModelRegistry()


def _next_version(registry: Any, crypto_id: str, model_type: str, horizon: int) -> str:
    """The version the registry would give next: bump the minor part (``1.0.0`` first)."""
    existing = [
        str(r.version)
        for r in registry.list_models(crypto_id=crypto_id, model_type=model_type, horizon=horizon)
    ]
    numeric = []
    for v in existing:
        try:
            numeric.append(tuple(int(p) for p in v.split(".")))
        except ValueError:
            continue
    if not numeric:
        candidate = "1.0.0"
    else:
        top = max(numeric)
        parts = (top[0], top[1] + 1, *([0] * (len(top) - 2))) if len(top) > 1 else (top[0] + 1,)
        candidate = ".".join(map(str, parts))
    while candidate in existing:
        candidate += ".1"
    return candidate


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    return value


def record_decision(
    registry: Any, model_id: int, decision: GateDecision, retire_on_fail: bool = False
) -> None:
    """Store the gate's decision; promote on a pass. With ``retire_on_fail``, a failed retrain
    also archives the key's production model: its edge was not confirmed on the newer window."""
    registry.record_gate_decision(model_id, passed=decision.promote, reason=decision.reason)
    if decision.promote:
        registry.promote(model_id, reason=f"promotion gate passed: {decision.reason}")
        return
    if not retire_on_fail:
        return
    rec = registry.get(model_id)
    current = registry.get_production_model(rec.crypto_id, rec.model_type, horizon=rec.horizon)
    if current is not None and current.model_id != model_id:
        registry.archive(
            current.model_id,
            reason=f"retired: its retrained successor {model_id} failed the gate on newer data",
        )


def _register(
    registry: Any,
    model: Forecaster,
    data: TrainingData,
    crypto_id: str,
    model_type: str,
    horizon: int,
    metrics: dict[str, Any],
    config: dict[str, Any],
    source: str,
    decision: GateDecision,
    retire_on_fail: bool = False,
) -> tuple[int, str, Path]:
    """Save, register as staging, then promote or record the gate's refusal."""
    from cryptoforecast.exceptions import RegistryError
    from cryptoforecast.registry.lineage import compute_lineage

    inner = _unwrap(model)
    root = Path(registry.artifact_root)
    importance = inner.feature_importance()
    lineage = compute_lineage(
        data.candles,
        list(inner.feature_names_),
        config,
        data_source=source,
        interval=str(data.candles.attrs.get("interval", "1d")),
        extra={
            "train_start": str(data.start),
            "train_end": str(data.end),
            "n_train_rows": int(len(data.X)),
            "feature_set": data.feature_set,
        },
    )
    version = _next_version(registry, crypto_id, model_type, horizon)
    path = artifact_dir(root, model_type, crypto_id, horizon, version, dt.datetime.now(dt.UTC))
    try:
        inner.save_model(path)  # inside: a save that fails halfway leaves no partial directory
        for attempt in range(5):
            try:
                model_id = registry.register_model(
                    model_type=model_type,
                    version=version,
                    crypto_id=crypto_id,
                    model_path=str(path),
                    metrics=_json_safe(metrics),
                    config=_json_safe(config),
                    status="staging",
                    horizon=horizon,
                    feature_importance=None
                    if importance is None
                    else _json_safe(importance.to_dict()),
                    lineage=_json_safe(lineage),
                    reason="trained by train_model_for_crypto",
                )
                break
            except RegistryError as exc:  # another trainer took this version meanwhile
                if "already registered" not in str(exc) or attempt == 4:
                    raise
                version = _next_version(registry, crypto_id, model_type, horizon)
                new_path = artifact_dir(
                    root, model_type, crypto_id, horizon, version, dt.datetime.now(dt.UTC)
                )
                path.rename(new_path)
                path = new_path
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    record_decision(registry, int(model_id), decision, retire_on_fail)
    return int(model_id), version, path


# --------------------------------------------------------------------------------------------
# the entry point
# --------------------------------------------------------------------------------------------
def _fit_all(
    data: TrainingData,
    crypto_id: str,
    model_type: str,
    horizon: int,
    tune: int,
    settings: Settings,
    fit_cache: FitCache | None = None,
    anchor: Any = None,
) -> tuple[Forecaster, dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """CPU-bound part: tune, validate, fit the final model. Returns model, metrics, params, tuning."""
    params = model_params(settings, model_type)
    seed = settings.training.seed
    top_k = settings.feature_selection.top_k
    timings: dict[str, float] = {}
    tuning: dict[str, Any] | None = None
    if tune:
        from cryptoforecast.training.tuning import tune_hyperparameters

        t0 = time.perf_counter()
        n_gate = min(settings.training.validation_size, len(data.X) // 3)
        # purged like every validation fit: only rows whose h-step label is known at the gate's
        # first origin (row len - n_gate), so no tuning label overlaps a validation target
        cut = len(data.X) - n_gate - horizon + 1
        result = tune_hyperparameters(
            data.X.iloc[:cut],
            data.y.iloc[:cut],
            data.close.iloc[:cut],
            model_type,
            horizon,
            tune,
            settings,
            study_name=f"{model_type}-{crypto_id}-h{horizon}-to{data.X.index[cut - 1]:%Y%m%d}-n{cut}",
            base_params=params,
            top_k=top_k,
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
    metrics.update(attach_distribution(model, data, validation, settings))
    timings["fit_s"] = time.perf_counter() - t0
    metrics["timings"] = timings
    return model, metrics, params, tuning


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
        The fitted forecaster with ``.metrics`` (validation metrics beside naive's, the gate's
        decision under ``"gate"``), ``.params``, ``.tuning``, and, when saved, ``.model_id``,
        ``.version``, ``.artifact_path`` and ``.status``.

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
    candles = await _load_candles(crypto_id, days, horizon, source, end, path)
    crypto_id = str(candles.attrs.get("crypto_id", crypto_id))
    data = await asyncio.to_thread(prepare_training_data, candles, days, horizon)
    model, metrics, params, tuning = await asyncio.to_thread(
        _fit_all, data, crypto_id, model_type, horizon, tune, settings
    )
    # one candidate decided alone: the other candidate types count in the Holm family (p = 1)
    decision = decide_family({model_type: metrics}, settings.promotion_gate)[model_type]
    metrics["gate"] = decision.to_dict()
    config_record: dict[str, Any] = {
        "model_type": model_type,
        "horizon": horizon,
        "days": days,
        "source": source,
        "end": None if end is None else str(end),
        "params": params,
        "seed": settings.training.seed,
        "top_k_features": settings.feature_selection.top_k,
        "validation_size": settings.training.validation_size,
        "validation_retrain_every": settings.training.validation_retrain_every,
        "promotion_gate": settings.promotion_gate.model_dump(),
        "tuning": tuning,
    }
    inner = _unwrap(model)
    inner.metrics = metrics  # type: ignore[attr-defined]
    inner.params = params  # type: ignore[attr-defined]
    inner.tuning = tuning  # type: ignore[attr-defined]
    inner.gate = decision  # type: ignore[attr-defined]
    inner.model_id = None  # type: ignore[attr-defined]
    inner.status = None  # type: ignore[attr-defined]
    if save_model:
        reg = _registry(registry)
        model_id, version, art = await asyncio.to_thread(
            _register,
            reg,
            model,
            data,
            crypto_id,
            model_type,
            horizon,
            metrics,
            config_record,
            source,
            decision,
            settings.promotion_gate.retire_on_fail,
        )
        inner.model_id = model_id  # type: ignore[attr-defined]
        inner.version = version  # type: ignore[attr-defined]
        inner.artifact_path = art  # type: ignore[attr-defined]
        inner.status = "production" if decision.promote else "staging"  # type: ignore[attr-defined]
    metrics.setdefault("timings", {})["total_s"] = time.perf_counter() - t_start
    return inner
