"""A LightGBM text model, checked in full before LightGBM's own parser sees it.

LightGBM 4.7 crashes the whole process (segfault or abort) on truncated or garbled model files,
so :func:`read_lightgbm_text` refuses a damaged one with an :class:`ArtifactError` first. Every
LightGBM text this package loads goes through it: the LightGBM forecaster's weights, the
ensemble's meta-learner and the ``lightgbm_vol`` scale model.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from cryptoforecast.exceptions import ArtifactError

__all__ = ["read_lightgbm_text"]


def _numbers(value: str, kind: type, count: int, key: str) -> list[Any]:
    parts = value.split()
    if len(parts) != count:
        raise ValueError(f"{key} has {len(parts)} values, expected {count}")
    try:
        values = [kind(p) for p in parts]
    except ValueError:
        raise ValueError(f"{key} holds a value that is not a {kind.__name__}") from None
    if key in _FINITE and not all(math.isfinite(v) for v in values):
        bad = next(p for p, v in zip(parts, values, strict=True) if not math.isfinite(v))
        raise ValueError(f"{key} holds {bad}, not a finite number")
    return values


#: the fields whose values reach a prediction (leaf outputs) or weight one: finite in every tree
_FINITE = frozenset({"leaf_value", "leaf_weight", "internal_value", "internal_weight", "shrinkage"})


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
