"""The ``Forecaster`` protocol every model implements, and a small base class that does the
shared chores (input checks, validation tail, conformal intervals, manifest I/O).

Every forecaster predicts the ``horizon``-step log return of close (``make_target``) from a
feature frame. Hyperparameters are stored by ``__init__`` unchanged; ``fit`` sets learned
attributes ending in ``_`` and returns ``self``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError, FeatureMismatchError
from cryptoforecast.models.artifacts import load_into, save_artifact
from cryptoforecast.models.checks import (
    check_feature_frame,
    check_is_fitted,
    context_rows,
    frame_hash,
    time_tail_split,
)
from cryptoforecast.models.distribution.attached import load_attached, save_attached
from cryptoforecast.models.distribution.forecaster import DistributionForecaster
from cryptoforecast.models.distribution.shapes import QUANTILES, check_levels, coverage_levels
from cryptoforecast.models.intervals import ConformalCalibrator
from cryptoforecast.models.probabilities import QuantileProbabilities

__all__ = ["BaseForecaster", "Forecaster"]


@runtime_checkable
class Forecaster(Protocol):
    """What the backtester, ensemble, registry and service rely on.

    ``isinstance(model, Forecaster)`` checks what a fresh, unfitted instance has (its methods,
    ``horizon``, ``model_type``); ``feature_names_`` exists only once fitted, so it is declared
    for static typing only."""

    horizon: int
    if TYPE_CHECKING:  # fitted state: typed, but not a runtime-checked member
        feature_names_: list[str]

    @property
    def model_type(self) -> str: ...

    def fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None = None,
        y_val: pd.Series | None = None,
    ) -> Self: ...

    def predict(self, X: pd.DataFrame) -> pd.Series: ...

    def predict_interval(
        self, X: pd.DataFrame, coverage: float | None = None, level: Any = None
    ) -> pd.DataFrame: ...

    def predict_quantiles(
        self, X: pd.DataFrame, quantiles: Sequence[float] = QUANTILES
    ) -> pd.DataFrame: ...

    def p_up(self, X: pd.DataFrame) -> pd.Series: ...

    def p_move(self, X: pd.DataFrame, threshold: float) -> pd.Series: ...

    def save_model(self, path: str | Path) -> Path: ...

    def load_model(self, path: str | Path) -> Self: ...

    def feature_importance(self) -> pd.Series | None: ...


class BaseForecaster(QuantileProbabilities):
    """Shared machinery; subclasses implement ``_fit``, ``_predict`` and optionally the native I/O.

    ``p_up`` and ``p_move`` come from :meth:`predict_quantiles`
    (:class:`~cryptoforecast.models.probabilities.QuantileProbabilities`). ``distribution_``
    (``None`` unless training attached one) is the volatility-aware predictive distribution
    composed with this point model; it is saved inside the artifact, under ``distribution/``.

    Subclass hooks:
        ``_fit(X, y, X_val, y_val)``: learn from checked inputs (``X_val`` may be ``None``); may
            set ``_residuals`` for the intervals (see :meth:`_make_calibrator`).
        ``_predict(X) -> Series``: point forecasts for the rows it can predict.
        ``_save_native(directory) -> dict``: write weights, return extra manifest entries.
        ``_load_native(directory, manifest)``: read them back.
    """

    model_type: ClassVar[str] = "base"
    #: whether tuning has a search space for it (``training.tuning.TUNABLE_MODELS``)
    tunable: ClassVar[bool] = False
    #: trained on many assets at once, one model registered per coin
    #: (``cryptoforecast.models.CROSS_ASSET_MODEL_TYPES``); every other model: one asset
    cross_asset: ClassVar[bool] = False
    # learned attributes (set by fit or load_model; absent before, so check_is_fitted works)
    feature_names_: list[str]
    n_features_in_: int
    feature_set_: str | None
    train_start_: str | None
    train_end_: str | None
    n_train_: int | None
    data_hash_: str | None
    calibrator_: ConformalCalibrator
    manifest_: dict[str, Any]
    #: fraction of training rows held out (time-ordered) for early stopping and conformal residuals
    uses_validation_tail: ClassVar[bool] = False
    #: without a validation tail, interval residuals come from a held-out half of the rows, never
    #: from the rows fitted on (always so for models with ``uses_validation_tail``)
    holds_out_residuals: ClassVar[bool] = False
    #: residuals ``_fit`` measured itself for the intervals (inner folds, a windowed model's own
    #: validation tail, a rule's volatility); ``None`` leaves them to :meth:`_make_calibrator`
    _residuals: np.ndarray | None = None
    #: the scale model trained with this point model (attached by training, saved with it)
    distribution_: DistributionForecaster | None = None

    def __init__(self, horizon: int = 1, random_state: int = 42) -> None:
        self.horizon = horizon
        self.random_state = random_state

    # -- parameters -----------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (JSON-friendly), as scikit-learn's ``get_params``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise DataError(
                    f"{type(self).__name__} has no parameter {key!r}; valid parameters: {sorted(valid)}"
                )
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- input checks ---------------------------------------------------------------------
    def _check_horizon(self) -> None:
        if (
            isinstance(self.horizon, bool)
            or not isinstance(self.horizon, int)
            or not 1 <= self.horizon <= 366
        ):
            raise DataError(f"horizon must be a whole number of candles >= 1, got {self.horizon!r}")

    def _check_fit_inputs(self, X: Any, y: Any, name: str = "X") -> tuple[pd.DataFrame, pd.Series]:
        X = check_feature_frame(X, name)
        if not isinstance(y, pd.Series):
            raise DataError(f"y must be a pandas Series of targets, got {type(y).__name__}")
        if not X.index.equals(y.index):
            common = X.index.intersection(y.index)
            if len(common) == 0:
                raise DataError(
                    f"{name} and y share no index labels; align features and targets first"
                )
            X, y = X.loc[common], y.loc[common]
        keep = np.isfinite(y.to_numpy(dtype="float64", na_value=np.nan))
        X, y = X.loc[keep], y.loc[keep].astype("float64")
        if len(X) == 0:
            raise DataError(
                "no rows with a known target to fit on; is the horizon longer than the data?"
            )
        return X, y

    def check_features(self, X: Any) -> pd.DataFrame:
        """Check a predict-time frame: fitted, same feature columns, finite values."""
        check_is_fitted(self)
        X = check_feature_frame(X)
        cols = [str(c) for c in X.columns]
        if cols != self.feature_names_:
            missing = [c for c in self.feature_names_ if c not in cols]
            extra = [c for c in cols if c not in self.feature_names_]
            if not missing and not extra:
                return X[self.feature_names_]  # same set, other order: reorder
            raise FeatureMismatchError(
                f"{type(self).__name__} was fitted on {len(self.feature_names_)} features but got "
                f"{len(cols)}: missing {missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected "
                f"{extra[:5]}{'...' if len(extra) > 5 else ''}. Build features with the same "
                "feature set the model was trained with (see its manifest.json)."
            )
        return X

    # -- fit / predict --------------------------------------------------------------------
    def fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None = None,
        y_val: pd.Series | None = None,
    ) -> Self:
        """Fit on ``X``/``y`` (rows with an unknown target are dropped); returns ``self``.

        ``X_val``/``y_val`` (later in time than ``X``) drive early stopping and the conformal
        residuals; when absent, models that use one hold out a time-ordered tail of ``X``.
        """
        self._check_horizon()
        X, y = self._check_fit_inputs(X, y)
        if X_val is not None and y_val is not None:
            X_val, y_val = self._check_fit_inputs(X_val, y_val, name="X_val")
            if list(X_val.columns) != list(X.columns):
                raise FeatureMismatchError(
                    "X_val must have the same columns as X, in the same order"
                )
            X_fit, y_fit = X, y
        elif self.uses_validation_tail:
            frac = float(getattr(self, "validation_fraction", 0.2))
            X_fit, y_fit, X_val, y_val = time_tail_split(X, y, frac, gap=self.horizon)
        else:
            X_fit, y_fit = X, y
        self._fit(X_fit, y_fit, X_val, y_val)
        self.feature_names_ = [str(c) for c in X.columns]
        self.n_features_in_ = len(self.feature_names_)
        # which feature set built X ("ohlcv_trades", "close_volume", ...), recorded in the manifest
        self.feature_set_ = X.attrs.get("feature_set")
        self.train_start_ = str(X.index[0])
        self.train_end_ = str(X.index[-1])
        self.n_train_ = self._n_fitted(X_fit)
        self.data_hash_ = frame_hash(X, y)
        self.calibrator_ = self._make_calibrator(X_fit, y_fit, X_val, y_val)
        return self

    def _make_calibrator(
        self,
        X_fit: pd.DataFrame,
        y_fit: pd.Series,
        X_val: pd.DataFrame | None,
        y_val: pd.Series | None,
    ) -> ConformalCalibrator:
        """The residuals ``_fit`` measured itself (``_residuals``: the ensemble's and the shrunk
        model's out-of-fold ones, the LSTM's on its own tail), else those on the validation tail
        (out of sample). Without either, a model that learns gets held-out residuals
        (:meth:`_holdout_residuals`); in-sample ones are used only by models with no learned state
        beyond a constant (naive, drift, the technical rule)."""
        if self._residuals is not None:
            res = self._residuals
        elif X_val is not None and y_val is not None and len(X_val) >= 2:
            pred = self._predict(X_val)
            res = (y_val.loc[pred.index] - pred).to_numpy()
        elif self.uses_validation_tail or self.holds_out_residuals:
            res = self._holdout_residuals(X_fit, y_fit)
        else:
            pred = self._predict(X_fit)
            res = (y_fit.loc[pred.index] - pred).to_numpy()
        return ConformalCalibrator.from_residuals(res)

    def _holdout_residuals(self, X: pd.DataFrame, y: pd.Series) -> np.ndarray:
        """Out-of-sample residuals when there is no validation tail (``validation_fraction=0`` or
        too few rows): a fresh copy of the model is fitted on the first half of the rows (purged
        by the horizon) and scored on the second half. A model's errors on its own training rows
        would make the intervals far too narrow; these err on the wide side (half the data).
        Empty when there are too few rows, so ``predict_interval`` then says so."""
        n, gap = len(X), int(self.horizon)
        half = n // 2
        if half - gap < 2 or n - half < 2:
            return np.empty(0)
        clone = type(self)(**self.get_params())
        try:
            clone._fit(X.iloc[: half - gap], y.iloc[: half - gap], None, None)
        except DataError:  # e.g. fewer rows than a window model's lookback
            return np.empty(0)
        pred = clone._predict(X.iloc[max(0, half - context_rows(self)) :])
        pred = pred.loc[pred.index >= X.index[half]]
        return (y.loc[pred.index] - pred).to_numpy()

    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None,
        y_val: pd.Series | None,
    ) -> None:
        raise NotImplementedError

    def _n_fitted(self, X_fit: pd.DataFrame) -> int:
        """Rows the learned state was fitted on (``n_train_``); a model that cuts its own
        validation tail inside ``_fit`` counts them itself."""
        return int(len(X_fit))

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        raise NotImplementedError

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Predicted ``horizon``-step log returns, indexed like the rows it could predict."""
        X = self.check_features(X)
        out = self._predict(X)
        return out.rename("y_pred").astype("float64")

    def predict_interval(
        self, X: pd.DataFrame, coverage: float | None = None, level: Any = None
    ) -> pd.DataFrame:
        """Conformal interval(s) (log-return units) around :meth:`predict`: ``lower``/``upper``
        for one ``coverage`` (default 0.8), or ``lower_<L>``/``upper_<L>`` for each of the
        ecosystem's ``level=[80, 95]``. The bounds are :meth:`predict_quantiles` at
        ``(1 -+ c) / 2``, widened (if ever needed) to contain the point forecast."""
        covs = coverage_levels(coverage, level)
        point = self.predict(X)
        out = pd.DataFrame(index=point.index)
        for c in covs:
            lo, hi = self.calibrator_.interval(point.to_numpy(), c)
            tag = "" if level is None else f"_{round(c * 100):d}"
            out[f"lower{tag}"] = lo
            out[f"upper{tag}"] = hi
        return out

    def predict_quantiles(
        self, X: pd.DataFrame, quantiles: Sequence[float] = QUANTILES
    ) -> pd.DataFrame:
        """``h``-step log-return quantiles: the point forecast plus the conformal residuals'
        quantiles (one float-labelled column per level, never crossing). The spread is static;
        ``models.distribution.DistributionForecaster`` gives a volatility-aware one."""
        tau = check_levels(quantiles)
        point = self.predict(X)
        offsets = self.calibrator_.quantile_offsets(tau)
        values = point.to_numpy()[:, None] + offsets[None, :]
        return pd.DataFrame(values, index=point.index, columns=[float(t) for t in tau])

    def feature_importance(self) -> pd.Series | None:
        """Importance per feature (normalised to sum to 1) or ``None`` when the model has none."""
        return None

    # -- persistence ----------------------------------------------------------------------
    def _save_native(self, directory: Path) -> dict[str, Any]:
        return {}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        return None

    def _save_distribution(self, directory: Path) -> dict[str, Any]:
        """Write the attached distribution under ``directory`` (hashed with the weights)."""
        return save_attached(self.distribution_, directory)

    def _load_distribution(self, directory: Path, manifest: dict[str, Any]) -> None:
        self.distribution_ = load_attached(directory, manifest.get("extra") or {})

    def save_model(self, path: str | Path) -> Path:
        """Save as a directory: native weights + ``manifest.json`` (no pickle). Returns the path."""
        check_is_fitted(self)
        return save_artifact(self, Path(path))

    def load_model(self, path: str | Path) -> Self:
        """Load a directory written by :meth:`save_model` into this instance; returns ``self``."""
        load_into(self, Path(path))
        return self
