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
from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.artifacts import weights_file
from cryptoforecast.models.base import (
    BaseForecaster,
    check_fraction,
    check_is_fitted,
    check_whole,
    normalised_importance,
)

if TYPE_CHECKING:
    import lightgbm

__all__ = ["LightGBMForecaster"]

WEIGHTS_FILE = "model.txt"


def _import_lightgbm() -> Any:
    return import_optional("lightgbm", "LightGBMForecaster")


def _numbers(value: str, kind: type, count: int, key: str) -> list[Any]:
    parts = value.split()
    if len(parts) != count:
        raise ValueError(f"{key} has {len(parts)} values, expected {count}")
    try:
        return [kind(p) for p in parts]
    except ValueError:
        raise ValueError(f"{key} holds a value that is not a {kind.__name__}") from None


#: per tree field: its number type and whether it has one value per leaf or per internal node
_TREE_FIELDS: dict[str, tuple[type, str]] = {
    "split_feature": (int, "inner"),
    "split_gain": (float, "inner"),
    "threshold": (float, "inner"),
    "decision_type": (int, "inner"),
    "left_child": (int, "inner"),
    "right_child": (int, "inner"),
    "leaf_value": (float, "leaf"),
    "leaf_weight": (float, "leaf"),
    "leaf_count": (int, "leaf"),
    "internal_value": (float, "inner"),
    "internal_weight": (float, "inner"),
    "internal_count": (int, "inner"),
}


def _check_tree(block: str, n_features: int) -> None:
    lines = block.rstrip("\n").splitlines()[1:]
    if any("=" not in line for line in lines):
        raise ValueError("a tree has a line that is not 'key=value'")
    fields = dict(line.split("=", 1) for line in lines)
    n_leaves = _numbers(fields.get("num_leaves", ""), int, 1, "num_leaves")[0]
    if n_leaves < 1:
        raise ValueError(f"num_leaves is {n_leaves}")
    if _numbers(fields.get("num_cat", ""), int, 1, "num_cat")[0] != 0:
        raise ValueError("it has categorical splits, which this package never writes")
    if _numbers(fields.get("is_linear", ""), int, 1, "is_linear")[0] != 0:
        raise ValueError("it has linear trees, which this package never writes")
    _numbers(fields.get("shrinkage", ""), float, 1, "shrinkage")
    known = {"num_leaves", "num_cat", "is_linear", "shrinkage", *_TREE_FIELDS}
    if set(fields) - known:
        raise ValueError(f"a tree has unknown fields {sorted(set(fields) - known)}")
    counts = {"inner": n_leaves - 1, "leaf": n_leaves}
    values = {}
    if n_leaves == 1:  # LightGBM writes empty inner arrays (and may leave leaf_weight empty)
        for key, (kind, per) in _TREE_FIELDS.items():
            n = counts[per] if key not in ("leaf_weight",) or fields.get(key, "").strip() else 0
            _numbers(fields.get(key, ""), kind, n, key)
        return
    for key, (kind, per) in _TREE_FIELDS.items():
        values[key] = _numbers(fields.get(key, ""), kind, counts[per], key)
    for side in ("left_child", "right_child"):
        if any(not (0 <= c < n_leaves - 1 or 0 <= ~c < n_leaves) for c in values[side]):
            raise ValueError(f"{side} points to a node outside the tree")
    if any(not 0 <= f < n_features for f in values["split_feature"]):
        raise ValueError("split_feature names a feature outside the model")
    if any(not 0 <= d < 16 for d in values["decision_type"]):
        raise ValueError("decision_type holds an unknown split type")


def _read_model_text(file: Path) -> str:
    """The text model in ``file``, checked in full before LightGBM's C parser sees it.

    LightGBM 4.7 crashes the whole process (segfault or abort) on truncated or garbled model
    files, so a damaged file is refused here with an :class:`ArtifactError`: the header, every
    tree (field counts, child and feature indices, the declared ``tree_sizes``) and the footer.
    """
    raw = file.read_bytes()
    try:
        text = raw.decode("ascii")
        if "\x00" in text or not text.startswith("tree\n"):
            raise ValueError("it does not start like a LightGBM text model")
        if "\nend of trees\n" not in text or "\nend of parameters\n" not in text:
            raise ValueError(
                "it is truncated (an 'end of trees' or 'end of parameters' line is missing)"
            )
        if not text.rstrip("\n").rsplit("\n", 1)[-1].startswith("pandas_categorical:"):
            raise ValueError("it is truncated (the last line is not 'pandas_categorical:')")
        first = text.find("\nTree=0\n")
        trees_end = text.index("\nend of trees\n")
        header = dict(
            ln.split("=", 1)
            for ln in text[: first if first >= 0 else trees_end].splitlines()
            if "=" in ln
        )
        n_features = _numbers(header.get("max_feature_idx", ""), int, 1, "max_feature_idx")[0] + 1
        sizes = (
            [int(x) for x in header.get("tree_sizes", "").split()]
            if header.get("tree_sizes")
            else []
        )
        if first < 0:
            raise ValueError("it holds no trees")
        offset = first + 1
        for k, size in enumerate(sizes):
            block = text[offset : offset + size]
            if not block.startswith(f"Tree={k}\n"):
                raise ValueError(f"tree {k} is not where its tree_sizes header says")
            _check_tree(block, n_features)
            offset += size
        if offset != trees_end + 1:
            raise ValueError(
                f"its header declares {len(sizes)} trees that do not span the tree section"
            )
        # the footer (feature importances, the training parameters) is informational and its
        # parser is the most fragile part: hand LightGBM only the header and trees checked above
        text = text[: trees_end + 1] + "end of trees\n\npandas_categorical:null\n"
    except (UnicodeDecodeError, ValueError) as exc:
        reason = "it is not plain ASCII text" if isinstance(exc, UnicodeDecodeError) else str(exc)
        raise ArtifactError(
            f"cannot read the weights in {file}: {reason}. "
            "The artifact is corrupt; restore it or retrain."
        ) from None
    return text


class LightGBMForecaster(BaseForecaster):
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

    def _save_native(self, directory: Path) -> dict[str, Any]:
        self.booster_.save_model(str(directory / WEIGHTS_FILE))
        return {"weights": WEIGHTS_FILE, "best_iteration": self.best_iteration_}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        lgb = _import_lightgbm()
        file = weights_file(directory, WEIGHTS_FILE, "LightGBM")
        booster = lgb.Booster(model_str=_read_model_text(file))
        weights_file(directory, WEIGHTS_FILE, "LightGBM", manifest, booster.num_feature())
        self.booster_ = booster
        self.best_iteration_ = int(
            manifest.get("extra", {}).get("best_iteration", booster.current_iteration())
        )
