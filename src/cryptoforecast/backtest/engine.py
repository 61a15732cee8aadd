"""Walk-forward backtest: every origin gets a forecast from a model that never saw its future.

::

    backtester = ForecastBacktester(initial_train_size=200, test_size=30, step_size=30,
                                    retrain_frequency=30)
    results = backtester.run_walk_forward_validation(data, trainer_for("lightgbm", horizon=1))
    aggregate_metrics = backtester.calculate_aggregate_metrics()

How it works, in row positions of the feature frame (warm-up rows dropped):

* Row ``i`` has the target ``log(close[i+h] / close[i])``, known from row ``i + h`` on.
* Origins are cut into folds of ``test_size`` rows every ``step_size`` rows
  (:func:`~cryptoforecast.models.splits.walk_forward_splits`).
* ``model_trainer_fn(X_train, y_train)`` is called at an origin ``r`` when no model exists yet or
  ``r`` is ``retrain_frequency`` or more rows after the previous refit, with rows
  ``<= r - purge`` only (``purge`` defaults to ``h``); the model in force then forecasts every
  origin up to the next refit. No fit ever sees a target that is unknown at its origins.
* Each block of origins sharing a model is predicted in one ``predict`` call over the block plus
  the rows before it that sequence models read (their ``lookback``); forecasts are causal per
  row, so this equals predicting each origin from the history up to it (the tests check it).
* Intervals: ``interval_method="split"`` asks the model in force for its static conformal band
  (``predict_interval``, from the residuals it was fitted with). ``"aci"`` issues the band at each
  origin from the point forecast and offsets at an adaptive miscoverage level updated with every
  forecast whose target is known by that origin (:mod:`~cryptoforecast.backtest.adaptive_intervals`:
  the new model's residuals at a refit, the adaptive state carried over). A model with too few
  out-of-sample residuals gets NaN bands for its origins, a warning and a note in ``refits_``.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, MutableMapping, Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from cryptoforecast.backtest.adaptive_intervals import AdaptiveIntervals
from cryptoforecast.backtest.distribution_walk import distribution_columns
from cryptoforecast.config import Settings
from cryptoforecast.evaluation.distribution_summary import summarise_distribution
from cryptoforecast.evaluation.summary import summarise_results
from cryptoforecast.exceptions import ConfigError, DataError, NotFittedError
from cryptoforecast.features import build_features, make_target
from cryptoforecast.models.base import Forecaster
from cryptoforecast.models.catalog import make_forecaster, model_class
from cryptoforecast.models.checks import context_rows
from cryptoforecast.models.distribution import VOLATILITY_MODELS, MarketData
from cryptoforecast.models.factory import params_for
from cryptoforecast.models.splits import resolve_purge, train_rows, walk_forward_splits

__all__ = [
    "FitCache",
    "ForecastBacktester",
    "ModelTrainer",
    "assemble_results",
    "backtester_from",
    "coverage_tag",
    "predict_block",
    "prepare_frames",
    "trainer_for",
]

#: ``model_trainer_fn(X_train, y_train) -> fitted Forecaster``
ModelTrainer = Callable[[pd.DataFrame, pd.Series], Forecaster]
#: fitted models keyed by (the caller's model key, first and last training timestamp, rows)
FitCache = MutableMapping[tuple[Any, ...], Any]


def trainer_for(model_type: str, horizon: int = 1, **params: Any) -> ModelTrainer:
    """A ``model_trainer_fn``: ``make_forecaster(model_type, horizon, **params).fit(X, y)``.

    Raises :class:`ConfigError` at once for an unknown model type or parameter.
    """
    params = params_for(model_class(model_type), params, strict=True)

    def train(X_train: pd.DataFrame, y_train: pd.Series) -> Forecaster:
        model = make_forecaster(model_type, horizon=horizon, **params)
        return model.fit(X_train, y_train)

    train.__name__ = f"train_{model_type}"
    train.__qualname__ = train.__name__
    return train


def coverage_tag(coverage: float) -> str:
    """Column suffix of a coverage level: ``0.8 -> "80"``, ``0.95 -> "95"``."""
    return f"{round(coverage * 100):d}"


def prepare_frames(
    data: pd.DataFrame,
    horizon: int,
    features: pd.DataFrame | None = None,
    market: pd.DataFrame | pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Features ``X`` (complete rows only), target ``y`` and per-row context for ``data``.

    The context frame holds ``close`` at each row, the true close ``h`` rows later, its
    timestamp and the next candle's simple return (for the trading metrics).
    """
    if not isinstance(data, pd.DataFrame) or "close" not in data.columns:
        raise DataError(
            f"data must be a candle DataFrame with a 'close' column (load_ohlcv), got "
            f"{type(data).__name__}"
        )

    h = int(horizon)
    if features is None:
        features = build_features(data, market)
    elif not features.index.equals(data.index):
        missing = data.index.difference(features.index)
        if len(missing):
            raise DataError(
                f"features lack {len(missing)} of the candles' timestamps "
                f"(first {missing[0]}); "
                "build them from the same candles (build_features(data))"
            )
        features = features.loc[data.index]
    values = features.to_numpy(dtype="float64", na_value=np.nan)
    complete = np.isfinite(values).all(axis=1)
    if not complete.any():
        raise DataError(
            f"no row of the {features.shape[1]} features is complete in {len(data)} candles; "
            "load more history (features need a warm-up)"
        )
    first = int(np.argmax(complete))
    if not complete[first:].all():
        bad = features.index[first + int(np.argmin(complete[first:]))]
        raise DataError(
            f"features have NaN/infinite values after the warm-up, first at {bad}; fill or "
            "drop the candle gap there before backtesting"
        )
    close = data["close"].astype("float64")
    context = pd.DataFrame(
        {
            "close": close,
            "close_at_target": close.shift(-h),
            "target_time": pd.Series(data.index, index=data.index).shift(-h),
            "next_return": close.shift(-1) / close - 1.0,
        },
        index=data.index,
    )
    y = make_target(data, h)
    sl = slice(first, None)
    return features.iloc[sl], y.iloc[sl], context.iloc[sl]


