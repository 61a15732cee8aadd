"""The manifest of a saved model: ``manifest.json`` at the top of its artifact directory, a JSON
object describing the model (type, horizon, feature names, parameters, conformal residuals, the
sha256 of every file).

Its shape is checked here, in one place, by the two that read it: the loader
(``models.artifacts.read_manifest``, which also needs every required key) and the registry at
registration (which stores artifacts of any kind, so checks the keys a manifest has). A value of
the wrong type is refused with an :class:`ArtifactError` naming the file, the key and the value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptoforecast.exceptions import ArtifactError

__all__ = ["MANIFEST", "check_manifest", "load_manifest_file"]

MANIFEST = "manifest.json"


def load_manifest_file(file: Path) -> dict[str, Any]:
    """The manifest in ``file``: valid JSON holding an object whose keys have the right types."""
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise ArtifactError(
            f"{file} is not valid JSON ({exc}); the artifact is corrupt, retrain or restore it"
        ) from None
    return check_manifest(file, manifest)


def check_manifest(file: Path, manifest: Any) -> dict[str, Any]:
    """``manifest`` (read from ``file``) if it is a JSON object whose keys have the right types;
    which keys are required is the reader's business."""
    if not isinstance(manifest, dict):
        raise ArtifactError(
            f"{file} must hold a JSON object, got a {type(manifest).__name__} "
            f"({manifest!r:.100}); the manifest is corrupt or was written wrong. Restore the "
            "artifact or retrain the model."
        )

    def bad(key: str, wanted: str) -> ArtifactError:
        return ArtifactError(
            f"{file}: {key!r} must be {wanted}, got {manifest.get(key)!r:.200}; the manifest is "
            "corrupt or was edited. Restore the artifact or retrain the model."
        )

    if "horizon" in manifest:
        horizon = manifest["horizon"]
        if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= 10_000:
            raise bad("horizon", "a positive integer (candles ahead)")
    if "model_type" in manifest and (
        not isinstance(manifest["model_type"], str) or not manifest["model_type"]
    ):
        raise bad("model_type", "a model name such as 'lightgbm'")
    names = manifest.get("feature_names", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad("feature_names", "a list of feature names")
    if len(set(names)) != len(names):
        raise bad("feature_names", "a list of distinct feature names")
    for key in ("params", "conformal"):
        if key in manifest and not isinstance(manifest[key], dict):
            raise bad(key, "a JSON object")
    for key in ("extra", "training"):
        if manifest.get(key) is not None and not isinstance(manifest[key], dict):
            raise bad(key, "a JSON object or null")
    files = manifest.get("files", {})
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        raise bad("files", "an object mapping each weights file to its sha256")
    return manifest
