"""Train one global LightGBM across coins: pool -> validate per coin -> fit once -> register per coin.

``train_global_model(coins, horizon)`` is the global counterpart of ``train_model_for_crypto``:

1. Candles of every coin of the universe (default: the snapshot's assets), each with the
   features' warm-up on top, up to the same ``end``.
2. Per coin, the usual features plus the cross-sectional ones
   (:func:`~cryptoforecast.features.cross_section.cross_section_features`, built from the
   universe's closes up to each row) and the ``horizon``-step target, windowed exactly as
   ``prepare_training_data`` does. With ``scheduler`` these per-coin frames are built as Dask
   tasks (one per coin); the fit itself is one LightGBM fit and never split.
3. Validation on the one engine: for every coin, ``validate_walk_forward`` (the same splits,
   purge, 365 origins and refit every 30 as every model) with a fitter that fits the global model
   on the pooled rows of *all* coins over the same time range as the coin's fold. A refit date's
   global fit is shared by every coin (one fit per refit date, cached), so each coin's record
   carries its own metrics beside naive's on its own origins.
4. The final model is fitted once on every pooled row; with ``save_model`` the registry saves it
   once (``<artifact root>/global_lightgbm/global/h<h>/v<version>_<stamp>``) and registers it
   once per coin as ``(coin, "global_lightgbm", h)``, one version for all, atomically
   (:meth:`~cryptoforecast.registry.ModelRegistry.register_shared`). Each record is
   gated on its own coin's validation (a candidate in that coin's Holm family) and promoted or
   refused per coin, so ``Predictor`` serves it through the usual production lookup.

The records' lineage names the universe and its last candle over all coins: ``Predictor``
refuses (falls back) when asked to forecast from an origin before the training data's end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cryptoforecast.assets import resolve_asset, snapshot_assets
from cryptoforecast.compat import import_optional
from cryptoforecast.config import Settings
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.features import warmup_rows
from cryptoforecast.features.cross_section import cross_section_features, market_closes
from cryptoforecast.models.base import Forecaster
from cryptoforecast.models.global_model import COIN_LEVEL, TIME_LEVEL, GlobalLightGBMForecaster
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.gate import GateDecision, decide_family, with_top_features
from cryptoforecast.training.metrics import ValidationMetrics
from cryptoforecast.training.pipeline import resolve_settings
from cryptoforecast.training.registration import (
    config_record,
    registry_or_default,
    stored_metrics,
    training_lineage,
)
from cryptoforecast.training.results import TrainingSummary
from cryptoforecast.training.validation import validate_walk_forward
from cryptoforecast.training.window import TrainingData, prepare_training_data

__all__ = [
    "GLOBAL_MODEL",
    "GlobalFitter",
    "GlobalTrainingResult",
    "build_universe_data",
    "global_summaries",
    "load_universe",
    "pool_rows",
    "train_global_model",
]

GLOBAL_MODEL = "global_lightgbm"
#: the crypto_id part of the shared artifact's directory
ARTIFACT_KEY = "global"


@dataclass
class GlobalTrainingResult:
    """What ``train_global_model`` did: one model, per-coin validation, gate and records."""

    model: GlobalLightGBMForecaster
    horizon: int
    metrics: dict[str, ValidationMetrics]
    decisions: dict[str, GateDecision]
    model_ids: dict[str, int] = field(default_factory=dict)
    artifact_path: Path | None = None
    version: str | None = None


def load_universe(
    coins: Sequence[str], days: int, horizon: int, source: str = "snapshot", end: Any = None
) -> dict[str, pd.DataFrame]:
    """Every coin's candles: the ``days`` window plus warm-up, up to the same ``end``."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise DataError(f"days must be a positive whole number of candles, got {days!r}")
    n = days + int(warmup_rows()) + horizon
    out: dict[str, pd.DataFrame] = {}
    for coin in coins:
        asset = resolve_asset(coin)
        out[asset.id] = load_ohlcv(asset.id, days=n, source=source, end=end)
    return out


def _coin_data(
    candles: pd.DataFrame,
    market: pd.DataFrame,
    days: int,
    horizon: int,
    exclude_groups: Sequence[str] = (),
) -> TrainingData:
    return prepare_training_data(
        candles,
        days,
        horizon,
        extra_features=cross_section_features(candles, market),
        exclude_groups=exclude_groups,
    )