def predict_block(
    model: Forecaster,
    X: pd.DataFrame,
    block: np.ndarray,
    coverages: Sequence[float],
    static: bool = True,
) -> tuple[pd.DataFrame, str | None]:
    """Point forecasts and, if ``static``, the model's own intervals (log returns) for the
    origins in ``block``; also why the intervals are NaN, if they are."""
    a, b = int(block[0]), int(block[-1]) + 1
    index = X.index[a:b]
    lo = max(0, a - context_rows(model))
    pred = model.predict(X.iloc[lo:b]).reindex(index)
    if pred.isna().any() and lo > 0:  # the model reads more history than it says: give it all
        lo = 0
        pred = model.predict(X.iloc[lo:b]).reindex(index)
    if pred.isna().any():
        raise DataError(
            f"{type(model).__name__} gave no forecast for {int(pred.isna().sum())} origin(s) "
            f"from {pred.index[pred.isna()][0]} even with {a} rows of history before the block"
        )
    out = pd.DataFrame({"y_pred_logret": pred.to_numpy(dtype="float64")}, index=index)
    note = None
    for c in coverages:
        tag = coverage_tag(c)
        lower = upper = np.full(len(index), np.nan)
        if static:
            try:
                band = model.predict_interval(X.iloc[lo:b], coverage=float(c)).reindex(index)
                lower, upper = band["lower"].to_numpy(), band["upper"].to_numpy()
            except (NotImplementedError, AttributeError):  # a model without intervals
                pass
            except NotFittedError as exc:  # too few out-of-sample residuals to calibrate
                note = str(exc)
        out[f"lower_{tag}_logret"] = lower
        out[f"upper_{tag}_logret"] = upper
    return out, note


def assemble_results(
    raw: pd.DataFrame,
    y: pd.Series,
    ctx: pd.DataFrame,
    horizon: int,
    coverages: Sequence[float],
    interval_method: str,
) -> pd.DataFrame:
    """Turn per-origin log-return forecasts into the price-level results frame."""
    idx = raw.index
    c = ctx.loc[idx]
    close = c["close"].to_numpy()
    out = pd.DataFrame(
        {
            "origin": idx,
            "target_time": c["target_time"].to_numpy(),
            "horizon": int(horizon),
            "fold": raw["fold"].to_numpy(),
            "close_at_origin": close,
            "y_true": c["close_at_target"].to_numpy(),
            "y_pred": close * np.exp(raw["y_pred_logret"].to_numpy()),
            "naive": close,
        }
    )
    for cov in coverages:
        tag = coverage_tag(cov)
        out[f"lower_{tag}"] = close * np.exp(raw[f"lower_{tag}_logret"].to_numpy())
        out[f"upper_{tag}"] = close * np.exp(raw[f"upper_{tag}_logret"].to_numpy())
    out["y_true_logret"] = y.loc[idx].to_numpy()
    out["y_pred_logret"] = raw["y_pred_logret"].to_numpy()
    out["next_return"] = c["next_return"].to_numpy()
    for key in ("model_type", "refit_origin", "train_start", "train_end", "n_train"):
        out[key] = raw[key].to_numpy()
    out["interval_method"] = interval_method
    return out


