"""Model artifacts: a directory of native weights plus ``manifest.json``. No pickle.

Layout::

    <path>/
      manifest.json      model_type, format_version, horizon, feature names, params, conformal
                         residuals, training window, data hash, library versions, file hashes
      model.txt | model.json | state_dict.pt | ...   native weights written by the model

Saving writes into a temporary sibling directory and renames it into place, so a failure halfway
leaves any previous artifact at ``path`` untouched. Loading checks the format version, the model
type and the sha256 of every weight file, and raises :class:`ArtifactError` saying what is wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.manifest import MANIFEST, load_manifest_file
from cryptoforecast.models.intervals import ConformalCalibrator
from cryptoforecast.models.stored_values import stored_params
from cryptoforecast.paths import confine, list_files, sha256_file


class Persistable(Protocol):
    """What saving and loading need of a forecaster (``BaseForecaster`` provides it all).

    A protocol rather than the class keeps this module below ``models.base``, which saves and
    loads through it.
    """

    horizon: int
    feature_names_: list[str]
    n_features_in_: int
    calibrator_: ConformalCalibrator
    manifest_: dict[str, Any]
    feature_set_: Any
    train_start_: Any
    train_end_: Any
    n_train_: Any
    data_hash_: Any

    @property
    def model_type(self) -> str: ...
    def get_params(self) -> dict[str, Any]: ...
    def set_params(self, **params: Any) -> Any: ...
    @classmethod
    def _param_names(cls) -> list[str]: ...
    def _save_native(self, directory: Path) -> dict[str, Any]: ...
    def _load_native(self, directory: Path, manifest: dict[str, Any]) -> None: ...
    def _save_distribution(self, directory: Path) -> dict[str, Any]: ...
    def _load_distribution(self, directory: Path, manifest: dict[str, Any]) -> None: ...


__all__ = [
    "FORMAT_VERSION",
    "file_sha256",
    "install_directory",
    "library_versions",
    "load_into",
    "read_manifest",
    "save_artifact",
    "staged_directory",
    "weights_file",
    "write_manifest",
]

FORMAT_VERSION = 1
_LIBRARIES = (
    "cryptoforecast",
    "numpy",
    "pandas",
    "scikit-learn",
    "lightgbm",
    "xgboost-cpu",
    "torch",
    "ta-lib",
)


file_sha256 = sha256_file  # the one sha256 of a file, shared with the registry


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for lib in _LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = None
    return out


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def save_artifact(model: Persistable, path: Path) -> Path:
    """Write ``model`` to the directory ``path`` atomically; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_dir():
        raise ArtifactError(
            f"cannot save a model to {path}: a file with that name exists; choose a directory path"
        )
    with staged_directory(path) as tmp:
        extra = model._save_native(tmp)
        extra.update(model._save_distribution(tmp))  # inside tmp: hashed like the weights
        write_manifest(
            tmp,
            {
                "format_version": FORMAT_VERSION,
                "model_type": model.model_type,
                "class": f"{type(model).__module__}.{type(model).__qualname__}",
                "horizon": model.horizon,
                "feature_names": list(model.feature_names_),
                "feature_set": getattr(model, "feature_set_", None),
                "params": model.get_params(),
                "conformal": model.calibrator_.to_dict(),
                "training": {
                    "start": getattr(model, "train_start_", None),
                    "end": getattr(model, "train_end_", None),
                    "n_rows": getattr(model, "n_train_", None),
                    "data_hash": getattr(model, "data_hash_", None),
                },
                "extra": extra,
            },
        )
    return path


