"""Registering models: functions of a connection that pick versions and artifact paths, hash what
was saved and insert the rows, all under the key's lock, in the caller's transaction. Each
directory saved is appended to the caller's ``saved`` list: the caller removes them when the
transaction fails, so a failure at any step, the commit included, leaves no artifact behind.

:func:`register_path` registers an artifact saved elsewhere under the artifact root;
:func:`register_into` has the registry choose the version and the path and save into it;
:func:`register_shared_into` saves one artifact that serves several coins (a global model) and
registers it once per coin with one version. The public methods of
:class:`~cryptoforecast.registry.model_registry.ModelRegistry` run these in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry.database import lock_key
from cryptoforecast.registry.integrity import (
    check_artifact_manifest,
    hash_artifact,
    resolve_artifact,
)
from cryptoforecast.registry.rows import insert_model, versions
from cryptoforecast.registry.values import next_version

__all__ = ["register_into", "register_path", "register_shared_into", "save_artifact"]

Key = tuple[str, str, int]


def save_artifact(
    save: Callable[[Path], object],
    artifact_root: Path,
    saved: list[Path],
    model_type: str,
    folder: str,
    horizon: int,
    version: str,
) -> dict[str, Any]:
    """Save into ``<root>/<model_type>/<folder>/h<h>/v<version>_<UTC time>`` and return the
    row's artifact columns. The path is appended to ``saved`` before saving: the caller removes
    it if the transaction fails (or is retried), whatever step failed."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = artifact_root / model_type / folder / f"h{horizon}" / f"v{version}_{stamp}"
    saved.append(path)
    save(path)
    path, relpath = resolve_artifact(path, artifact_root)
    check_artifact_manifest(path)
    files = hash_artifact(path, artifact_root)
    return {"artifact_path": relpath, "artifact_files": files}


def register_path(
    conn: Connection,
    key: Key,
    version: str | None,
    values: dict[str, Any],
    status: str,
    reason: str,
    actor: str,
    *,
    force: bool = False,
) -> int:
    """Insert a model whose artifact columns are already in ``values``, at ``version`` (refused
    when the key has it) or, with ``None``, the key's next version; its model_id. A production
    ``status`` needs ``force`` (a new model has no gate decision)."""
    lock_key(conn, key)
    existing = versions(conn, key)
    ver = version.strip() if version is not None else next_version(existing)
    if ver in existing:
        raise RegistryError(
            f"version {ver!r} is already registered for {key[0]} {key[1]} h={key[2]}; "
            "pass another version or version=None to bump it automatically"
        )
    return insert_model(conn, ver, values, status, reason, actor, force=force)


def register_into(
    conn: Connection,
    save: Callable[[Path], object],
    artifact_root: Path,
    saved: list[Path],
    key: Key,
    values: dict[str, Any],
    status: str,
    reason: str,
    actor: str,
    *,
    force: bool = False,
) -> int:
    """Holding the key's lock, pick its next version, save into the registry's layout (the
    directory appended to ``saved``) and insert the row; its model_id. A production ``status``
    needs ``force``."""
    lock_key(conn, key)
    ver = next_version(versions(conn, key))
    artifact = save_artifact(save, artifact_root, saved, key[1], key[0], key[2], ver)
    return insert_model(conn, ver, {**values, **artifact}, status, reason, actor, force=force)


def register_shared_into(
    conn: Connection,
    save: Callable[[Path], object],
    artifact_root: Path,
    saved: list[Path],
    prepared: Mapping[str, tuple[Key, dict[str, Any]]],
    folder: str,
    reason: str,
    actor: str,
) -> tuple[dict[str, int], Path]:
    """Holding every key's lock (in one order: no deadlock), pick one version above each key's
    highest, save once (the directory appended to ``saved``) and insert every row as staging;
    ``({crypto_id: model_id}, path)``."""
    keys = sorted(key for key, _ in prepared.values())
    existing: set[str] = set()
    for key in keys:
        lock_key(conn, key)
        existing.update(versions(conn, key))
    ver = next_version(sorted(existing))
    artifact = save_artifact(save, artifact_root, saved, keys[0][1], folder, keys[0][2], ver)
    ids = {
        crypto_id: insert_model(conn, ver, {**values, **artifact}, "staging", reason, actor)
        for crypto_id, (_, values) in prepared.items()
    }
    return ids, artifact_root / artifact["artifact_path"]
