"""The model registry: versions, stages, integrity, lineage and an audit trail, on SQLAlchemy Core.

Stages go ``staging -> production -> archived``. For each key ``(crypto_id, model_type, horizon)``
at most one model is in production: promotion archives the previous one in the same transaction,
and a partial unique index makes the database refuse a second production row whatever the code
does. Every stage change (and every promotion-gate decision) is appended to ``stage_history``.

A version is of one of two kinds (:mod:`~cryptoforecast.registry.kinds`), stored in its ``kind``
column: a point model, or a distribution (model_type ``distribution``, its scale model named in
its config). Lookups keep them apart: :meth:`ModelRegistry.get_production_model` returns point
models only, :meth:`ModelRegistry.get_production_distribution` the distribution only, and
:meth:`ModelRegistry.list_models` filters on ``kind``.

Storage: SQLite at ``$CRYPTOFORECAST_HOME/registry.db`` (WAL, busy timeout, ``BEGIN IMMEDIATE``
for writes) unless ``url=`` or ``$CRYPTOFORECAST_REGISTRY_URL`` names another database, e.g.
``postgresql+psycopg://user:pass@host/db`` (writes lock their key with an advisory lock).
Transient conflicts ("database is locked", serialization failures, deadlocks) are retried with
exponential backoff. Nothing connects until the first call.

Artifacts live under the artifact root (default ``$CRYPTOFORECAST_HOME/artifacts``); paths are
stored relative to it, with the sha256 of every file, verified by :meth:`ModelRecord.verify`
(``cryptoforecast.models.load_registered`` verifies, then loads).

:class:`ModelRegistry` is composed, not inherited: it holds a
:class:`~cryptoforecast.registry.database.RegistryDatabase` (engine, retried transactions,
schema) and each public method runs the row functions of :mod:`~cryptoforecast.registry.rows`
and :mod:`~cryptoforecast.registry.registration` in one transaction of it.
"""

from __future__ import annotations

import difflib
import getpass
import math
import os
import shutil
import socket
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.paths import home_dir
from cryptoforecast.redaction import describe_url
from cryptoforecast.registry.database import (
    RegistryDatabase,
    default_registry_url,
    lock_key,
)
from cryptoforecast.registry.integrity import (
    check_artifact_manifest,
    hash_artifact,
    resolve_artifact,
)
from cryptoforecast.registry.kinds import DISTRIBUTION, kind_of
from cryptoforecast.registry.record import ModelRecord, StageEvent, validation_mase
from cryptoforecast.registry.registration import (
    register_into,
    register_path,
    register_shared_into,
)
from cryptoforecast.registry.rows import (
    current_production,
    get_row,
    locked_row,
    log_gate_decision,
    new_row,
    promote_row,
    set_status,
    to_record,
)
from cryptoforecast.registry.schema import STAGES, models, stage_history
from cryptoforecast.registry.values import (
    MAX_MODEL_ID,
    norm_crypto,
    norm_horizon,
    norm_kind,
    norm_type,
)

__all__ = ["ACTOR_ENV", "ModelRegistry"]

T = TypeVar("T")

ACTOR_ENV = "CRYPTOFORECAST_ACTOR"


def _default_actor() -> str:
    actor = os.environ.get(ACTOR_ENV)
    if actor:
        return actor
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"


def _where_key(
    stmt: sa.Select[Any],
    table: sa.Table,
    crypto_id: str | None,
    model_type: str | None,
    horizon: int | None,
) -> sa.Select[Any]:
    """``stmt`` narrowed to the key parts given (``None``: any)."""
    if crypto_id is not None:
        stmt = stmt.where(table.c.crypto_id == norm_crypto(crypto_id))
    if model_type is not None:
        stmt = stmt.where(table.c.model_type == norm_type(model_type))
    if horizon is not None:
        stmt = stmt.where(table.c.horizon == norm_horizon(horizon))
    return stmt


