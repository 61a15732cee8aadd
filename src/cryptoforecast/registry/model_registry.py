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
import math
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry.database import (
    ACTOR_ENV,
    REGISTRY_URL_ENV,
    default_registry_url,
)
from cryptoforecast.registry.record import ModelRecord, StageEvent, validation_mase
from cryptoforecast.registry.registration import RegistryWrites
from cryptoforecast.registry.schema import STAGES, models, stage_history
from cryptoforecast.registry.values import (
    MAX_MODEL_ID,
    norm_crypto,
    norm_horizon,
    norm_type,
)

__all__ = ["ACTOR_ENV", "REGISTRY_URL_ENV", "ModelRegistry", "default_registry_url"]


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


class ModelRegistry(RegistryWrites):
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
        stmt = _where_key(
            sa.select(models).order_by(models.c.model_id), models, crypto_id, model_type, horizon
        )
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

        return self._read(work, "history")