def check_horizon(model: Any, horizon: int) -> None:
    """Refuse a model built for another horizon: its internal purges would be too short."""
    model_h = getattr(model, "horizon", None)
    if model_h is not None and int(model_h) != horizon:
        raise ConfigError(
            f"model_trainer_fn returned a {type(model).__name__} with horizon {model_h}, but this "
            f"backtest's horizon is {horizon}; build the model with horizon={horizon} (e.g. "
            f"trainer_for(model_type, horizon={horizon})) so its early stopping, inner folds and "
            "intervals purge the right number of rows"
        )


def normalised_importance_of(model: Any) -> pd.Series | None:
    """A model's feature importance scaled to sum to 1, or None when it has none."""
    try:
        imp = model.feature_importance()
    except (AttributeError, NotImplementedError):
        return None
    if imp is None or len(imp) == 0:
        return None
    imp = imp.astype("float64")
    total = float(imp.sum())
    return imp / total if total > 0 and math.isfinite(total) else imp


def mean_importance(items: list[pd.Series]) -> pd.Series | None:
    """Mean importance over refits (features missing from a refit count as 0), highest first."""
    if not items:
        return None
    frame = pd.concat(items, axis=1).fillna(0.0)
    return frame.mean(axis=1).sort_values(ascending=False).rename("importance")


#: ``progress(origins_done, origins_total)``
ProgressFn = Callable[[int, int], None]


