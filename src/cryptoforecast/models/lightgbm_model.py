"""LightGBM gradient-boosted trees: one direct model per horizon.

Early stopping watches a time-ordered validation tail (the last ``validation_fraction`` of the
training rows, with a purge gap of ``horizon`` rows before it; never shuffled). The booster kept is
the one trained on the rows before the tail, cut at its best iteration, so the tail's residuals are
out of sample and feed the conformal intervals. Training is deterministic for a given
``random_state`` and ``n_jobs`` (``deterministic=True``, ``force_col_wise=True``).

Saved as LightGBM's native text model (``model.txt``) plus ``manifest.json``; no pickle::

    model = LightGBMForecaster()
    model.load_model("artifacts/lightgbm/bitcoin/h1/v1.0.0_20250930T000000")
    predictions = model.predict(features)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from cryptoforecast.compat import import_optional
from cryptoforecast.models.base import (
    check_fraction,
    check_is_fitted,
    check_whole,
    normalised_importance,
)
from cryptoforecast.models.boosters import BoosterForecaster, read_lightgbm_text

if TYPE_CHECKING:
    import lightgbm

__all__ = ["LightGBMForecaster"]

WEIGHTS_FILE = "model.txt"


def _import_lightgbm() -> Any:
    return import_optional("lightgbm", "LightGBMForecaster")


class LightGBMForecaster(BoosterForecaster):
    """Direct LightGBM regressor of the ``horizon``-step log return.

    Defaults equal the ``lightgbm`` section of ``configs/model_config.yaml``; pass
    ``**load_config().model_params("lightgbm")`` to use a configured set.

    Args:
        horizon: forecast horizon in candles.
        n_estimators: maximum boosting rounds (early stopping usually ends sooner).
        learning_rate, num_leaves, max_depth, min_child_samples, subsample, subsample_freq,
        colsample_bytree, reg_lambda: LightGBM hyperparameters (scikit-learn names).
        early_stopping_rounds: stop when the validation-tail L2 has not improved for this many
            rounds.
        validation_fraction: share of the (time-ordered) training rows held out as the tail when
            ``fit`` is not given ``X_val``/``y_val``.
        random_state: seed of every random choice (bagging, feature sampling).
        n_jobs: threads; ``1`` (default) gives identical models on every machine.
    """

    model_type: ClassVar[str] = "lightgbm"
    library: ClassVar[str] = "LightGBM"
    weights_name: ClassVar[str] = WEIGHTS_FILE
    uses_validation_tail: ClassVar[bool] = True

    def __init__(
        self,
        horizon: int = 1,
        n_estimators: int = 500,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        subsample_freq: int = 1,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 50,
        validation_fraction: float = 0.2,
        random_state: int = 42,
        n_jobs: int = 1,
    ) -> None:
        super().__init__(horizon=horizon, random_state=random_state)
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.subsample_freq = subsample_freq
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs

    def _booster_params(self) -> dict[str, Any]:
        check_whole(self, "n_estimators")
        check_fraction(self, "validation_fraction")
        return {
            "objective": "regression",
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "max_depth": int(self.max_depth),
            "min_child_samples": int(self.min_child_samples),
            "bagging_fraction": float(self.subsample),
            "bagging_freq": int(self.subsample_freq),
            "feature_fraction": float(self.colsample_bytree),
            "lambda_l2": float(self.reg_lambda),
            "seed": int(self.random_state),
            "num_threads": int(self.n_jobs),
            "deterministic": True,
            "force_col_wise": True,
            "verbosity": -1,
        }

    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None,
        y_val: pd.Series | None,
    ) -> None:
        lgb = _import_lightgbm()
        params = self._booster_params()
        train = lgb.Dataset(
            X.to_numpy(dtype="float64"),
            label=y.to_numpy(dtype="float64"),
            free_raw_data=True,
            params={"verbosity": -1},
        )
        kwargs: dict[str, Any] = {"num_boost_round": int(self.n_estimators)}
        if X_val is not None and y_val is not None and len(X_val) > 0:
            valid = lgb.Dataset(
                X_val.to_numpy(dtype="float64"),
                label=y_val.to_numpy(dtype="float64"),
                reference=train,
            )
            kwargs["valid_sets"] = [valid]
            kwargs["valid_names"] = ["validation_tail"]
            kwargs["callbacks"] = [
                lgb.early_stopping(
                    int(self.early_stopping_rounds), first_metric_only=True, verbose=False
                )
            ]
        booster = lgb.train(params, train, **kwargs)
        best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        # keep exactly the trees in use, so the saved text model and predictions agree
        self.booster_: lightgbm.Booster = lgb.Booster(
            model_str=booster.model_to_string(num_iteration=best)
        )
        self.best_iteration_ = int(best)

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        values = self.booster_.predict(X.to_numpy(dtype="float64"), num_threads=int(self.n_jobs))
        return pd.Series(np.asarray(values, dtype="float64"), index=X.index)

    def feature_importance(self) -> pd.Series | None:
        """Total split gain per feature, normalised to sum to 1 (all zeros if no split was made)."""
        check_is_fitted(self)
        gain = self.booster_.feature_importance(importance_type="gain")
        return normalised_importance(gain, self.feature_names_)

    def _read_booster(self, file: Path) -> Any:
        # checked in full first: LightGBM's C parser crashes the process on damaged text
        return _import_lightgbm().Booster(model_str=read_lightgbm_text(file))

    @staticmethod
    def _booster_shape(booster: Any) -> tuple[int, int]:
        return int(booster.num_feature()), int(booster.current_iteration())
