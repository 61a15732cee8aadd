"""Artifact paths and hashes: keep every artifact inside the registry's root, detect tampering.

A model artifact is a directory (native weights + ``manifest.json``) or a single file. At
registration the sha256 of every file is recorded; before loading, :func:`verify_artifact`
recomputes them and refuses a missing, changed or added file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from cryptoforecast.exceptions import ArtifactError

__all__ = ["hash_artifact", "resolve_artifact", "sha256_file", "verify_artifact"]

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The hex sha256 of one file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def resolve_artifact(model_path: str | os.PathLike[str], root: Path) -> tuple[Path, str]:
    """Resolve ``model_path`` (absolute, or relative to ``root``) and check it stays inside root.

    Returns ``(absolute_path, path_relative_to_root)`` with the relative path in POSIX form.
    Raises :class:`ArtifactError` when the path escapes the root (``..``, an absolute path
    elsewhere, a symlink pointing out) or does not exist.
    """
    root = Path(root).expanduser().resolve()
    raw = Path(os.fspath(model_path)).expanduser()
    candidate = raw if raw.is_absolute() else root / raw
    resolved = candidate.resolve()
    if not _inside(resolved, root) or resolved == root:
        raise ArtifactError(
            f"model_path {os.fspath(model_path)!r} resolves to {str(resolved)!r}, which is outside "
            f"the registry's artifact root {str(root)!r}. Save the model under that root (or give "
            "a path relative to it), or point the registry at another root with artifact_root=."
        )
    if not resolved.exists():
        raise ArtifactError(
            f"model_path {os.fspath(model_path)!r} does not exist (looked at {str(resolved)!r}); "
            "save the model first (forecaster.save_model(path)) and register that path."
        )
    return resolved, resolved.relative_to(root).as_posix()


def hash_artifact(path: Path, root: Path | None = None) -> dict[str, str]:
    """Map each artifact file (relative POSIX path; a single file: its name) to its sha256.

    With ``root`` given, a file whose real location is outside it (a symlink) is refused.
    An empty directory is refused: there is nothing to load.
    """
    path = Path(path)
    if path.is_file():
        return {path.name: sha256_file(path)}
    if not path.is_dir():
        raise ArtifactError(f"artifact {str(path)!r} is neither a file nor a directory")
    real_root = Path(root).resolve() if root is not None else None
    hashes: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in sorted(filenames):
            file = Path(dirpath) / name
            if real_root is not None and not _inside(file.resolve(), real_root):
                raise ArtifactError(
                    f"artifact file {str(file)!r} links to {str(file.resolve())!r}, outside the "
                    f"artifact root {str(real_root)!r}; copy the file into the artifact instead."
                )
            hashes[file.relative_to(path).as_posix()] = sha256_file(file)
    if not hashes:
        raise ArtifactError(
            f"artifact directory {str(path)!r} is empty; save the model into it before registering."
        )
    return hashes


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
    if path.is_file():
        actual = {path.name: sha256_file(path)}
    else:
        actual = {}
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(filenames):
                file = Path(dirpath) / name
                actual[file.relative_to(path).as_posix()] = sha256_file(file)
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