def _apply_gate(
    conn: Connection,
    model_id: int,
    key: tuple[str, str, int],
    verdict: tuple[bool, str],
    retire_on_fail: bool,
    who: str,
) -> None:
    """Record a new model's promotion-gate decision and promote it on a pass; with
    ``retire_on_fail``, a failure archives the key's production model (its retrained successor
    did not confirm the edge). Runs inside the caller's transaction."""
    passed, gate_reason = verdict
    row = get_row(conn, model_id, for_update=True)
    log_gate_decision(conn, row, passed, gate_reason, who)
    if passed:
        promote_row(conn, row, f"promotion gate passed: {gate_reason}", who, "promote", force=False)
        return
    current = current_production(conn, key) if retire_on_fail else None
    if current is not None:
        why = f"retired: its retrained successor {model_id} failed the gate on newer data"
        set_status(conn, current, "archived", "archive", why, who)


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
        url = url or default_registry_url()
        self.artifact_root = (
            Path(
                artifact_root if artifact_root is not None else home_dir(create=False) / "artifacts"
            )
            .expanduser()
            .resolve()
        )
        self.actor = actor or _default_actor()
        self.db = RegistryDatabase(
            url, max_attempts=max_attempts, busy_timeout=busy_timeout, label=self._label(url)
        )

    def _label(self, url: str) -> str:
        return (
            f"ModelRegistry(url={describe_url(url)!r}, artifact_root={str(self.artifact_root)!r})"
        )

    def __repr__(self) -> str:
        return self._label(self.url)

    @property
    def url(self) -> str:
        """The database's SQLAlchemy URL."""
        return self.db.url

    @property
    def max_attempts(self) -> int:
        """How many times a write is tried on a transient conflict."""
        return self.db.max_attempts

    @property
    def busy_timeout(self) -> float:
        """Seconds SQLite waits for a lock."""
        return self.db.busy_timeout

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, created on first use."""
        return self.db.engine

    def close(self) -> None:
        """Dispose of the connection pool (the registry reconnects if used again)."""
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, row: Any) -> ModelRecord:
        return to_record(row, self.artifact_root)

    def _write_saving(self, work: Callable[[Connection, list[Path]], T], what: str) -> T:
        """``work(conn, saved)`` in one write transaction; every directory it saved (listed in
        ``saved``) is removed if the transaction fails, and those of retried attempts are
        removed once it commits (each attempt saves one directory; the last one is kept)."""
        saved: list[Path] = []
        try:
            result = self.db.write(lambda conn: work(conn, saved), what)
        except BaseException:
            for path in saved:
                shutil.rmtree(path, ignore_errors=True)
                self._remove_empty_parents(path)
            raise
        for path in saved[:-1]:
            shutil.rmtree(path, ignore_errors=True)
        return result

    def _remove_empty_parents(self, path: Path) -> None:
        """Remove the directories above ``path`` that a failed save left empty, up to (not
        including) the artifact root; one another trainer is using stays (it is not empty)."""
        root = self.artifact_root.resolve()
        for parent in path.resolve().parents:
            if parent == root or root not in parent.parents:
                return
            try:
                parent.rmdir()
            except OSError:  # not empty (another model's), or gone already
                return

    # ------------------------------------------------------------------ public API: registration
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
        force: bool = False,
    ) -> int:
        """Register a saved model and return its ``model_id``.

        ``model_path`` (a model directory or a single file) must be inside the artifact root,
        absolute or relative to it; the sha256 of every file is recorded. ``version=None``
        bumps the minor version of the key's highest numeric version (``1.0.0`` first); an
        explicit version that already exists for the key is refused. ``status="production"``
        promotes it in the same transaction (archiving the previous production model); a model
        registered by hand has no promotion-gate decision, so that needs ``force=True``, and the
        history records the override (without it a :class:`RegistryError` says so and nothing
        is stored).
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
        key, values = new_row(
            crypto_id, model_type, horizon, status, metrics, config, feature_importance, lineage
        )
        path, relpath = resolve_artifact(model_path, self.artifact_root)
        check_artifact_manifest(path)
        values.update(artifact_path=relpath, artifact_files=hash_artifact(path, self.artifact_root))
        who = actor or self.actor
        return self.db.write(
            lambda conn: register_path(
                conn, key, version, values, status, reason, who, force=force
            ),
            "register_model",
        )

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
        force: bool = False,
    ) -> int:
        """Save a new version of a key into the registry's layout and register it, atomically.

        Holding the key's write lock, the registry picks the next version, calls ``save(path)``
        with ``<artifact root>/<model_type>/<crypto_id>/h<h>/v<version>_<UTC time>``, hashes
        what was written and inserts the row in the same transaction. Concurrent trainers of one
        key queue on the lock, so versions never clash and nothing is retried. If saving or the
        insert fails, or what was saved holds a malformed ``manifest.json`` (as
        :meth:`register_model` refuses), the directory is removed and nothing is registered.
        ``status="production"`` needs ``force=True``, as in :meth:`register_model`. Returns the
        model_id.
        """
        key, values = new_row(
            crypto_id, model_type, horizon, status, metrics, config, feature_importance, lineage
        )
        who = actor or self.actor
        return self._write_saving(
            lambda conn, saved: register_into(
                conn, save, self.artifact_root, saved, key, values, status, reason, who, force=force
            ),
            "register_saved",
        )

    def register_with_decision(
        self,
        save: Callable[[Path], object],
        model_type: str,
        crypto_id: str,
        horizon: int = 1,
        *,
        passed: bool,
        gate_reason: str,
        retire_on_fail: bool = False,
        metrics: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        feature_importance: Mapping[str, float] | Any | None = None,
        lineage: Mapping[str, Any] | None = None,
        reason: str = "",
        actor: str | None = None,
    ) -> int:
        """Save and register a new version as staging (as :meth:`register_saved`), record its
        promotion-gate decision and, when it passed, promote it: all in one transaction.

        When the gate failed and ``retire_on_fail`` is set, the key's production model (if any)
        is archived in the same transaction: its retrained successor did not confirm its edge.
        If any step fails nothing is registered, recorded or promoted, and the saved directory
        is removed. Returns the model_id.
        """
        key, values = new_row(
            crypto_id, model_type, horizon, "staging", metrics, config, feature_importance, lineage
        )
        who = actor or self.actor

        def work(conn: Connection, saved: list[Path]) -> int:
            model_id = register_into(
                conn, save, self.artifact_root, saved, key, values, "staging", reason, who
            )
            _apply_gate(conn, model_id, key, (passed, gate_reason), retire_on_fail, who)
            return model_id

        return self._write_saving(work, "register_with_decision")

    def register_shared(
        self,
        save: Callable[[Path], object],
        model_type: str,
        rows: Mapping[str, Mapping[str, Any]],
        horizon: int = 1,
        *,
        artifact_key: str,
        decisions: Mapping[str, tuple[bool, str]] | None = None,
        retire_on_fail: bool = False,
        reason: str = "",
        actor: str | None = None,
    ) -> tuple[dict[str, int], Path]:
        """Save one artifact that serves several coins and register it once per coin, atomically.

        ``rows`` maps each crypto_id to its own record values (``metrics``, ``config``,
        ``feature_importance``, ``lineage``). Holding every key's write lock, the registry picks
        one version above each key's highest (the records share it), calls ``save(path)`` with
        ``<artifact root>/<model_type>/<artifact_key>/h<h>/v<version>_<UTC time>`` and inserts
        every row as staging. ``decisions`` maps a crypto_id to its promotion gate's
        ``(passed, reason)``: each is recorded and a pass promoted (a failure with
        ``retire_on_fail`` archives the key's production model), as in
        :meth:`register_with_decision`. All of it is one transaction: every row is registered
        with its decision or none is (and the directory is removed). Returns
        ``({crypto_id: model_id}, artifact path)``.
        """
        if not rows:
            raise RegistryError("register_shared needs at least one crypto_id in rows")
        prepared = {
            crypto_id: new_row(
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
        folder = norm_crypto(artifact_key)
        who = actor or self.actor
        unknown = sorted(set(decisions or {}) - set(rows))
        if unknown:
            raise RegistryError(
                f"register_shared got gate decisions for {unknown}, which have no row; pass one "
                "decision per crypto_id in rows"
            )

        def work(conn: Connection, saved: list[Path]) -> tuple[dict[str, int], Path]:
            ids, path = register_shared_into(
                conn, save, self.artifact_root, saved, prepared, folder, reason, who
            )
            for crypto_id, verdict in (decisions or {}).items():
                key = prepared[crypto_id][0]
                _apply_gate(conn, ids[crypto_id], key, verdict, retire_on_fail, who)
            return ids, path

        return self._write_saving(work, "register_shared")

    # ------------------------------------------------------------------ public API: stages
    def promote(
        self, model_id: int, reason: str = "", *, actor: str | None = None, force: bool = False
    ) -> ModelRecord:
        """Make ``model_id`` production for its key; the previous one is archived, atomically.

        Only a model whose latest promotion-gate decision passed is promoted without ``force``:
        one registered by hand (no decision) or whose latest decision failed is refused with a
        :class:`RegistryError` that says why; a forced promotion says so, with the gate's state,
        in the history. The check runs in the promoting transaction.
        """

        def work(conn: Connection) -> ModelRecord:
            row = locked_row(conn, model_id)
            promote_row(
                conn, row, reason or "promoted", actor or self.actor, "promote", force=force
            )
            return self._record(get_row(conn, model_id))

        return self.db.write(work, "promote")

    def demote(self, model_id: int, reason: str = "", *, actor: str | None = None) -> ModelRecord:
        """Put a production model back in staging; its key then has no production model (the
        service answers with the labelled fallback) until a promotion or rollback."""

        def work(conn: Connection) -> ModelRecord:
            row = locked_row(conn, model_id)
            if row.status != "production":
                raise RegistryError(
                    f"model {model_id} is {row.status}, not production; only a production model "
                    "can be demoted (see `cryptoforecast registry list --status production`)"
                )
            set_status(conn, row, "staging", "demote", reason or "demoted", actor or self.actor)
            return self._record(get_row(conn, model_id))

        return self.db.write(work, "demote")

    def archive(self, model_id: int, reason: str = "", *, actor: str | None = None) -> ModelRecord:
        """Archive a staging or production model (its key then has no production model)."""

        def work(conn: Connection) -> ModelRecord:
            row = locked_row(conn, model_id)
            if row.status == "archived":
                raise RegistryError(f"model {model_id} is already archived; nothing to do")
            set_status(conn, row, "archived", "archive", reason or "archived", actor or self.actor)
            return self._record(get_row(conn, model_id))

        return self.db.write(work, "archive")

    def rollback(
        self,
        crypto_id: str,
        model_type: str,
        horizon: int = 1,
        reason: str = "",
        *,
        actor: str | None = None,
        force: bool = False,
    ) -> ModelRecord:
        """Put the previous production model of the key back in production; return it.

        "Previous" follows the production history as a stack: promotions push, rollbacks and
        explicit archiving of a production model pop, so repeated rollbacks walk further back.
        Raises :class:`RegistryError` when there is no earlier production model, or when that
        model's latest promotion-gate decision did not pass (it was forced in, or a failed
        decision was recorded after its pass) and ``force`` is not set; a forced rollback
        records the override and the gate's state in the history.
        """
        key = (
            norm_crypto(crypto_id),
            norm_type(model_type),
            norm_horizon(horizon),
        )

        def work(conn: Connection) -> ModelRecord:
            lock_key(conn, key)
            current = current_production(conn, key)
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
            target = get_row(conn, stack[-1], for_update=True)
            why = reason or (
                f"rollback from model {current.model_id} ({current.version})"
                if current is not None
                else "rollback"
            )
            promote_row(conn, target, why, actor or self.actor, "rollback", force=force)
            return self._record(get_row(conn, target.model_id))

        return self.db.write(work, "rollback")

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
            row = locked_row(conn, model_id)
            log_gate_decision(conn, row, passed, reason, actor or self.actor)

        self.db.write(work, "record_gate_decision")

    def guard_demote(
        self, model_id: int, evidence: str, *, actor: str | None = None
    ) -> ModelRecord:
        """The live guard found production model ``model_id`` losing to naive: in one
        transaction, demote it to staging (a ``demote`` event whose reason is ``evidence``) and
        record a failed gate decision (``gate failed: live guard ...``), so that promoting it
        again needs ``force``. ``evidence`` should start with ``"live guard"``."""

        def work(conn: Connection) -> ModelRecord:
            row = locked_row(conn, model_id)
            if row.status != "production":
                raise RegistryError(
                    f"model {model_id} is {row.status}, not production; the live guard demotes "
                    "production models only"
                )
            who = actor or self.actor
            set_status(conn, row, "staging", "demote", evidence, who)
            log_gate_decision(conn, get_row(conn, model_id), False, evidence, who)
            return self._record(get_row(conn, model_id))

        return self.db.write(work, "guard_demote")

    # ------------------------------------------------------------------ public API: reads
    def change_stamp(self) -> int:
        """A number every committed write to this registry moves, from any process (one tiny
        query): equal stamps mean nothing was registered, promoted, demoted or archived in
        between, so what was read then still holds."""
        return self.db.change_stamp()

    def get(self, model_id: int) -> ModelRecord:
        """The record of ``model_id``; raises :class:`RegistryError` when it does not exist."""
        return self.db.read(lambda conn: self._record(get_row(conn, model_id)), "get")

    def list_models(
        self,
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
        status: str | None = None,
        kind: str | None = None,
    ) -> list[ModelRecord]:
        """Records matching every filter given, oldest first; ``kind`` is ``"point"`` or
        ``"distribution"`` (``None``: both)."""
        stmt = _where_key(
            sa.select(models).order_by(models.c.model_id), models, crypto_id, model_type, horizon
        )
        if status is not None:
            if status not in STAGES:
                raise RegistryError(f"status must be one of {', '.join(STAGES)}; got {status!r}")
            stmt = stmt.where(models.c.status == status)
        if kind is not None:
            stmt = stmt.where(models.c.kind == norm_kind(kind))
        return self.db.read(
            lambda conn: [self._record(r) for r in conn.execute(stmt)], "list_models"
        )

    def get_production_model(
        self, crypto_id: str, model_type: str | None = None, horizon: int = 1
    ) -> ModelRecord | None:
        """The production point model for the coin and horizon, or **None** when there is none.

        With ``model_type=None`` the production point model with the lowest validation MASE
        (see :func:`~cryptoforecast.registry.record.validation_mase`) across model types is
        returned; models without one rank last, ties go to the most recently updated. A
        distribution is never returned: asking for ``model_type="distribution"`` raises
        :class:`RegistryError` (see :meth:`get_production_distribution`).
        """
        if model_type is not None and kind_of(norm_type(model_type)) != "point":
            raise RegistryError(
                f"get_production_model looks up point models, got model_type {model_type!r}; "
                "the production distribution of a coin and horizon is "
                "get_production_distribution(crypto_id, horizon)"
            )
        found = self.list_models(crypto_id, model_type, horizon, status="production", kind="point")
        if not found:
            return None

        def rank(rec: ModelRecord) -> tuple[float, float]:
            mase = validation_mase(rec.metrics)
            return (mase if mase is not None else math.inf, -rec.updated_at.timestamp())

        return min(found, key=rank)

    def get_production_distribution(self, crypto_id: str, horizon: int) -> ModelRecord | None:
        """The production distribution version for the coin and horizon (whichever scale model
        it is, named in its ``config["distribution"]``), or **None** when there is none.

        There is at most one: every distribution version is registered under the model_type
        ``"distribution"``, and a key has at most one production row. A point model is never
        returned.
        """
        found = self.list_models(
            crypto_id, DISTRIBUTION, horizon, status="production", kind="distribution"
        )
        return found[-1] if found else None

    def history(
        self,
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
        model_id: int | None = None,
    ) -> list[StageEvent]:
        """Stage changes and gate decisions matching the filters, oldest first."""
        stmt = _where_key(
            sa.select(stage_history, models.c.version)
            .join(models, models.c.model_id == stage_history.c.model_id)
            .order_by(stage_history.c.event_id),
            stage_history,
            crypto_id,
            model_type,
            horizon,
        )
        if model_id is not None:
            if isinstance(model_id, bool) or not isinstance(model_id, int):
                raise RegistryError(f"model_id must be an integer, got {model_id!r:.40}")
            if not 1 <= model_id <= MAX_MODEL_ID:
                return []  # no such id can exist
            stmt = stmt.where(stage_history.c.model_id == model_id)

        def work(conn: Connection) -> list[StageEvent]:
            return [StageEvent(**dict(r._mapping)) for r in conn.execute(stmt)]

        return self.db.read(work, "history")
