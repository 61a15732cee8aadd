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
from typing import Any, ClassVar

import numpy as np

from cryptoforecast.models.boosters import BoosterForecaster, Rows
from cryptoforecast.models.lightgbm_text import read_lightgbm_text

__all__ = ["LightGBMForecaster"]

WEIGHTS_FILE = "model.txt"


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
    tunable: ClassVar[bool] = True
    module: ClassVar[str] = "lightgbm"
    library: ClassVar[str] = "LightGBM"
    weights_name: ClassVar[str] = WEIGHTS_FILE

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

    def _train(
        self, lib: Any, params: dict[str, Any], train: Rows, tail: Rows | None
    ) -> tuple[Any, int]:
        data = lib.Dataset(train[0], label=train[1], free_raw_data=True, params={"verbosity": -1})
        kwargs: dict[str, Any] = {"num_boost_round": int(self.n_estimators)}
        if tail is not None:
            kwargs["valid_sets"] = [lib.Dataset(tail[0], label=tail[1], reference=data)]
            kwargs["valid_names"] = ["validation_tail"]
            kwargs["callbacks"] = [
                lib.early_stopping(
                    int(self.early_stopping_rounds), first_metric_only=True, verbose=False
                )
            ]
        booster = lib.train(params, data, **kwargs)
        best = booster.best_iteration if booster.best_iteration > 0 else booster.current_iteration()
        # keep exactly the trees in use, so the saved text model and predictions agree
        return lib.Booster(model_str=booster.model_to_string(num_iteration=best)), int(best)

    def _booster_predict(self, values: np.ndarray) -> Any:
        return self.booster_.predict(values, num_threads=int(self.n_jobs))

    def _split_gain(self) -> np.ndarray:
        return np.asarray(self.booster_.feature_importance(importance_type="gain"))

    def _read_booster(self, file: Path) -> Any:
        # checked in full first: LightGBM's C parser crashes the process on damaged text
        return self._import_library().Booster(model_str=read_lightgbm_text(file))

    @staticmethod
    def _booster_shape(booster: Any) -> tuple[int, int]:
        return int(booster.num_feature()), int(booster.current_iteration())
