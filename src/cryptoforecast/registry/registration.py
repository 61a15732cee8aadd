"""Registering models: the registry picks versions and artifact paths, hashes what was saved and
inserts the rows, all under the key's lock, in one transaction.

:meth:`RegistryWrites.register_model` registers an artifact saved elsewhere under the artifact
root; :meth:`~RegistryWrites.register_saved` has the registry choose the version and the path
and save into it; :meth:`~RegistryWrites.register_shared` saves one artifact that serves several
coins (a global model) and registers it once per coin with one version.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry.integrity import (
    check_artifact_manifest,
    hash_artifact,
    resolve_artifact,
)
from cryptoforecast.registry.rows import RegistryRows
from cryptoforecast.registry.values import next_version, norm_crypto, norm_horizon, norm_type

__all__ = ["RegistryWrites"]


class RegistryWrites(RegistryRows):
    """New rows: artifact directories, versions and the registration of saved models."""

    @contextmanager
    def _saved(
        self,
        save: Callable[[Path], object],
        model_type: str,
        folder: str,
        horizon: int,
        version: str,
    ) -> Iterator[dict[str, Any]]:
        """Save into ``<root>/<model_type>/<folder>/h<h>/v<version>_<UTC time>`` and yield the
        row's artifact columns; the directory is removed if saving or the block fails."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.artifact_root / model_type / folder / f"h{horizon}" / f"v{version}_{stamp}"
        try:
            save(path)
            path, relpath = resolve_artifact(path, self.artifact_root)
            check_artifact_manifest(path)
            files = hash_artifact(path, self.artifact_root)
            yield {"artifact_path": relpath, "artifact_files": files}
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise

    def new_artifact_dir(self, crypto_id: str, model_type: str, horizon: int = 1) -> Path:
        """A fresh, empty directory under the artifact root to save a model into."""
        key = (
            norm_crypto(crypto_id),
            norm_type(model_type),
            norm_horizon(horizon),
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = (
            self.artifact_root / key[0] / key[1] / f"h{key[2]}" / f"{stamp}-{os.urandom(4).hex()}"
        )
        path.mkdir(parents=True, exist_ok=False)
        return path

    def register_model(
        self,
        model_type: str,
        version: str | None = None,
        crypto_id: str | None = None,
        model_path: str | os.PathLike[str] | None = None,
        metrics: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        status: str = "staging",
        horizon: int = 1,
        feature_importance: Mapping[str, float] | Any | None = None,
        lineage: Mapping[str, Any] | None = None,
        *,
        reason: str = "",
        actor: str | None = None,
    ) -> int:
        """Register a saved model and return its ``model_id``.

        ``model_path`` (a model directory or a single file) must be inside the artifact root,
        absolute or relative to it; the sha256 of every file is recorded. ``version=None``
        bumps the minor version of the key's highest numeric version (``1.0.0`` first); an
        explicit version that already exists for the key is refused. ``status="production"``
        promotes it in the same transaction (archiving the previous production model).
        ``lineage=None`` stores :func:`compute_lineage` of the config (code version, hashes).
        Non-finite metric values are stored as null. A model directory whose ``manifest.json``
        is not a JSON object with keys of the right types is refused (``ArtifactError``) and
        nothing is stored. :meth:`register_saved` also picks the artifact's path.
        """
        if version is not None and (
            not isinstance(version, str) or not version.strip() or len(version) > 64
        ):
            raise RegistryError(
                f"version must be a non-empty string of at most 64 characters, got {version!r}"
            )
        if model_path is None:
            raise RegistryError(
                "model_path is required: save the model (save_model) and pass its path"
            )
        key, values = self._new_row(
            crypto_id, model_type, horizon, status, metrics, config, feature_importance, lineage
        )
        path, relpath = resolve_artifact(model_path, self.artifact_root)
        check_artifact_manifest(path)
        values.update(artifact_path=relpath, artifact_files=hash_artifact(path, self.artifact_root))

        def work(conn: Connection) -> int:
            self._lock_key(conn, key)
            existing = self._versions(conn, key)
            ver = version.strip() if version is not None else next_version(existing)
            if ver in existing:
                raise RegistryError(
                    f"version {ver!r} is already registered for {key[0]} {key[1]} h={key[2]}; "
                    "pass another version or version=None to bump it automatically"
                )
            return self._insert(conn, ver, values, status, reason, actor)

        return self._write(work, "register_model")

    def register_saved(
        self,
        save: Callable[[Path], object],
        model_type: str,
        crypto_id: str,
        horizon: int = 1,
        *,
        metrics: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        status: str = "staging",
        feature_importance: Mapping[str, float] | Any | None = None,
        lineage: Mapping[str, Any] | None = None,
        reason: str = "",
        actor: str | None = None,
    ) -> int:
        """Save a new version of a key into the registry's layout and register it, atomically.

        Holding the key's write lock, the registry picks the next version, calls ``save(path)``
        with ``<artifact root>/<model_type>/<crypto_id>/h<h>/v<version>_<UTC time>``, hashes
        what was written and inserts the row in the same transaction. Concurrent trainers of one
        key queue on the lock, so versions never clash and nothing is retried. If saving or the
        insert fails, or what was saved holds a malformed ``manifest.json`` (as
        :meth:`register_model` refuses), the directory is removed and nothing is registered.
        Returns the model_id.
        """
        key, values = self._new_row(
            crypto_id, model_type, horizon, status, metrics, config, feature_importance, lineage
        )

        def work(conn: Connection) -> int:
            self._lock_key(conn, key)
            ver = next_version(self._versions(conn, key))
            with self._saved(save, key[1], key[0], key[2], ver) as artifact:
                return self._insert(conn, ver, {**values, **artifact}, status, reason, actor)

        return self._write(work, "register_saved")

    def register_shared(
        self,
        save: Callable[[Path], object],
        model_type: str,
        rows: Mapping[str, Mapping[str, Any]],
        horizon: int = 1,
        *,
        artifact_key: str,
        reason: str = "",
        actor: str | None = None,
    ) -> tuple[dict[str, int], Path]:
        """Save one artifact that serves several coins and register it once per coin, atomically.

        ``rows`` maps each crypto_id to its own record values (``metrics``, ``config``,
        ``feature_importance``, ``lineage``). Holding every key's write lock, the registry picks
        one version above each key's highest (the records share it), calls ``save(path)`` with
        ``<artifact root>/<model_type>/<artifact_key>/h<h>/v<version>_<UTC time>`` and inserts
        every row as staging in the same transaction: all are registered or none is (and the
        directory is removed). Returns ``({crypto_id: model_id}, artifact path)``.
        """
        if not rows:
            raise RegistryError("register_shared needs at least one crypto_id in rows")
        prepared = {
            crypto_id: self._new_row(
                crypto_id,
                model_type,
                horizon,
                "staging",
                values.get("metrics"),
                values.get("config"),
                values.get("feature_importance"),
                values.get("lineage"),
            )
            for crypto_id, values in rows.items()
        }
        keys = sorted(key for key, _ in prepared.values())  # one lock order: no deadlock
        folder = norm_crypto(artifact_key)

        def work(conn: Connection) -> tuple[dict[str, int], Path]:
            existing: set[str] = set()
            for key in keys:
                self._lock_key(conn, key)
                existing.update(self._versions(conn, key))
            ver = next_version(sorted(existing))
            with self._saved(save, keys[0][1], folder, keys[0][2], ver) as artifact:
                ids = {
                    crypto_id: self._insert(
                        conn, ver, {**values, **artifact}, "staging", reason, actor
                    )
                    for crypto_id, (_, values) in prepared.items()
                }
                return ids, self.artifact_root / artifact["artifact_path"]

        return self._write(work, "register_shared")
