"""The on-disk form of a stacked ensemble, inside its artifact directory (no pickle)::

    <path>/bases/0_lightgbm/...   each base model's own artifact (manifest + native weights)
    <path>/bases/1_lstm/...
    <path>/meta.json              meta-learner type, weights, intercept, regime columns, OOF summary
    <path>/meta_lgbm.txt          the LightGBM meta-learner's text model (meta="lgbm" only)

The manifest's ``extra.parts`` lists each base's name and path. Those paths are data read from
a file, so each is confined to the ensemble's own directory (whose files the registry hashed)
before anything is loaded from it; so is the meta-learner's file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cryptoforecast.compat import import_optional
from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.artifacts import weights_file
from cryptoforecast.models.factory import BASE_CLASSES, load_with
from cryptoforecast.models.lightgbm_text import read_lightgbm_text
from cryptoforecast.models.stored_values import (
    MAX_ABS_LOG_RETURN,
    refuse,
    stored_choice,
    stored_names,
    stored_number,
    stored_numbers,
    stored_object,
)
from cryptoforecast.paths import confine

__all__ = ["META_FILE", "META_LGBM_FILE", "StackParts", "load_stack", "save_stack"]

META_FILE = "meta.json"
META_LGBM_FILE = "meta_lgbm.txt"
_ROOT_NAME = "ensemble artifact"


@dataclass(frozen=True)
class StackParts:
    """What a fitted ensemble saves: its bases and its meta-learner."""

    base_names: list[str]
    bases: dict[str, Any]
    weights: np.ndarray
    intercept: float
    regime_columns: list[str]
    oof_summary: dict[str, Any]
    meta_booster: Any | None


def save_stack(parts: StackParts, meta_learner: str, directory: Path) -> dict[str, Any]:
    """Write the bases and the meta-learner into ``directory``; returns the manifest's extra."""
    listed = []
    for i, name in enumerate(parts.base_names):
        rel = f"bases/{i}_{name}"
        parts.bases[name].save_model(directory / rel)
        listed.append({"name": name, "model_type": parts.bases[name].model_type, "path": rel})
    meta: dict[str, Any] = {
        "meta": meta_learner,
        "base_models": list(parts.base_names),
        "weights": [float(w) for w in parts.weights],
        "intercept": float(parts.intercept),
        "regime_columns": list(parts.regime_columns),
        "out_of_fold": parts.oof_summary,
    }
    if parts.meta_booster is not None:
        parts.meta_booster.save_model(str(directory / META_LGBM_FILE))
        meta["lgbm_model"] = META_LGBM_FILE
    (directory / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return {"parts": listed, "meta_file": META_FILE}


def _base(directory: Path, part: Any) -> tuple[str, Any]:
    if not isinstance(part, dict) or not all(
        isinstance(part.get(k), str) for k in ("name", "path")
    ):
        raise ArtifactError(
            f"{directory}/manifest.json: each base model part must be an object with 'name' and "
            f"'path' strings, got {part!r:.200}; the artifact is corrupt"
        )
    where = confine(
        part["path"], directory, f"base model {part['name']!r} path", root_name=_ROOT_NAME
    )
    try:
        return part["name"], load_with(BASE_CLASSES, where)
    except ArtifactError as exc:
        raise ArtifactError(
            f"cannot read the weights of base model {part['name']!r} in "
            f"{directory / part['path']}: {exc}"
        ) from exc


def _meta_booster(directory: Path, meta: dict[str, Any], n_inputs: int) -> Any:
    lgb = import_optional("lightgbm", "EnsembleForecaster(meta='lgbm')")
    file = confine(str(meta["lgbm_model"]), directory, "meta-learner file", root_name=_ROOT_NAME)
    # checked in full first: LightGBM's C parser crashes the process on damaged text
    booster = lgb.Booster(model_str=read_lightgbm_text(file))
    if booster.num_feature() != n_inputs:
        raise ArtifactError(
            f"{file} expects {booster.num_feature()} inputs but the ensemble has {n_inputs} "
            "(bases and regime columns); the artifact is inconsistent, retrain it"
        )
    return booster


def load_stack(directory: Path, manifest: dict[str, Any]) -> StackParts:
    """Read what :func:`save_stack` wrote, checking every path, count and value on the way: each
    base reads the ensemble's features, one finite weight >= 0 per base, a finite intercept in
    log-return units, regime columns among the features and a known meta-learner."""
    extra = manifest.get("extra") or {}
    parts = extra.get("parts")
    if not parts or not isinstance(parts, list):
        raise ArtifactError(
            f"{directory}/manifest.json lists no base models; the artifact is incomplete"
        )
    bases = dict(_base(directory, part) for part in parts)
    features = list(manifest["feature_names"])
    for name, base in bases.items():
        if list(base.feature_names_) != features:
            raise ArtifactError(
                f"base model {name!r} in {directory} reads {len(base.feature_names_)} features, "
                f"not the ensemble's {len(features)}; the artifact is inconsistent. Restore it "
                "from a backup or retrain the model."
            )
    file = weights_file(directory, META_FILE, "ensemble meta-learner")
    try:
        meta = stored_object(json.loads(file.read_text(encoding="utf-8")), file, "the file")
    except ValueError as exc:
        raise ArtifactError(
            f"{file} is not valid JSON ({exc}); restore the artifact or retrain the model"
        ) from None
    names = stored_names(meta.get("base_models"), file, "base_models")
    if names != [p["name"] for p in parts]:
        raise ArtifactError(
            f"{directory}/{META_FILE} names bases {names}, the manifest {list(bases)}"
        )
    stored_choice(meta.get("meta"), file, "meta", [manifest["params"].get("meta", "ridge")])
    weights = stored_numbers(meta.get("weights"), file, "weights", length=len(names), low=0.0)
    intercept = stored_number(
        meta.get("intercept"), file, "intercept", low=-MAX_ABS_LOG_RETURN, high=MAX_ABS_LOG_RETURN
    )
    regime = stored_names(meta.get("regime_columns", []), file, "regime_columns", allow_empty=True)
    if not set(regime) <= set(features):
        raise refuse(file, "regime_columns", "columns among the features", regime)
    booster = (
        _meta_booster(directory, meta, len(names) + len(regime)) if meta.get("lgbm_model") else None
    )
    return StackParts(
        base_names=names,
        bases=bases,
        weights=weights,
        intercept=intercept,
        regime_columns=regime,
        oof_summary=dict(stored_object(meta.get("out_of_fold", {}), file, "out_of_fold")),
        meta_booster=booster,
    )
