"""Registering models: functions of a connection that pick versions and artifact paths, hash what
was saved and insert the rows, all under the key's lock, in the caller's transaction.

:func:`register_path` registers an artifact saved elsewhere under the artifact root;
:func:`register_into` has the registry choose the version and the path and save into it;
:func:`register_shared_into` saves one artifact that serves several coins (a global model) and
registers it once per coin with one version. The public methods of
:class:`~cryptoforecast.registry.model_registry.ModelRegistry` run these in one transaction.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
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

__all__ = ["register_into", "register_path", "register_shared_into", "saved_artifact"]

Key = tuple[str, str, int]


@contextmanager
def saved_artifact(
    save: Callable[[Path], object],
    artifact_root: Path,
    model_type: str,
    folder: str,
    horizon: int,
    version: str,
) -> Iterator[dict[str, Any]]:
    """Save into ``<root>/<model_type>/<folder>/h<h>/v<version>_<UTC time>`` and yield the
    row's artifact columns; the directory is removed if saving or the block fails."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = artifact_root / model_type / folder / f"h{horizon}" / f"v{version}_{stamp}"
    try:
        save(path)
        path, relpath = resolve_artifact(path, artifact_root)
        check_artifact_manifest(path)
        files = hash_artifact(path, artifact_root)
        yield {"artifact_path": relpath, "artifact_files": files}
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise


def register_path(
    conn: Connection,
    key: Key,
    version: str | None,
    values: dict[str, Any],
    status: str,
    reason: str,
    actor: str,
) -> int:
    """Insert a model whose artifact columns are already in ``values``, at ``version`` (refused
    when the key has it) or, with ``None``, the key's next version; its model_id."""
    lock_key(conn, key)
    existing = versions(conn, key)
    ver = version.strip() if version is not None else next_version(existing)
    if ver in existing:
        raise RegistryError(
            f"version {ver!r} is already registered for {key[0]} {key[1]} h={key[2]}; "
            "pass another version or version=None to bump it automatically"
        )
    return insert_model(conn, ver, values, status, reason, actor)


def register_into(
    conn: Connection,
    save: Callable[[Path], object],
    artifact_root: Path,
    key: Key,
    values: dict[str, Any],
    status: str,
    reason: str,
    actor: str,
) -> int:
    """Holding the key's lock, pick its next version, save into the registry's layout and
    insert the row; its model_id. The directory is removed if anything fails."""
    lock_key(conn, key)
    ver = next_version(versions(conn, key))
    with saved_artifact(save, artifact_root, key[1], key[0], key[2], ver) as artifact:
        return insert_model(conn, ver, {**values, **artifact}, status, reason, actor)


def register_shared_into(
    conn: Connection,
    save: Callable[[Path], object],
    artifact_root: Path,
    prepared: Mapping[str, tuple[Key, dict[str, Any]]],
    folder: str,
    reason: str,
    actor: str,
) -> tuple[dict[str, int], Path]:
    """Holding every key's lock (in one order: no deadlock), pick one version above each key's
    highest, save once and insert every row as staging; ``({crypto_id: model_id}, path)``."""
    keys = sorted(key for key, _ in prepared.values())
    existing: set[str] = set()
    for key in keys:
        lock_key(conn, key)
        existing.update(versions(conn, key))
    ver = next_version(sorted(existing))
    with saved_artifact(save, artifact_root, keys[0][1], folder, keys[0][2], ver) as artifact:
        ids = {
            crypto_id: insert_model(conn, ver, {**values, **artifact}, "staging", reason, actor)
            for crypto_id, (_, values) in prepared.items()
        }
        return ids, artifact_root / artifact["artifact_path"]