class ForecastBacktester:
    """Walk-forward validation with purged, periodically refitted models (see module docstring).

    Args:
        initial_train_size: rows the first model is fitted on (and the sliding window's length).
        test_size: origins per fold (the folds of the per-fold table).
        step_size: rows between fold starts (``>= test_size``; larger leaves origins unscored).
        retrain_frequency: refit when this many origins have passed since the last fit.
        horizon: forecast horizon ``h`` in candles.
        purge: gap between the last training row and the origin; ``None`` means ``h`` (minimum).
        window: ``"expanding"`` (all earlier rows) or ``"sliding"`` (last ``initial_train_size``).
        interval_coverage: central interval levels to record (``lower_80``, ``upper_80``, ...).
        test_origins: score only the last N possible origins (the first fit then sees every row
            before them, at least ``initial_train_size``); ``None`` scores all.
        fee_bps: trading fee in basis points for the trading metrics.
        interval_method: ``"split"`` (each model's static conformal band) or ``"aci"`` (adaptive
            conformal: the miscoverage level moves with every error known at the origin).
        aci_gamma: ACI step size (``interval_method="aci"`` only).
        distribution: a volatility model name (``"ewma_t"``, ``"garch_t"``, ``"har_rv"``,
            ``"lightgbm_vol"``, ...) to add a predictive distribution around the trainer's point
            forecasts (:mod:`~cryptoforecast.backtest.distribution_walk`); ``None`` adds none.
        distribution_aci_gamma: per-level adaptive calibration step for it (``None``: static).
        distribution_calibration: its shape (``"none"``, ``"conformal"``, ``"conformal_window"``,
            ``"aci"`` or ``"blend"``), as the trained model stores it.
    """

    def __init__(
        self,
        initial_train_size: int = 200,
        test_size: int = 30,
        step_size: int = 30,
        retrain_frequency: int = 30,
        horizon: int = 1,
        purge: int | None = None,
        window: Literal["expanding", "sliding"] = "expanding",
        interval_coverage: Sequence[float] = (0.8, 0.95),
        test_origins: int | None = None,
        fee_bps: float = 10.0,
        interval_method: Literal["split", "aci"] = "split",
        aci_gamma: float = 0.01,
        distribution: str | None = None,
        distribution_aci_gamma: float | None = None,
        distribution_calibration: str = "conformal",
    ) -> None:
        self.initial_train_size = initial_train_size
        self.test_size = test_size
        self.step_size = step_size
        self.retrain_frequency = retrain_frequency
        self.horizon = horizon
        self.purge = purge
        self.window = window
        self.interval_coverage = tuple(interval_coverage)
        self.test_origins = test_origins
        self.fee_bps = fee_bps
        self.interval_method = interval_method
        self.aci_gamma = aci_gamma
        self.distribution = distribution
        self.distribution_aci_gamma = distribution_aci_gamma
        self.distribution_calibration = distribution_calibration

    def __repr__(self) -> str:
        keys = (
            "initial_train_size",
            "test_size",
            "step_size",
            "retrain_frequency",
            "horizon",
            "purge",
            "window",
            "interval_coverage",
            "test_origins",
            "fee_bps",
            "interval_method",
            "aci_gamma",
            "distribution",
        )
        return f"ForecastBacktester({', '.join(f'{k}={getattr(self, k)!r}' for k in keys)})"

    # -- inputs ---------------------------------------------------------------------------
    def _check_params(self) -> int:
        """Refuse a bad setting (naming it and the fix); the purge gap in rows."""
        for name in (
            "initial_train_size",
            "test_size",
            "step_size",
            "retrain_frequency",
            "horizon",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.window not in ("expanding", "sliding"):
            raise ConfigError(f"window must be 'expanding' or 'sliding', got {self.window!r}")
        for c in self.interval_coverage:
            if not 0.0 < float(c) < 1.0:
                raise ConfigError(
                    f"each interval_coverage must be strictly between 0 and 1, got {c!r}"
                )
        if self.interval_method not in ("split", "aci"):
            raise ConfigError(
                f"interval_method must be 'split' or 'aci', got {self.interval_method!r}"
            )
        gamma = self.aci_gamma
        if (
            isinstance(gamma, bool)
            or not isinstance(gamma, int | float)
            or not 0.0 < float(gamma) < 1.0
        ):
            raise ConfigError(
                f"aci_gamma must be a number strictly between 0 and 1 (e.g. 0.01), got {gamma!r}"
            )
        if self.test_origins is not None and (
            isinstance(self.test_origins, bool)
            or not isinstance(self.test_origins, int)
            or self.test_origins < 1
        ):
            raise ConfigError(
                f"test_origins must be None or a whole number >= 1, got {self.test_origins!r}"
            )
        if self.distribution is not None and self.distribution not in VOLATILITY_MODELS:
            raise ConfigError(
                f"unknown distribution {self.distribution!r}; use one of "
                f"{', '.join(VOLATILITY_MODELS)} or None"
            )
        return resolve_purge(self.horizon, self.purge)

    def prepare(
        self,
        data: pd.DataFrame,
        features: pd.DataFrame | None = None,
        market: pd.DataFrame | pd.Series | None = None,
    ) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
        """Features ``X`` (complete rows only), target ``y`` and per-row context for ``data``
        (see :func:`prepare_frames`)."""
        return prepare_frames(data, int(self.horizon), features, market)

    # -- the walk ---------------------------------------------------------------------------
    def run_walk_forward_validation(
        self,
        data: pd.DataFrame,
        model_trainer_fn: ModelTrainer | None = None,
        features: pd.DataFrame | None = None,
        market: pd.DataFrame | pd.Series | None = None,
        *,
        progress: ProgressFn | None = None,
        intraday: pd.DataFrame | None = None,
        new_model: Callable[[], Forecaster] | None = None,
        fit_cache: FitCache | None = None,
        cache_key: Any = None,
    ) -> pd.DataFrame:
        """Run the walk-forward backtest on candles ``data``; returns one row per forecast.

        Args:
            data: candles (``load_ohlcv``); features and the ``h``-step target are built inside.
            model_trainer_fn: ``(X_train, y_train) -> fitted Forecaster``, e.g. :func:`trainer_for`.
            features: a precomputed feature frame on ``data``'s index (skips ``build_features``).
            market: market candles for the cross-asset features (``build_features(data, market)``).
            progress: called as ``progress(done, total)`` after each block of origins.
            intraday: 4h candles of the same coin (``load_ohlcv(..., interval="4h")``) for the
                realised measures of the distribution models (daily ranges without them).
            new_model: instead of ``model_trainer_fn``, a function returning a new unfitted
                forecaster, which the walk fits on each refit's rows.
            fit_cache: fitted models to reuse: a refit on the same rows (same first and last
                timestamp and count) under the same ``cache_key`` (naming the model and its
                parameters) takes the stored model instead of fitting again.

        Returns:
            Columns ``origin, target_time, horizon, fold, close_at_origin, y_true, y_pred, naive,
            lower_<c>, upper_<c>`` (prices), ``y_true_logret, y_pred_logret, next_return,
            model_type, refit_origin, train_start, train_end, n_train``. Also stored as
            ``results_``.
        """
        purge = self._check_params()
        if (model_trainer_fn is None) == (new_model is None):
            raise ConfigError(
                "give the walk exactly one of model_trainer_fn (X, y -> fitted model, e.g. "
                "trainer_for('lightgbm')) and new_model (-> unfitted model)"
            )
        h = int(self.horizon)
        X, y, ctx = self.prepare(data, features, market)
        n = len(X)
        last = n - 1 - h
        start = None if self.test_origins is None else last - int(self.test_origins) + 1
        splits = list(
            walk_forward_splits(
                n,
                horizon=h,
                initial_train_size=int(self.initial_train_size),
                test_size=int(self.test_size),
                step_size=int(self.step_size),
                purge=purge,
                window=self.window,
                start_origin=start,
            )
        )
        if not splits:
            need = int(self.initial_train_size) + purge + h
            raise DataError(
                f"{n} complete feature rows are too few to backtest: need at least {need} "
                f"(initial_train_size {self.initial_train_size} + purge {purge} + horizon {h}); "
                "load more candles or lower initial_train_size"
            )
        total = sum(len(s.test) for s in splits)
        blocks: list[pd.DataFrame] = []
        refits: list[dict[str, Any]] = []
        importances: list[pd.Series] = []
        model: Forecaster | None = None
        aci = (
            AdaptiveIntervals(
                self.interval_coverage, float(self.aci_gamma), y.to_numpy(dtype="float64"), h
            )
            if self.interval_method == "aci"
            else None
        )
        refit_at = -1
        fit_seconds = predict_seconds = 0.0
        done = 0
        self._running = (blocks, y, ctx)
        for fold, split in enumerate(splits):
            origins = split.test
            j = 0
            while j < len(origins):
                t0 = int(origins[j])
                if model is None or t0 - refit_at >= self.retrain_frequency:
                    rows = train_rows(
                        t0, purge=purge, window=self.window, train_size=int(self.initial_train_size)
                    )
                    tic = time.perf_counter()
                    fit_key = (cache_key, X.index[rows[0]], X.index[rows[-1]], len(rows))
                    cached = None if fit_cache is None else fit_cache.get(fit_key)
                    if cached is not None:
                        model = cached
                    elif new_model is not None:
                        model = new_model().fit(X.iloc[rows], y.iloc[rows])
                    else:  # checked above: exactly one of the two was given
                        model = cast(ModelTrainer, model_trainer_fn)(X.iloc[rows], y.iloc[rows])
                    if fit_cache is not None:
                        fit_cache[fit_key] = model
                    fit_seconds += time.perf_counter() - tic
                    check_horizon(model, h)
                    refit_at = t0
                    refits.append(
                        {
                            "refit_origin": X.index[t0],
                            "train_start": X.index[rows[0]],
                            "train_end": X.index[rows[-1]],
                            "n_train": len(rows),
                            "model_type": str(getattr(model, "model_type", type(model).__name__)),
                            "interval_error": None,
                        }
                    )
                    if aci is not None:
                        self._note_interval_error(refits[-1], aci.start_model(model))
                    imp = normalised_importance_of(model)
                    if imp is not None:
                        importances.append(imp)
                # the block runs to the next refit or the end of the fold (origins are consecutive)
                k = min(len(origins), j + refit_at + int(self.retrain_frequency) - t0)
                block = origins[j:k]
                j = k
                tic = time.perf_counter()
                frame, note = predict_block(model, X, block, self.interval_coverage, aci is None)
                if aci is not None:
                    lower, upper = aci.bands(block, frame["y_pred_logret"].to_numpy())
                    for i, c in enumerate(self.interval_coverage):
                        frame[f"lower_{coverage_tag(c)}_logret"] = lower[:, i]
                        frame[f"upper_{coverage_tag(c)}_logret"] = upper[:, i]
                self._note_interval_error(refits[-1], note)
                predict_seconds += time.perf_counter() - tic
                frame.insert(0, "fold", fold)
                for key in ("refit_origin", "train_start", "train_end", "n_train", "model_type"):
                    frame[key] = refits[-1][key]
                blocks.append(frame)
                done += len(block)
                if progress is not None:
                    progress(done, total)
        raw = pd.concat(blocks)
        results = self._assemble(raw, y, ctx)
        if self.distribution is not None:
            tic = time.perf_counter()
            extra, _ = distribution_columns(
                MarketData(data, intraday, X),
                raw.index,
                y,
                raw["y_pred_logret"],
                ctx["close"],
                self.distribution,
                h,
                [r["refit_origin"] for r in refits],
                aci_gamma=self.distribution_aci_gamma,
                calibration=self.distribution_calibration,
            )
            self.distribution_seconds_ = time.perf_counter() - tic
            results = pd.concat([results, extra.reset_index(drop=True)], axis=1)
            results["distribution"] = self.distribution
        self.results_ = results
        self.refits_ = pd.DataFrame(refits)
        self.n_refits_ = len(refits)
        self.fit_seconds_ = fit_seconds
        self.predict_seconds_ = predict_seconds
        self.feature_importance_ = mean_importance(importances)
        self.model_ = model
        return results

    def results_so_far(self) -> pd.DataFrame:
        """The results of the origins forecast so far in the running walk (a ``progress`` hook
        reads them, e.g. to prune a hopeless tuning trial); the finished walk's ``results_``."""
        if not hasattr(self, "_running"):
            raise DataError("no walk has started; call run_walk_forward_validation first")
        blocks, y, ctx = self._running
        if not blocks:
            return self._assemble(pd.DataFrame(columns=["fold", "y_pred_logret"]), y, ctx)
        return self._assemble(pd.concat(blocks), y, ctx)

    def _note_interval_error(self, refit: dict[str, Any], note: str | None) -> None:
        """Record (once per refit) and warn why a model's origins have NaN interval bands."""
        if note is None or refit["interval_error"] is not None:
            return
        refit["interval_error"] = note
        warnings.warn(
            f"no {self.interval_method} intervals for the {refit['model_type']} model refitted at "
            f"{refit['refit_origin']} on {refit['n_train']} rows: {note}; its origins get NaN "
            "interval bands (skipped by the coverage metrics). Fit on more rows "
            "(initial_train_size) or give the model a validation tail.",
            RuntimeWarning,
            stacklevel=3,
        )

    def _assemble(self, raw: pd.DataFrame, y: pd.Series, ctx: pd.DataFrame) -> pd.DataFrame:
        return assemble_results(
            raw, y, ctx, int(self.horizon), self.interval_coverage, str(self.interval_method)
        )

    # -- metrics ----------------------------------------------------------------------------
    def calculate_aggregate_metrics(self, results: pd.DataFrame | None = None) -> dict[str, Any]:
        """Every metric for the model and for naive on the same origins (``summarise_results``)."""
        if results is None:
            if not hasattr(self, "results_"):
                raise DataError(
                    "no backtest results yet; call run_walk_forward_validation(data, trainer) first"
                )
            results = self.results_
        out = summarise_results(
            results,
            horizon=int(self.horizon),
            coverages=self.interval_coverage,
            fee_bps=float(self.fee_bps),
        )
        out["interval_method"] = (
            str(results["interval_method"].iloc[0])
            if "interval_method" in results.columns
            else str(self.interval_method)
        )
        if out["interval_method"] == "aci":
            out["aci_gamma"] = float(self.aci_gamma)
        if "crps" in results.columns:
            name = str(results["distribution"].iloc[0]) if "distribution" in results else None
            out["distribution"] = summarise_distribution(results, int(self.horizon), name)
        lowers = [f"lower_{coverage_tag(c)}" for c in self.interval_coverage]
        present = [c for c in lowers if c in results.columns]
        out["n_without_intervals"] = (
            int(results[present].isna().any(axis=1).sum()) if present else len(results)
        )
        if results is getattr(self, "results_", None):
            out["n_refits"] = int(self.n_refits_)
            out["fit_seconds"] = float(self.fit_seconds_)
            out["predict_seconds"] = float(self.predict_seconds_)
        return out


def backtester_from(settings: Settings, horizon: int, **overrides: Any) -> ForecastBacktester:
    """A :class:`ForecastBacktester` at ``horizon`` with the config's ``backtest`` section (fold
    sizes, refit frequency, window, interval coverages); ``overrides`` replace any of those or set
    any other constructor argument."""
    cfg = settings.backtest
    params: dict[str, Any] = {
        "initial_train_size": cfg.initial_train_size,
        "test_size": cfg.test_size,
        "step_size": cfg.step_size,
        "retrain_frequency": cfg.retrain_frequency,
        "window": cfg.window,
        "interval_coverage": tuple(cfg.interval_coverage),
    }
    return ForecastBacktester(horizon=horizon, **{**params, **overrides})
