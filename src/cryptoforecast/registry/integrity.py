"""Artifact paths and hashes: keep every artifact inside the registry's root, detect tampering.

A model artifact is a directory (native weights + ``manifest.json``) or a single file. At
registration the sha256 of every file is recorded (and a model directory's manifest must be one a
model can be loaded from, :func:`check_artifact_manifest`); before loading,
:func:`verify_artifact` recomputes them and refuses a missing, changed or added file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.manifest import MANIFEST, load_manifest_file
from cryptoforecast.paths import confine, list_files, sha256_file

__all__ = ["check_artifact_manifest", "hash_artifact", "resolve_artifact", "verify_artifact"]

ROOT_NAME = "registry's artifact root"


def resolve_artifact(model_path: str | os.PathLike[str], root: Path) -> tuple[Path, str]:
    """Resolve ``model_path`` (absolute, or relative to ``root``) and check it stays inside root.

    Returns ``(absolute_path, path_relative_to_root)`` with the relative path in POSIX form.
    Raises :class:`ArtifactError` when the path escapes the root (``..``, an absolute path
    elsewhere, a symlink anywhere on the way) or does not exist.
    """
    resolved = confine(model_path, root, "model_path", root_name=ROOT_NAME)
    raw = Path(os.fspath(model_path)).expanduser()
    if not resolved.exists() and not raw.is_absolute() and raw.exists():
        raise ArtifactError(
            f"model_path {os.fspath(model_path)!r} is read relative to the registry's artifact "
            f"root {str(Path(root).expanduser().resolve())!r}, not the current directory, where "
            f"a model was saved at {str(raw.resolve())!r}; save it into "
            "model_registry.new_artifact_dir(crypto_id, model_type, horizon) (or anywhere under "
            "the root) and register that path"
        )
    if not resolved.exists():
        raise ArtifactError(
            f"model_path {os.fspath(model_path)!r} does not exist (looked at {str(resolved)!r}); "
            "save the model first (forecaster.save_model(path)) and register that path."
        )
    return resolved, resolved.relative_to(Path(root).expanduser().resolve()).as_posix()


def hash_artifact(path: Path, root: Path | None = None) -> dict[str, str]:
    """Map each artifact file (relative POSIX path; a single file: its name) to its sha256.

    A symbolic link inside the artifact is refused, and so is an empty directory (there is
    nothing to load). ``root`` is accepted for callers that pass it; confinement to the root is
    :func:`confine`'s job.
    """
    hashes = {name: sha256_file(file) for name, file in list_files(Path(path)).items()}
    if not hashes:
        raise ArtifactError(
            f"artifact directory {str(path)!r} is empty; save the model into it before registering."
        )
    return hashes


def check_artifact_manifest(path: Path) -> None:
    """Refuse a model directory whose ``manifest.json`` is not a JSON object with keys of the
    right types (see :mod:`cryptoforecast.manifest`): no model could be loaded from it. An
    artifact without a manifest (a single file, another kind of model) is left to its loader."""
    file = Path(path) / MANIFEST
    if Path(path).is_dir() and file.is_file():
        load_manifest_file(file)


def verify_artifact(path: Path, expected: Mapping[str, str]) -> None:
    """Recompute the artifact's hashes and raise :class:`ArtifactError` on any difference.

    A missing file, a changed byte or a file added since registration are all refused.
    """
    path = Path(path)
    if not path.exists():
        raise ArtifactError(
            f"registered artifact {str(path)!r} is missing; restore it from a backup or register "
            "a newly trained model."
        )
    actual = {name: sha256_file(file) for name, file in list_files(path).items()}
    missing = sorted(set(expected) - set(actual))
    added = sorted(set(actual) - set(expected))
    changed = sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k])
    if missing or added or changed:
        parts = []
        if changed:
            parts.append(f"changed: {changed}")
        if missing:
            parts.append(f"missing: {missing}")
        if added:
            parts.append(f"added: {added}")
        raise ArtifactError(
            f"artifact {str(path)!r} does not match the sha256 recorded at registration "
            f"({'; '.join(parts)}). It may have been tampered with or corrupted; refusing to "
            "load it. Restore the original files or register a newly trained model."
        )
