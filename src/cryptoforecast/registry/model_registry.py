"""The model registry: versions, stages, integrity, lineage and an audit trail, on SQLAlchemy Core.

Stages go ``staging -> production -> archived``. For each key ``(crypto_id, model_type, horizon)``
at most one model is in production: promotion archives the previous one in the same transaction,
and a partial unique index makes the database refuse a second production row whatever the code
does. Every stage change (and every promotion-gate decision) is appended to ``stage_history``.

Storage: SQLite at ``$CRYPTOFORECAST_HOME/registry.db`` (WAL, busy timeout, ``BEGIN IMMEDIATE``
for writes) unless ``url=`` or ``$CRYPTOFORECAST_REGISTRY_URL`` names another database, e.g.
``postgresql+psycopg://user:pass@host/db`` (writes lock their key with an advisory lock).
Transient conflicts ("database is locked", serialization failures, deadlocks) are retried with
exponential backoff. Nothing connects until the first call.

Artifacts live under the artifact root (default ``$CRYPTOFORECAST_HOME/artifacts``); paths are
stored relative to it, with the sha256 of every file, verified by :meth:`ModelRecord.verify`
(``cryptoforecast.models.load_registered`` verifies, then loads).
"""

from __future__ import annotations

import difflib
import getpass
import hashlib
import math
import os
import random
import shutil
import socket
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.paths import home_dir
from cryptoforecast.redaction import mask_url, password_of, redact
from cryptoforecast.registry.engine import make_engine, parse_url
from cryptoforecast.registry.integrity import hash_artifact, resolve_artifact
from cryptoforecast.registry.lineage import compute_lineage
from cryptoforecast.registry.record import ModelRecord, StageEvent, validation_mase
from cryptoforecast.registry.schema import STAGES, create_schema, models, stage_history
from cryptoforecast.registry.values import (
    MAX_MODEL_ID,
    jsonable,
    next_version,
    norm_crypto,
    norm_horizon,
    norm_type,
)

__all__ = ["ACTOR_ENV", "REGISTRY_URL_ENV", "ModelRegistry", "default_registry_url"]

REGISTRY_URL_ENV = "CRYPTOFORECAST_REGISTRY_URL"
ACTOR_ENV = "CRYPTOFORECAST_ACTOR"
_SCHEMA_LOCK_ID = 0x43460000  # advisory lock id for schema creation on PostgreSQL
_TRANSIENT_PG = {"40001", "40P01", "55P03", "23505"}
T = TypeVar("T")


def default_registry_url() -> str:
    """``$CRYPTOFORECAST_REGISTRY_URL`` or SQLite at ``$CRYPTOFORECAST_HOME/registry.db``."""
    url = os.environ.get(REGISTRY_URL_ENV)
    if url:
        return url
    return f"sqlite:///{home_dir(create=False) / 'registry.db'}"


def _default_actor() -> str:
    actor = os.environ.get(ACTOR_ENV)
    if actor:
        return actor
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


