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
from cryptoforecast.models.boosters import read_lightgbm_text
from cryptoforecast.models.factory import BASE_CLASSES, load_with
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
    """Read what :func:`save_stack` wrote, checking every path and count on the way."""
    extra = manifest.get("extra") or {}
    parts = extra.get("parts")
    if not parts or not isinstance(parts, list):
        raise ArtifactError(
            f"{directory}/manifest.json lists no base models; the artifact is incomplete"
        )
    bases = dict(_base(directory, part) for part in parts)
    meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    names = list(meta["base_models"])
    if names != [p["name"] for p in parts]:
        raise ArtifactError(
            f"{directory}/{META_FILE} names bases {names}, the manifest {list(bases)}"
        )
    regime = list(meta.get("regime_columns", []))
    booster = (
        _meta_booster(directory, meta, len(names) + len(regime)) if meta.get("lgbm_model") else None
    )
    return StackParts(
        base_names=names,
        bases=bases,
        weights=np.asarray(meta["weights"], dtype="float64"),
        intercept=float(meta["intercept"]),
        regime_columns=regime,
        oof_summary=dict(meta.get("out_of_fold", {})),
        meta_booster=booster,
    )
