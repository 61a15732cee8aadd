"""Shrinkage toward no-change: ``w * base`` in log-return space, ``w`` earned out of fold.

``ShrunkForecaster(base)`` forecasts ``w * f(x)`` where ``f`` is the base model's ``h``-step
log-return forecast and ``w`` in ``[0, 1]``. ``w = 0`` is the naive forecast (no change),
``w = 1`` the base model as it is. A model may move the forecast away from no-change only as far
as its evidence allows:

1. **Out-of-fold forecasts.** The training rows are cut into ``inner_folds + 1`` expanding
   blocks (:func:`~cryptoforecast.models.ensemble.inner_folds`); for each of the last
   ``inner_folds`` blocks a fresh base model is fitted on the rows before it, purged by
   ``horizon`` rows, and forecasts the block. No forecast used in choosing ``w`` comes from a
   model that saw its target.
2. **The weight.** The least-squares slope of the targets on the OOF forecasts (no intercept)
   is ``b = sum(y f) / sum(f^2)``; its standard error uses Newey-West weights over ``h - 1`` lags
   (overlapping ``h``-step targets). ``w`` is the one-sided lower confidence bound
   ``b - z_(1 - alpha) * se``, clipped to ``[0, 1]``: without an out-of-fold edge (a slope not
   significantly above 0) ``w = 0``; a strong, well-measured edge gives ``w`` near ``b``.
3. The base is refitted on every training row; intervals are conformal, from the OOF residuals of
   the shrunk forecast.

Saved as a directory (no pickle)::

    <path>/manifest.json      params (base type and its hyperparameters, alpha, folds), files
    <path>/base/...           the base model's own artifact (manifest + native weights)
    <path>/shrink.json        w, the slope, its standard error and the OOF summary
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import ArtifactError, ConfigError, DataError
from cryptoforecast.models.artifacts import weights_file
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.checks import check_is_fitted, context_rows
from cryptoforecast.models.ensemble import MIN_INNER_TRAIN, EnsembleForecaster
from cryptoforecast.models.factory import BASE_CLASSES, build, class_for, load_with, params_for
from cryptoforecast.models.stacking import inner_folds
from cryptoforecast.models.stored_values import refuse, stored_number, stored_object

if TYPE_CHECKING:
    from cryptoforecast.models.base import Forecaster

__all__ = ["ShrunkForecaster", "shrinkage_weight"]

SHRINK_FILE = "shrink.json"
BASE_DIR = "base"


def shrinkage_weight(
    y: np.ndarray, f: np.ndarray, horizon: int = 1, alpha: float = 0.05
) -> tuple[float, float, float]:
    """``(w, slope, se)``: the slope of ``y`` on ``f`` and its one-sided lower bound in [0, 1]."""
    from scipy import stats

    y = np.asarray(y, dtype="float64")
    f = np.asarray(f, dtype="float64")
    sff = float(f @ f)
    if len(y) < 3 or sff <= 0.0:
        return 0.0, 0.0, math.inf
    slope = float(f @ y) / sff
    u = f * (y - slope * f)  # score contributions
    var = float(u @ u)
    for k in range(1, min(int(horizon), len(u))):
        var += 2.0 * (1.0 - k / horizon) * float(u[k:] @ u[:-k])
    se = math.sqrt(max(var, 0.0)) / sff
    bound = slope - float(stats.norm.ppf(1.0 - alpha)) * se
    return float(min(1.0, max(0.0, bound))), slope, se


#: what a shrunk forecaster may hold: every base model and the ensemble
SHRINKABLE: dict[str, type[BaseForecaster]] = {**BASE_CLASSES, "ensemble": EnsembleForecaster}


class ShrunkForecaster(BaseForecaster):
    """``w * base`` with ``w`` in [0, 1] chosen on out-of-fold forecasts (module docstring).

    Args:
        base: a model name (built with ``make_forecaster``) or an unfitted ``Forecaster``.
        base_params: hyperparameters of a base given by name.
        inner_folds: expanding-window folds that produce the out-of-fold forecasts.
        alpha: one-sided level of the lower confidence bound that sets ``w``.
        horizon: forecast horizon in candles (also the purge of the inner folds).
        random_state: seed for a base given by name.
    """

    model_type: ClassVar[str] = "shrunk"

    def __init__(
        self,
        base: str | Forecaster = "lightgbm",
        base_params: dict[str, Any] | None = None,
        inner_folds: int = 3,
        alpha: float = 0.05,
        horizon: int = 1,
        random_state: int = 42,
    ) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.base = base
        self.base_params = base_params
        self.inner_folds = inner_folds
        self.alpha = alpha

    def get_params(self) -> dict[str, Any]:
        """JSON-friendly: an instance base appears by ``model_type``, its hyperparameters under
        ``base_params`` (so ``type(m)(**m.get_params())`` clones)."""
        params = super().get_params()
        if not isinstance(self.base, str):
            params["base"] = str(self.base.model_type)
            base_params: dict[str, Any] = self.base.get_params()  # type: ignore[attr-defined]
            params["base_params"] = {k: v for k, v in base_params.items() if k != "horizon"}
        return params

    def _new_base(self) -> Forecaster:
        if not isinstance(self.base, str):
            clone: Forecaster = type(self.base)(**self.base.get_params())  # type: ignore[attr-defined]
            clone.horizon = self.horizon  # type: ignore[misc]
            return clone
        if self.base == self.model_type:
            raise ConfigError(
                "ShrunkForecaster cannot shrink itself; give a base such as 'lightgbm'"
            )
        kwargs = params_for(
            class_for(SHRINKABLE, self.base), self.base_params or {}, random_state=self.random_state
        )
        return build(SHRINKABLE, self.base, self.horizon, **kwargs)

    # -- fit / predict ----------------------------------------------------------------------
    def _oof(self, X: pd.DataFrame, y: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Out-of-fold base forecasts and their targets; also each fold's last training row."""
        k = int(self.inner_folds)
        if isinstance(self.inner_folds, bool) or k < 1:
            raise ConfigError(f"inner_folds must be a whole number >= 1, got {self.inner_folds!r}")
        preds, truth, ends = [], [], []
        for stop, lo, hi in inner_folds(len(X), k, int(self.horizon)):
            if stop < MIN_INNER_TRAIN:
                continue
            model = self._new_base().fit(X.iloc[:stop], y.iloc[:stop])
            ctx = max(0, lo - context_rows(model))
            p = model.predict(X.iloc[ctx:hi]).reindex(X.index[lo:hi])
            ok = p.notna().to_numpy()
            preds.append(p.to_numpy()[ok])
            truth.append(y.iloc[lo:hi].to_numpy()[ok])
            ends.append(str(X.index[stop - 1]))
        if not preds:
            raise DataError(
                f"{len(X)} training rows are too few for {k} inner folds of at least "
                f"{MIN_INNER_TRAIN} rows; train on more rows or lower inner_folds"
            )
        return np.concatenate(preds), np.concatenate(truth), ends

    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None,
        y_val: pd.Series | None,
    ) -> None:
        if not 0.0 < float(self.alpha) < 1.0:
            raise ConfigError(f"alpha must be strictly between 0 and 1, got {self.alpha!r}")
        f, t, ends = self._oof(X, y)
        w, slope, se = shrinkage_weight(t, f, int(self.horizon), float(self.alpha))
        self.weight_ = w
        self.oof_slope_ = slope
        self.oof_se_ = se
        self.oof_train_ends_ = ends
        self.oof_residuals_ = self._residuals = t - w * f  # the intervals' residuals
        self.base_ = self._new_base().fit(X, y)
        self.oof_summary_ = {
            "n": int(len(t)),
            "slope": slope,
            "se": se if math.isfinite(se) else None,
            "mse_shrunk": float(np.mean((t - w * f) ** 2)),
            "mse_base": float(np.mean((t - f) ** 2)),
            "mse_naive": float(np.mean(t**2)),
        }

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        return self.weight_ * self.base_.predict(X)

    @property
    def lookback(self) -> int:
        """The base's lookback: rows it reads up to each origin (1 for row-wise models)."""
        base = getattr(self, "base_", None)
        return int(getattr(base if base is not None else self._new_base(), "lookback", 1) or 1)

    def feature_importance(self) -> pd.Series | None:
        check_is_fitted(self, "base_")
        return self.base_.feature_importance()

    # -- persistence ----------------------------------------------------------------------
    def _save_native(self, directory: Path) -> dict[str, Any]:
        self.base_.save_model(directory / BASE_DIR)
        info = {
            "weight": float(self.weight_),
            "oof_slope": float(self.oof_slope_),
            "oof_se": self.oof_se_ if math.isfinite(self.oof_se_) else None,
            "oof_train_ends": list(self.oof_train_ends_),
            "out_of_fold": self.oof_summary_,
        }
        (directory / SHRINK_FILE).write_text(json.dumps(info, indent=2), encoding="utf-8")
        return {"base_dir": BASE_DIR, "shrink_file": SHRINK_FILE, "weight": float(self.weight_)}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        file = weights_file(directory, SHRINK_FILE, "shrinkage")
        try:
            info = stored_object(json.loads(file.read_text("utf-8")), file, "the file")
        except ValueError as exc:
            raise ArtifactError(
                f"{file} is not valid JSON ({exc}); restore the artifact or retrain the model"
            ) from None
        w = stored_number(info.get("weight"), file, "weight", low=0.0, high=1.0)
        try:
            self.base_ = load_with(SHRINKABLE, directory / BASE_DIR)
        except ArtifactError as exc:
            raise ArtifactError(
                f"cannot read the weights of the base model in {directory / BASE_DIR}: {exc}"
            ) from exc
        if list(self.base_.feature_names_) != list(manifest["feature_names"]):
            raise ArtifactError(
                f"the base model in {directory / BASE_DIR} reads "
                f"{len(self.base_.feature_names_)} features, not the shrunk model's "
                f"{len(manifest['feature_names'])}; the artifact is inconsistent. Restore it from "
                "a backup or retrain the model."
            )
        self.weight_ = w
        self.oof_slope_ = stored_number(info.get("oof_slope", 0.0), file, "oof_slope")
        se = info.get("oof_se")
        self.oof_se_ = math.inf if se is None else stored_number(se, file, "oof_se", low=0.0)
        ends = info.get("oof_train_ends", [])
        if not isinstance(ends, list) or not all(isinstance(e, str) for e in ends):
            raise refuse(file, "oof_train_ends", "a list of times", ends)
        self.oof_train_ends_ = list(ends)
        self.oof_summary_ = dict(stored_object(info.get("out_of_fold") or {}, file, "out_of_fold"))