class ModelRegistry:
    """Registry of trained models on any SQLAlchemy database (SQLite by default).

    Parameters
    ----------
    url
        SQLAlchemy URL. Default: ``$CRYPTOFORECAST_REGISTRY_URL``, else SQLite at
        ``$CRYPTOFORECAST_HOME/registry.db``.
    artifact_root
        Directory every registered artifact must live in. Default
        ``$CRYPTOFORECAST_HOME/artifacts``.
    actor
        Who is recorded in ``stage_history`` (default ``$CRYPTOFORECAST_ACTOR`` or user@host).
    max_attempts
        How many times a write is tried when the database reports a transient conflict.
    busy_timeout
        Seconds SQLite waits for a lock before reporting "database is locked".
    """

    def __init__(
        self,
        url: str | None = None,
        artifact_root: str | os.PathLike[str] | None = None,
        *,
        actor: str | None = None,
        max_attempts: int = 60,
        busy_timeout: float = 30.0,
    ) -> None:
        self.url = url or default_registry_url()
        self.artifact_root = (
            Path(
                artifact_root if artifact_root is not None else home_dir(create=False) / "artifacts"
            )
            .expanduser()
            .resolve()
        )
        self.actor = actor or _default_actor()
        self.max_attempts = max_attempts
        self.busy_timeout = busy_timeout
        self._engine: Engine | None = None
        self._schema_ready = False

    def __repr__(self) -> str:
        return (
            f"ModelRegistry(url={mask_url(self.url)!r}, artifact_root={str(self.artifact_root)!r})"
        )

    # ------------------------------------------------------------------ connection plumbing
    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, created on first use."""
        if self._engine is None:
            self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> Engine:
        url = parse_url(self.url, "registry", REGISTRY_URL_ENV)
        if url.get_backend_name() != "sqlite":
            return make_engine(self.url, "registry", REGISTRY_URL_ENV, pool_pre_ping=True)
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(
            self.url, "registry", REGISTRY_URL_ENV, connect_args={"timeout": self.busy_timeout}
        )
        busy_ms = int(self.busy_timeout * 1000)

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout = {busy_ms}")
            cur.execute("PRAGMA foreign_keys = ON")
            for _ in range(50):  # switching to WAL needs a brief exclusive lock
                try:
                    cur.execute("PRAGMA journal_mode = WAL")
                    break
                except Exception as exc:  # sqlite3.OperationalError: database is locked
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                    time.sleep(0.05)
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get("cf_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def close(self) -> None:
        """Dispose of the connection pool (the registry reconnects if used again)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> ModelRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _is_transient(self, exc: sa.exc.DBAPIError) -> bool:
        sqlstate = getattr(exc.orig, "sqlstate", None)
        if sqlstate in _TRANSIENT_PG:
            return True
        text = str(exc.orig).lower()
        return isinstance(exc, sa.exc.OperationalError | sa.exc.IntegrityError) and (
            "database is locked" in text
            or "database is busy" in text
            or "unique constraint" in text
        )

    def _transaction(self, fn: Callable[[Connection], T], *, write: bool, what: str) -> T:
        """Run ``fn`` in one transaction, retrying transient conflicts with backoff."""
        delay = 0.005
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.engine.connect() as conn:
                    conn.execution_options(cf_write=write)
                    with conn.begin():
                        return fn(conn)
            except sa.exc.DBAPIError as exc:
                if not self._is_transient(exc) or attempt == self.max_attempts:
                    raise RegistryError(
                        f"registry {what} failed on {self!r} after {attempt} attempt(s): "
                        f"{type(exc.orig).__name__}: "
                        f"{redact(str(exc.orig).strip(), password_of(self.url))}. Check that the "
                        "database is reachable and writable."
                    ) from None
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.5)
        raise AssertionError("unreachable")  # pragma: no cover

    def _write(self, fn: Callable[[Connection], T], what: str) -> T:
        self._ensure_schema()
        return self._transaction(fn, write=True, what=what)

    def _read(self, fn: Callable[[Connection], T], what: str) -> T:
        self._ensure_schema()
        return self._transaction(fn, write=False, what=what)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return

        def create(conn: Connection) -> int:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK_ID})
            return create_schema(conn)

        self._transaction(create, write=True, what="schema creation")
        self._schema_ready = True

    @staticmethod
    def _lock_key(conn: Connection, key: tuple[str, str, int]) -> None:
        """Serialize writers of one key. SQLite writers already hold the database write lock."""
        if conn.dialect.name == "postgresql":
            digest = hashlib.sha256(repr(key).encode()).digest()
            lock_id = int.from_bytes(digest[:8], "big", signed=True)
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id})

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

    # ------------------------------------------------------------------ rows -> records
    def _record(self, row: Any) -> ModelRecord:
        m = row._mapping
        return ModelRecord(
            model_id=int(m["model_id"]),
            crypto_id=m["crypto_id"],
            model_type=m["model_type"],
            horizon=int(m["horizon"]),
            version=m["version"],
            status=m["status"],
            metrics=dict(m["metrics"] or {}),
            config=dict(m["config"] or {}),
            lineage=dict(m["lineage"] or {}),
            feature_importance=dict(m["feature_importance"])
            if m["feature_importance"] is not None
            else None,
            artifact_path=self.artifact_root / m["artifact_path"],
            artifact_relpath=m["artifact_path"],
            artifact_files=dict(m["artifact_files"]),
            created_at=m["created_at"],
            updated_at=m["updated_at"],
            created_by=m["created_by"],
            artifact_root=self.artifact_root,
        )

    @staticmethod
    def _row(conn: Connection, model_id: int, *, for_update: bool = False) -> Any:
        if isinstance(model_id, bool) or not isinstance(model_id, int):
            raise RegistryError(f"model_id must be an integer, got {model_id!r:.40}")
        if not 1 <= model_id <= MAX_MODEL_ID:  # the database cannot even hold such an id
            raise RegistryError(
                f"no model with id {str(model_id)[:40]} in the registry (ids run from 1 to "
                f"{MAX_MODEL_ID}); list them with `cryptoforecast registry list`"
            )
        stmt = sa.select(models).where(models.c.model_id == model_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = conn.execute(stmt).first()
        if row is None:
            raise RegistryError(
                f"no model with id {model_id} in the registry; "
                "list them with `cryptoforecast registry list`"
            )
        return row

    def _log(
        self,
        conn: Connection,
        row: Any,
        event: str,
        from_status: str | None,
        to_status: str,
        reason: str,
        actor: str | None,
        now: datetime,
    ) -> None:
        m = row._mapping
        conn.execute(
            sa.insert(stage_history).values(
                model_id=m["model_id"],
                crypto_id=m["crypto_id"],
                model_type=m["model_type"],
                horizon=m["horizon"],
                event=event,
                from_status=from_status,
                to_status=to_status,
                reason=reason or "",
                actor=actor or self.actor,
                at=now,
            )
        )

    def _set_status(
        self, conn: Connection, row: Any, to: str, event: str, reason: str, actor: str | None
    ) -> None:
        now = datetime.now(UTC)
        conn.execute(
            sa.update(models)
            .where(models.c.model_id == row.model_id)
            .values(status=to, updated_at=now)
        )
        self._log(conn, row, event, row.status, to, reason, actor, now)

    @staticmethod
    def _current_production(conn: Connection, key: tuple[str, str, int]) -> Any:
        return conn.execute(
            sa.select(models)
            .where(
                models.c.crypto_id == key[0],
                models.c.model_type == key[1],
                models.c.horizon == key[2],
                models.c.status == "production",
            )
            .with_for_update()
        ).first()

    def _promote_locked(
        self, conn: Connection, row: Any, reason: str, actor: str | None, event: str
    ) -> None:
        """Archive the key's current production model (if any), then promote ``row``."""
        key = (row.crypto_id, row.model_type, row.horizon)
        current = self._current_production(conn, key)
        if current is not None and current.model_id == row.model_id:
            raise RegistryError(
                f"model {row.model_id} ({row.model_type} {row.version}) is already the production "
                f"model for {row.crypto_id} h={row.horizon}; nothing to promote"
            )
        if current is not None:
            why = f"replaced by model {row.model_id} ({row.version})"
            self._set_status(
                conn,
                current,
                "archived",
                "rollback" if event == "rollback" else "supersede",
                why,
                actor,
            )
        self._set_status(conn, row, "production", event, reason, actor)

    # ------------------------------------------------------------------ public API: writes
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
        Non-finite metric values are stored as null. :meth:`register_saved` also picks the
        artifact's path.
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
        insert fails, the directory is removed and nothing is registered. Returns the model_id.
        """
        key, values = self._new_row(
            crypto_id, model_type, horizon, status, metrics, config, feature_importance, lineage
        )

        def work(conn: Connection) -> int:
            self._lock_key(conn, key)
            ver = next_version(self._versions(conn, key))
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            path = self.artifact_root / key[1] / key[0] / f"h{key[2]}" / f"v{ver}_{stamp}"
            try:
                save(path)
                path, relpath = resolve_artifact(path, self.artifact_root)
                files = hash_artifact(path, self.artifact_root)
                row = {**values, "artifact_path": relpath, "artifact_files": files}
                return self._insert(conn, ver, row, status, reason, actor)
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise

        return self._write(work, "register_saved")

    def _new_row(
        self,
        crypto_id: str | None,
        model_type: str,
        horizon: int,
        status: str,
        metrics: Mapping[str, Any] | None,
        config: Mapping[str, Any] | None,
        feature_importance: Mapping[str, float] | Any | None,
        lineage: Mapping[str, Any] | None,
    ) -> tuple[tuple[str, str, int], dict[str, Any]]:
        """The checked key and the column values of a new model (without its artifact)."""
        key = (
            norm_crypto(crypto_id),
            norm_type(model_type),
            norm_horizon(horizon),
        )
        if status not in STAGES:
            raise RegistryError(f"status must be one of {', '.join(STAGES)}; got {status!r}")
        for name, value in (("metrics", metrics), ("config", config), ("lineage", lineage)):
            if value is not None and not isinstance(value, Mapping):
                raise RegistryError(
                    f"{name} must be a mapping (dict), got {type(value).__name__}: {value!r}"
                )
        if lineage is None:
            lineage = compute_lineage(config=config)
        return key, {
            "crypto_id": key[0],
            "model_type": key[1],
            "horizon": key[2],
            "metrics": jsonable(dict(metrics or {})),
            "config": jsonable(dict(config or {})),
            "lineage": jsonable(dict(lineage)),
            "feature_importance": jsonable(feature_importance)
            if feature_importance is not None
            else None,
        }

    @staticmethod
    def _versions(conn: Connection, key: tuple[str, str, int]) -> list[str]:
        return list(
            conn.execute(
                sa.select(models.c.version).where(
                    models.c.crypto_id == key[0],
                    models.c.model_type == key[1],
                    models.c.horizon == key[2],
                )
            ).scalars()
        )

    def _insert(
        self,
        conn: Connection,
        version: str,
        values: dict[str, Any],
        status: str,
        reason: str,
        actor: str | None,
    ) -> int:
        """Insert a new model row (the key is locked) and promote it if ``status`` says so."""
        now = datetime.now(UTC)
        initial = "archived" if status == "archived" else "staging"
        model_id = conn.execute(
            sa.insert(models)
            .values(
                version=version,
                status=initial,
                created_at=now,
                updated_at=now,
                created_by=actor or self.actor,
                **values,
            )
            .returning(models.c.model_id)
        ).scalar_one()
        row = self._row(conn, model_id)
        self._log(conn, row, "register", None, initial, reason or "registered", actor, now)
        if status == "production":
            self._promote_locked(conn, row, reason or "registered as production", actor, "promote")
        return int(model_id)

    @staticmethod
    def _gate_failure(conn: Connection, model_id: int) -> str | None:
        """The reason of the model's latest gate decision when it failed, else ``None``."""
        last = conn.execute(
            sa.select(stage_history.c.reason)
            .where(stage_history.c.model_id == model_id, stage_history.c.event == "gate")
            .order_by(stage_history.c.event_id.desc())
            .limit(1)
        ).first()
        return last.reason if last is not None and last.reason.startswith("gate failed") else None

    def promote(
        self, model_id: int, reason: str = "", *, actor: str | None = None, force: bool = False
    ) -> ModelRecord:
        """Make ``model_id`` production for its key; the previous one is archived, atomically.

        A model whose latest promotion-gate decision failed is refused unless ``force`` is set;
        a forced promotion says so, with the gate's reason, in the history.
        """

        def work(conn: Connection) -> ModelRecord:
            head = self._row(conn, model_id)
            self._lock_key(conn, (head.crypto_id, head.model_type, head.horizon))
            row = self._row(conn, model_id, for_update=True)
            why = reason or "promoted"
            failure = self._gate_failure(conn, model_id)
            if failure is not None and not force:
                raise RegistryError(
                    f"model {model_id} ({row.crypto_id} {row.model_type} h={row.horizon} "
                    f"{row.version}) did not pass the promotion gate ({failure}); promote it "
                    "anyway with force=True (CLI: --force), and the history records the override"
                )
            if failure is not None:
                why = f"{why} (forced past the promotion gate: {failure})"
            self._promote_locked(conn, row, why, actor, "promote")
            return self._record(self._row(conn, model_id))

        return self._write(work, "promote")

    def demote(self, model_id: int, reason: str = "", *, actor: str | None = None) -> ModelRecord:
        """Put a production model back in staging; its key then has no production model (the
        service answers with the labelled fallback) until a promotion or rollback."""

        def work(conn: Connection) -> ModelRecord:
            head = self._row(conn, model_id)
            self._lock_key(conn, (head.crypto_id, head.model_type, head.horizon))
            row = self._row(conn, model_id, for_update=True)
            if row.status != "production":
                raise RegistryError(
                    f"model {model_id} is {row.status}, not production; only a production model "
                    "can be demoted (see `cryptoforecast registry list --status production`)"
                )
            self._set_status(conn, row, "staging", "demote", reason or "demoted", actor)
            return self._record(self._row(conn, model_id))

        return self._write(work, "demote")

    def archive(self, model_id: int, reason: str = "", *, actor: str | None = None) -> ModelRecord:
        """Archive a staging or production model (its key then has no production model)."""

        def work(conn: Connection) -> ModelRecord:
            head = self._row(conn, model_id)
            self._lock_key(conn, (head.crypto_id, head.model_type, head.horizon))
            row = self._row(conn, model_id, for_update=True)
            if row.status == "archived":
                raise RegistryError(f"model {model_id} is already archived; nothing to do")
            self._set_status(conn, row, "archived", "archive", reason or "archived", actor)
            return self._record(self._row(conn, model_id))

        return self._write(work, "archive")

    def rollback(
        self,
        crypto_id: str,
        model_type: str,
        horizon: int = 1,
        reason: str = "",
        *,
        actor: str | None = None,
    ) -> ModelRecord:
        """Put the previous production model of the key back in production; return it.

        "Previous" follows the production history as a stack: promotions push, rollbacks and
        explicit archiving of a production model pop, so repeated rollbacks walk further back.
        Raises :class:`RegistryError` when there is no earlier production model.
        """
        key = (
            norm_crypto(crypto_id),
            norm_type(model_type),
            norm_horizon(horizon),
        )

        def work(conn: Connection) -> ModelRecord:
            self._lock_key(conn, key)
            current = self._current_production(conn, key)
            events = conn.execute(
                sa.select(
                    stage_history.c.model_id,
                    stage_history.c.event,
                    stage_history.c.from_status,
                    stage_history.c.to_status,
                )
                .where(
                    stage_history.c.crypto_id == key[0],
                    stage_history.c.model_type == key[1],
                    stage_history.c.horizon == key[2],
                )
                .order_by(stage_history.c.event_id)
            ).all()
            stack: list[int] = []
            for ev in events:
                if ev.to_status == "production":
                    stack = [m for m in stack if m != ev.model_id] + [ev.model_id]
                elif ev.from_status == "production" and ev.event in (
                    "archive",
                    "rollback",
                    "demote",
                ):
                    stack = [m for m in stack if m != ev.model_id]
            if current is not None:
                stack = [m for m in stack if m != current.model_id]
            if not events and current is None:
                self._refuse_unknown_key(conn, key)
            if not stack:
                raise RegistryError(
                    "no earlier production model to roll back to for "
                    f"{key[0]} {key[1]} h={key[2]}; "
                    "see `cryptoforecast registry history` and promote a model explicitly"
                )
            target = self._row(conn, stack[-1], for_update=True)
            why = reason or (
                f"rollback from model {current.model_id} ({current.version})"
                if current is not None
                else "rollback"
            )
            self._promote_locked(conn, target, why, actor, "rollback")
            return self._record(self._row(conn, target.model_id))

        return self._write(work, "rollback")

    @staticmethod
    def _refuse_unknown_key(conn: Connection, key: tuple[str, str, int]) -> None:
        """Raise naming the closest registered keys: nothing was ever registered for ``key``."""
        keys = conn.execute(
            sa.select(models.c.crypto_id, models.c.model_type, models.c.horizon).distinct()
        ).all()
        known = sorted({f"{c} {m} h={h}" for c, m, h in keys})
        wanted = f"{key[0]} {key[1]} h={key[2]}"
        close = difflib.get_close_matches(wanted, known, n=3, cutoff=0.5)
        hint = (
            f"did you mean {' or '.join(close)}?"
            if close
            else f"registered: {', '.join(known[:10]) or 'nothing yet'}"
        )
        raise RegistryError(
            f"no earlier production model to roll back to: no model was ever registered for "
            f"{wanted}; {hint}"
        )

    def record_gate_decision(
        self, model_id: int, passed: bool, reason: str, *, actor: str | None = None
    ) -> None:
        """Append a promotion-gate decision for ``model_id`` to the history (stage unchanged).

        The training pipeline calls this to record why a model stayed in staging (or passed).
        """

        def work(conn: Connection) -> None:
            head = self._row(conn, model_id)
            self._lock_key(conn, (head.crypto_id, head.model_type, head.horizon))
            row = self._row(conn, model_id, for_update=True)
            verdict = "gate passed" if passed else "gate failed"
            text = f"{verdict}: {reason}" if reason else verdict
            self._log(conn, row, "gate", row.status, row.status, text, actor, datetime.now(UTC))

        self._write(work, "record_gate_decision")

    # ------------------------------------------------------------------ public API: reads
    def get(self, model_id: int) -> ModelRecord:
        """The record of ``model_id``; raises :class:`RegistryError` when it does not exist."""
        return self._read(lambda conn: self._record(self._row(conn, model_id)), "get")

    def list_models(
        self,
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
        status: str | None = None,
    ) -> list[ModelRecord]:
        """Records matching every filter given, oldest first."""
        stmt = sa.select(models).order_by(models.c.model_id)
        if crypto_id is not None:
            stmt = stmt.where(models.c.crypto_id == norm_crypto(crypto_id))
        if model_type is not None:
            stmt = stmt.where(models.c.model_type == norm_type(model_type))
        if horizon is not None:
            stmt = stmt.where(models.c.horizon == norm_horizon(horizon))
        if status is not None:
            if status not in STAGES:
                raise RegistryError(f"status must be one of {', '.join(STAGES)}; got {status!r}")
            stmt = stmt.where(models.c.status == status)
        return self._read(lambda conn: [self._record(r) for r in conn.execute(stmt)], "list_models")

    def get_production_model(
        self, crypto_id: str, model_type: str | None = None, horizon: int = 1
    ) -> ModelRecord | None:
        """The production model for the coin and horizon, or **None** when there is none.

        With ``model_type=None`` the production model with the lowest validation MASE (see
        :func:`~cryptoforecast.registry.record.validation_mase`) across model types is returned;
        models without one rank last, ties go to the most recently updated.
        """
        found = self.list_models(crypto_id, model_type, horizon, status="production")
        if not found:
            return None

        def rank(rec: ModelRecord) -> tuple[float, float]:
            mase = validation_mase(rec.metrics)
            return (mase if mase is not None else math.inf, -rec.updated_at.timestamp())

        return min(found, key=rank)

    def history(
        self,
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
        model_id: int | None = None,
    ) -> list[StageEvent]:
        """Stage changes and gate decisions matching the filters, oldest first."""
        stmt = (
            sa.select(stage_history, models.c.version)
            .join(models, models.c.model_id == stage_history.c.model_id)
            .order_by(stage_history.c.event_id)
        )
        if crypto_id is not None:
            stmt = stmt.where(stage_history.c.crypto_id == norm_crypto(crypto_id))
        if model_type is not None:
            stmt = stmt.where(stage_history.c.model_type == norm_type(model_type))
        if horizon is not None:
            stmt = stmt.where(stage_history.c.horizon == norm_horizon(horizon))
        if model_id is not None:
            if isinstance(model_id, bool) or not isinstance(model_id, int):
                raise RegistryError(f"model_id must be an integer, got {model_id!r:.40}")
            if not 1 <= model_id <= MAX_MODEL_ID:
                return []  # no such id can exist
            stmt = stmt.where(stage_history.c.model_id == model_id)

        def work(conn: Connection) -> list[StageEvent]:
            return [StageEvent(**dict(r._mapping)) for r in conn.execute(stmt)]

        return self._read(work, "history")