@contextmanager
def staged_directory(path: Path) -> Iterator[Path]:
    """A new directory beside ``path`` to write an artifact into: installed at ``path``
    (replacing what is there) when the block ends, removed if the block raises, so a failure
    leaves ``path`` as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        install_directory(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_manifest(directory: Path, fields: Mapping[str, Any]) -> None:
    """Write ``manifest.json`` into ``directory``: ``fields``, then the sha256 of every file below
    it (by path relative to it), the library versions and the time of writing."""
    files = {
        f.relative_to(directory).as_posix(): file_sha256(f)
        for f in sorted(directory.rglob("*"))
        if f.is_file()
    }
    manifest = {
        **fields,
        "files": files,
        "versions": library_versions(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (directory / MANIFEST).write_text(
        json.dumps(manifest, indent=2, default=_json_default), encoding="utf-8"
    )


def install_directory(tmp: Path, path: Path) -> None:
    """Move the finished directory ``tmp`` to ``path``, replacing any directory there."""
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def weights_file(
    directory: Path,
    name: str,
    label: str,
    manifest: dict[str, Any] | None = None,
    n_features: int | None = None,
) -> Path:
    """The native weights file ``directory/name``, or :class:`ArtifactError` when it is missing
    (a manifest may omit it from ``files``). With ``n_features`` (what the weights expect), also
    refuse weights that disagree with the manifest's feature list."""
    file = directory / name
    if not file.is_file():
        raise ArtifactError(f"{label} weights missing: {file}; the artifact is incomplete")
    if (
        manifest is not None
        and n_features is not None
        and n_features != len(manifest["feature_names"])
    ):
        raise ArtifactError(
            f"{file} expects {n_features} features but the manifest lists "
            f"{len(manifest['feature_names'])}; the artifact is inconsistent, retrain it"
        )
    return file


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and check ``manifest.json`` of an artifact directory."""
    path = Path(path)
    if not path.exists():
        raise ArtifactError(
            f"model artifact not found: {path}. Check the path or the registry record."
        )
    file = path / MANIFEST if path.is_dir() else path
    if not file.is_file():
        raise ArtifactError(f"{path} has no {MANIFEST}; it is not a saved cryptoforecast model")
    manifest = load_manifest_file(file)  # a JSON object whose keys have the right types
    fmt = manifest.get("format_version")
    if fmt != FORMAT_VERSION:
        raise ArtifactError(
            f"{file} has format_version {fmt!r}, this cryptoforecast reads format {FORMAT_VERSION}; "
            "retrain the model or load it with the version that saved it"
        )
    for key in ("model_type", "horizon", "feature_names", "params", "conformal", "files"):
        if key not in manifest:
            raise ArtifactError(
                f"{file} lacks the required key {key!r}; the artifact is incomplete"
            )
    return manifest


def _verify_files(directory: Path, manifest: dict[str, Any]) -> None:
    """Every file of the artifact is listed in the manifest with its sha256, and nothing else.

    Listed names are confined to the artifact directory (no ``..``, no absolute path, no link);
    a file on disk that the manifest does not list (an emptied ``files``, an added file) is
    refused as firmly as a changed one.
    """
    listed = {
        confine(name, directory, f"file {name!r} listed in {MANIFEST}", root_name="artifact")
        for name in manifest["files"]
    }
    if directory.is_dir():
        on_disk = {f.resolve() for n, f in list_files(directory).items() if n != MANIFEST}
        unlisted = sorted(str(f.relative_to(directory.resolve())) for f in on_disk - listed)
        if unlisted:
            raise ArtifactError(
                f"artifact {directory} holds files its {MANIFEST} does not list: {unlisted}; "
                "it was modified after saving. Restore it or retrain the model."
            )
    for name, digest in manifest["files"].items():
        file = directory / name
        if not file.is_file():
            raise ArtifactError(f"artifact file missing: {file} (listed in {directory / MANIFEST})")
        if sha256_file(file) != digest:
            raise ArtifactError(
                f"artifact file {file} does not match the sha256 recorded in its manifest: it is "
                "corrupt or was modified. Restore it or retrain the model."
            )


def load_into(model: Persistable, path: Path) -> None:
    """Restore ``model`` (an instance of the right class) from the directory ``path``."""
    manifest = read_manifest(path)
    if manifest["model_type"] != model.model_type:
        raise ArtifactError(
            f"{path} holds a {manifest['model_type']!r} model, not {model.model_type!r}; use "
            f"cryptoforecast.models.load_forecaster(path) to load any model type"
        )
    _verify_files(path, manifest)
    try:
        params = {k: v for k, v in manifest["params"].items() if k in model._param_names()}
        stored_params(type(model), params, path / MANIFEST)
        model.set_params(**params)
        model.horizon = int(manifest["horizon"])
        calibrator = ConformalCalibrator.from_dict(manifest["conformal"], str(path / MANIFEST))
    except ArtifactError:
        raise
    except Exception as exc:
        raise ArtifactError(
            f"cannot read the parameters in {path / MANIFEST}: {type(exc).__name__}: {exc}; the "
            "manifest is corrupt or was edited. Restore the artifact or retrain the model."
        ) from exc
    try:
        model._load_native(path, manifest)
        model._load_distribution(path, manifest)
    except (ArtifactError, ImportError):  # a missing library says nothing about the artifact
        raise
    except Exception as exc:
        raise ArtifactError(
            f"cannot read the weights in {path}: {type(exc).__name__}: {exc}"
        ) from exc
    model.feature_names_ = list(manifest["feature_names"])
    model.n_features_in_ = len(model.feature_names_)
    model.feature_set_ = manifest.get("feature_set")
    training = manifest.get("training") or {}
    model.train_start_ = training.get("start")
    model.train_end_ = training.get("end")
    model.n_train_ = training.get("n_rows")
    model.data_hash_ = training.get("data_hash")
    model.calibrator_ = calibrator
    model.manifest_ = manifest
