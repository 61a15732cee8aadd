"""What the gradient-boosted forecasters share: fitting with early stopping on the validation
tail, predicting, split-gain importances, and the booster's native weights file out and in.

:class:`BoosterForecaster` holds one booster (``booster_``), cut to the trees in use, and saves it
in its library's own format (LightGBM text, XGBoost JSON), refusing on load weights whose feature
count disagrees with the manifest. :func:`read_lightgbm_text` checks a LightGBM text model in full
before LightGBM's parser sees it (the forecaster and the ensemble's meta-learner both load through
it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

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

__all__ = ["BoosterForecaster", "read_lightgbm_text"]

#: a booster's training data: features and targets as float64 arrays
Rows = tuple[np.ndarray, np.ndarray]


class BoosterForecaster(BaseForecaster):
    """A direct gradient-boosted regressor whose learned state is one booster (``booster_``).

    Early stopping watches the time-ordered validation tail (the base class cuts it, purged by
    ``horizon``); the booster kept is cut at its best iteration, so the tail's residuals are out of
    sample and the saved model and the predictions agree.

    Subclasses set ``module`` (the library imported through ``import_optional``), ``library``
    (for messages) and ``weights_name`` (the file), store the hyperparameters ``n_estimators``,
    ``validation_fraction``, ``early_stopping_rounds`` and ``n_jobs`` among their own, and
    implement:
        ``_booster_params() -> dict``: the library's parameters.
        ``_train(lib, params, train, tail) -> (booster, best_iteration)``: boost on ``train``,
            stopping early on ``tail`` (``None`` when there is none).
        ``_booster_predict(values) -> array`` and ``_split_gain() -> array`` (one per feature).
        ``_read_booster(file)`` and ``_booster_shape(booster) -> (n_features, n_trees)``.
    """

    module: ClassVar[str] = "booster"
    library: ClassVar[str] = "booster"
    weights_name: ClassVar[str] = "model.bin"
    uses_validation_tail: ClassVar[bool] = True
    booster_: Any
    best_iteration_: int

    def _import_library(self) -> Any:
        return import_optional(self.module, f"{self.library}Forecaster")

    def _booster_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _train(
        self, lib: Any, params: dict[str, Any], train: Rows, tail: Rows | None
    ) -> tuple[Any, int]:
        raise NotImplementedError

    def _booster_predict(self, values: np.ndarray) -> Any:
        raise NotImplementedError

    def _split_gain(self) -> np.ndarray:
        raise NotImplementedError

    def _read_booster(self, file: Path) -> Any:
        raise NotImplementedError

    @staticmethod
    def _booster_shape(booster: Any) -> tuple[int, int]:
        raise NotImplementedError

    def _fit(
        self,
        X: pd.DataFrame,
        y: pd.Series,
        X_val: pd.DataFrame | None,
        y_val: pd.Series | None,
    ) -> None:
        lib = self._import_library()
        check_whole(self, "n_estimators")
        check_fraction(self, "validation_fraction")
        params = self._booster_params()
        tail = None
        if X_val is not None and y_val is not None and len(X_val) > 0:
            tail = (X_val.to_numpy(dtype="float64"), y_val.to_numpy(dtype="float64"))
        train = (X.to_numpy(dtype="float64"), y.to_numpy(dtype="float64"))
        self.booster_, self.best_iteration_ = self._train(lib, params, train, tail)

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        values = self._booster_predict(X.to_numpy(dtype="float64"))
        return pd.Series(np.asarray(values, dtype="float64"), index=X.index)

    def feature_importance(self) -> pd.Series | None:
        """Total split gain per feature, normalised to sum to 1 (all zeros if no split was made)."""
        check_is_fitted(self)
        return normalised_importance(self._split_gain(), self.feature_names_)

    def _save_native(self, directory: Path) -> dict[str, Any]:
        self.booster_.save_model(str(directory / self.weights_name))
        return {"weights": self.weights_name, "best_iteration": self.best_iteration_}

    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None:
        file = weights_file(directory, self.weights_name, self.library)
        booster = self._read_booster(file)
        n_features, n_trees = self._booster_shape(booster)
        weights_file(directory, self.weights_name, self.library, manifest, n_features)
        self.booster_ = booster
        self.best_iteration_ = int(manifest.get("extra", {}).get("best_iteration", n_trees))


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


def read_lightgbm_text(file: Path) -> str:
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
