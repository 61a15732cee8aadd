"""XGBoost gradient-boosted trees (``tree_method="hist"``): one direct model per horizon.

Same contract as :class:`~cryptoforecast.models.lightgbm_model.LightGBMForecaster`: early stopping
on a time-ordered validation tail with a purge gap of ``horizon`` rows, conformal residuals from
that tail, deterministic for a given ``random_state`` and ``n_jobs``. The booster is cut to its
best iteration and saved in XGBoost's native JSON format (``model.json``); no pickle.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.boosters import BoosterForecaster, Rows

__all__ = ["XGBoostForecaster"]

WEIGHTS_FILE = "model.json"


def _non_finite(value: Any, where: str) -> str | None:
    """The JSON path of the first number in ``value`` that is not finite, else ``None``."""
    if isinstance(value, float):
        return None if math.isfinite(value) else where
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _non_finite(item, f"{where}[{key!r}]")
        if found is not None:
            return found
    return None


def _check_model_json(file: Path) -> None:
    """Refuse an XGBoost JSON model holding a number that is not finite (``NaN``, ``Infinity``
    or one past a float's range, such as ``1e999``): a leaf or the base score would carry it into
    every prediction. XGBoost's parser would accept it."""

    def refuse_constant(token: str) -> Any:
        raise ValueError(f"it holds {token}")

    try:
        model = json.loads(file.read_text(encoding="utf-8"), parse_constant=refuse_constant)
        base = model["learner"]["learner_model_param"]["base_score"]
        scores = [float(v) for v in str(base).strip("[]").split(",")]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(
            f"cannot read the weights in {file}: it is not an XGBoost JSON model ({exc}). "
            "Restore the artifact from a backup or retrain the model."
        ) from None
    where = _non_finite(model, "model")
    if where is None and not all(math.isfinite(v) for v in scores):
        where = "model['learner']['learner_model_param']['base_score']"
    if where is not None:
        raise ArtifactError(
            f"{file}: {where} is not a finite number; the artifact is corrupt or was written "
            "wrong. Restore it from a backup or retrain the model."
        )


class XGBoostForecaster(BoosterForecaster):
    """Direct XGBoost regressor of the ``horizon``-step log return.

    Defaults equal the ``xgboost`` section of ``configs/model_config.yaml``.

    Args:
        horizon: forecast horizon in candles.
        n_estimators: maximum boosting rounds (early stopping usually ends sooner).
        learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda:
            XGBoost hyperparameters.
        early_stopping_rounds: stop when the validation-tail RMSE has not improved for this many
            rounds.
        validation_fraction: share of the (time-ordered) training rows held out as the tail.
        random_state: seed.
        n_jobs: threads; ``1`` (default) gives identical models on every machine.
    """

    model_type: ClassVar[str] = "xgboost"
    tunable: ClassVar[bool] = True
    module: ClassVar[str] = "xgboost"
    library: ClassVar[str] = "XGBoost"
    weights_name: ClassVar[str] = WEIGHTS_FILE

    def __init__(
        self,
        horizon: int = 1,
        n_estimators: int = 500,
        learning_rate: float = 0.03,
        max_depth: int = 4,
        min_child_weight: float = 5.0,
        subsample: float = 0.8,
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
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.n_jobs = n_jobs

    def _booster_params(self) -> dict[str, Any]:
        return {
            "objective": "reg:squarederror",
            "eval_metric": "rmse",
            "tree_method": "hist",
            "eta": float(self.learning_rate),
            "max_depth": int(self.max_depth),
            "min_child_weight": float(self.min_child_weight),
            "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample_bytree),
            "lambda": float(self.reg_lambda),
            "seed": int(self.random_state),
            "nthread": int(self.n_jobs),
            "verbosity": 0,
        }

    def _train(
        self, lib: Any, params: dict[str, Any], train: Rows, tail: Rows | None
    ) -> tuple[Any, int]:
        dtrain = lib.DMatrix(train[0], label=train[1], nthread=int(self.n_jobs))
        kwargs: dict[str, Any] = {"num_boost_round": int(self.n_estimators), "verbose_eval": False}
        if tail is not None:
            dval = lib.DMatrix(tail[0], label=tail[1], nthread=int(self.n_jobs))
            kwargs["evals"] = [(dval, "validation_tail")]
            kwargs["early_stopping_rounds"] = int(self.early_stopping_rounds)
        booster = lib.train(params, dtrain, **kwargs)
        n_trees = booster.num_boosted_rounds()
        best = getattr(booster, "best_iteration", None) if "evals" in kwargs else None
        if best is not None and best + 1 < n_trees:
            booster = booster[: best + 1]  # keep exactly the trees in use
        return booster, int(booster.num_boosted_rounds())

    def _booster_predict(self, values: np.ndarray) -> Any:
        return self.booster_.inplace_predict(values)

    def _split_gain(self) -> np.ndarray:
        scores = self.booster_.get_score(importance_type="total_gain")
        return np.array([float(scores.get(f"f{i}", 0.0)) for i in range(len(self.feature_names_))])

    def _read_booster(self, file: Path) -> Any:
        _check_model_json(file)
        booster = self._import_library().Booster()
        booster.load_model(str(file))
        return booster

    @staticmethod
    def _booster_shape(booster: Any) -> tuple[int, int]:
        return int(booster.num_features()), int(booster.num_boosted_rounds())