def build_universe_data(
    candles: Mapping[str, pd.DataFrame],
    days: int,
    horizon: int,
    scheduler: str | None = None,
    exclude_groups: Sequence[str] = (),
) -> dict[str, TrainingData]:
    """Per-coin training data (features + cross-sectional features + target) for every coin,
    without the feature groups ``exclude_groups``.

    With ``scheduler`` (``"local"`` or a Dask address) one Dask task per coin builds its frame.
    """
    if len(candles) < 2:
        raise ConfigError(
            f"a global model needs at least two coins, got {sorted(candles)}; pass more coins"
        )
    market = market_closes(candles)
    if scheduler is None:
        return {c: _coin_data(f, market, days, horizon, exclude_groups) for c, f in candles.items()}
    dist = import_optional("distributed", "train_global_model on Dask")
    cluster = None
    if scheduler == "local":
        cluster = dist.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        )
        client = dist.Client(cluster)
    else:
        client = dist.Client(scheduler, timeout="10s")
    try:
        shared = client.scatter(market, broadcast=True)
        futures = {
            c: client.submit(_coin_data, f, shared, days, horizon, exclude_groups, pure=False)
            for c, f in candles.items()
        }
        return {c: fut.result() for c, fut in futures.items()}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def pool_rows(
    data: Mapping[str, TrainingData], start: Any = None, end: Any = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Every coin's labelled rows with times in ``[start, end]``, indexed ``(time, crypto_id)``."""
    frames, targets = [], []
    columns: list[str] | None = None
    for coin, d in data.items():
        X, y = d.X.loc[start:end], d.y.loc[start:end]
        if columns is None:
            columns = list(X.columns)
        elif list(X.columns) != columns:
            raise DataError(
                f"{coin!r} has other feature columns than the first coin; build every coin's "
                "features from the same source and universe"
            )
        key = pd.MultiIndex.from_arrays(
            [X.index, pd.Index([coin] * len(X))], names=[TIME_LEVEL, COIN_LEVEL]
        )
        frames.append(X.set_axis(key))
        targets.append(y.set_axis(key))
    X = pd.concat(frames).sort_index(kind="stable")
    y = pd.concat(targets).reindex(X.index)
    first = next(iter(data.values()))
    X.attrs["feature_set"] = first.feature_set
    return X, y


class GlobalFitter:
    """Fits the global model on the pooled rows of a time range, once per range (cached)."""

    def __init__(
        self, data: Mapping[str, TrainingData], horizon: int, params: Mapping[str, Any], seed: int
    ) -> None:
        self.data = data
        self.horizon = horizon
        self.params = dict(params)
        self.seed = seed
        self.fits: dict[tuple[Any, Any], GlobalLightGBMForecaster] = {}

    def new_model(self) -> GlobalLightGBMForecaster:
        accepted = set(GlobalLightGBMForecaster._param_names())
        kwargs = {k: v for k, v in self.params.items() if k in accepted and k != "horizon"}
        kwargs.setdefault("random_state", self.seed)
        return GlobalLightGBMForecaster(horizon=self.horizon, **kwargs)

    def fit_range(self, start: Any = None, end: Any = None) -> GlobalLightGBMForecaster:
        key = (start, end)
        model = self.fits.get(key)
        if model is None:
            X, y = pool_rows(self.data, start, end)
            model = self.new_model().fit(X, y)
            self.fits[key] = model
        return model

    def fold_fit(self, X: pd.DataFrame, y: pd.Series) -> Forecaster:
        """A validation fold's fit: every coin's rows over the fold's time range."""
        return self.fit_range(X.index[0], X.index[-1])  # type: ignore[return-value]


def validate_global(
    data: Mapping[str, TrainingData], fitter: GlobalFitter, settings: Settings
) -> dict[str, ValidationMetrics]:
    """Each coin's walk-forward validation metrics (beside naive's) of the global model."""
    return {
        coin: validate_walk_forward(d, settings, fit=fitter.fold_fit)[0] for coin, d in data.items()
    }


def _register_all(
    registry: ModelRegistry,
    result: GlobalTrainingResult,
    data: Mapping[str, TrainingData],
    config: dict[str, Any],
    source: str,
    retire_on_fail: bool,
) -> None:
    """Save the model once and register it per coin with its gate decision, in one transaction."""
    model, h = result.model, result.horizon
    coins = list(data)
    last_candle = max(d.candles.index[-1] for d in data.values())
    importance = model.feature_importance()
    rows: dict[str, dict[str, Any]] = {}
    for coin, d in data.items():
        lineage = training_lineage(
            d,
            model.feature_names_,
            config,
            source,
            candles=d.candles.loc[:last_candle],
            n_train_rows=int(sum(len(x.X) for x in data.values())),
            universe=coins,
            universe_last_candle=str(last_candle),
        )
        lineage["last_candle"] = str(last_candle)
        rows[coin] = {
            "metrics": stored_metrics(result.metrics[coin], result.decisions[coin]),
            "config": config,
            "feature_importance": None if importance is None else importance.to_dict(),
            "lineage": lineage,
        }
    # the rows, every coin's gate decision and the promotions are one transaction
    ids, path = registry.register_shared(
        model.save_model,
        GLOBAL_MODEL,
        rows,
        h,
        artifact_key=ARTIFACT_KEY,
        decisions={c: (d.promote, d.reason) for c, d in result.decisions.items()},
        retire_on_fail=retire_on_fail,
        reason="trained by train_global_model (one artifact for the universe)",
    )
    result.model_ids = ids
    result.artifact_path = path
    result.version = registry.get(next(iter(ids.values()))).version


def train_global_model(
    coins: Sequence[str] | None = None,
    horizon: int = 1,
    days: int = 1095,
    save_model: bool = True,
    source: str = "snapshot",
    end: Any = None,
    config: Settings | Mapping[str, Any] | str | Path | None = None,
    registry: Any = None,
    scheduler: str | None = None,
) -> GlobalTrainingResult:
    """Train, validate per coin, and (optionally) save once, register per coin and gate.

    Args:
        coins: the universe (ids or symbols); default: every asset of the embedded snapshot.
        horizon: forecast horizon in candles.
        days: each coin's training window in candles (the features' warm-up is loaded on top).
        save_model: save the artifact, register it per coin and apply each coin's gate.
        source, end: where the candles come from and the last candle (``None``: newest).
        config: ``Settings``, overrides, a YAML path or ``None``. The global model uses the
            ``lightgbm`` hyperparameters of the config.
        registry: a ``ModelRegistry``; default: a new one on the configured URL.
        scheduler: ``None`` (in process), ``"local"`` or a Dask address: build the per-coin
            feature frames as Dask tasks (the fit stays one fit).
    """
    settings = resolve_settings(config)
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 366:
        raise ConfigError(f"horizon must be a whole number of candles >= 1, got {horizon!r}")
    universe = list(coins) if coins else [a.id for a in snapshot_assets()]
    candles = load_universe(universe, days, horizon, source, end)
    excluded = settings.feature_selection.excluded_groups(horizon)
    data = build_universe_data(candles, days, horizon, scheduler, exclude_groups=excluded)
    params = settings.model_params("lightgbm")
    fitter = GlobalFitter(data, horizon, params, settings.training.seed)
    metrics = validate_global(data, fitter, settings)
    model = fitter.fit_range()
    importance = model.feature_importance()
    decisions = {
        coin: with_top_features(
            decide_family({GLOBAL_MODEL: m}, settings.promotion_gate)[GLOBAL_MODEL], importance
        )
        for coin, m in metrics.items()
    }
    result = GlobalTrainingResult(model, horizon, metrics, decisions)
    if save_model:
        run_config = config_record(
            GLOBAL_MODEL,
            horizon,
            days,
            source,
            end,
            universe=list(data),
            params=params,
            seed=settings.training.seed,
            exclude_groups=list(excluded),
            validation_size=settings.training.validation_size,
            validation_retrain_every=settings.training.validation_retrain_every,
            promotion_gate=settings.promotion_gate.model_dump(),
        )
        _register_all(
            registry_or_default(registry),
            result,
            data,
            run_config,
            source,
            settings.promotion_gate.retire_on_fail,
        )
    return result


def global_summaries(result: GlobalTrainingResult, seconds: float) -> list[TrainingSummary]:
    """One training summary per coin (the CLI's table rows): metrics beside naive and the gate."""
    saved = bool(result.model_ids)
    return [
        TrainingSummary(
            crypto_id=coin,
            model_type=GLOBAL_MODEL,
            horizon=result.horizon,
            model_id=result.model_ids.get(coin),
            version=result.version,
            status=("production" if decision.promote else "staging") if saved else "not saved",
            artifact_path=None if result.artifact_path is None else str(result.artifact_path),
            metrics=result.metrics[coin].to_dict(),
            gate_passed=decision.promote,
            gate_reason=decision.reason,
            n_features=len(result.model.feature_names_),
            seconds=seconds,
        )
        for coin, decision in result.decisions.items()
    ]
