"""Registry rows: functions of a connection that read rows as records, insert new rows (the key
already locked), and log every stage transition and gate decision in the append-only history.

They run inside a transaction opened by
:meth:`~cryptoforecast.registry.database.RegistryDatabase.write` (or ``read``); ``actor`` is
always the resolved name recorded in the history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry.admission import Entry, production_reason
from cryptoforecast.registry.database import lock_key
from cryptoforecast.registry.kinds import kind_of
from cryptoforecast.registry.lineage import compute_lineage
from cryptoforecast.registry.record import ModelRecord
from cryptoforecast.registry.schema import STAGES, models, stage_history
from cryptoforecast.registry.values import (
    MAX_MODEL_ID,
    jsonable,
    norm_crypto,
    norm_horizon,
    norm_type,
)

__all__ = [
    "current_production",
    "get_row",
    "insert_model",
    "locked_row",
    "log_event",
    "log_gate_decision",
    "new_row",
    "promote_row",
    "set_status",
    "to_record",
    "versions",
]


def to_record(row: Any, artifact_root: Path) -> ModelRecord:
    """The record of a ``models`` row, its artifact under ``artifact_root``."""
    m = row._mapping
    return ModelRecord(
        model_id=int(m["model_id"]),
        crypto_id=m["crypto_id"],
        model_type=m["model_type"],
        kind=m["kind"],
        horizon=int(m["horizon"]),
        version=m["version"],
        status=m["status"],
        metrics=dict(m["metrics"] or {}),
        config=dict(m["config"] or {}),
        lineage=dict(m["lineage"] or {}),
        feature_importance=dict(m["feature_importance"])
        if m["feature_importance"] is not None
        else None,
        artifact_path=artifact_root / m["artifact_path"],
        artifact_relpath=m["artifact_path"],
        artifact_files=dict(m["artifact_files"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        created_by=m["created_by"],
        artifact_root=artifact_root,
    )


def get_row(conn: Connection, model_id: int, *, for_update: bool = False) -> Any:
    """The ``models`` row of ``model_id``; raises :class:`RegistryError` when there is none."""
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


def locked_row(conn: Connection, model_id: int) -> Any:
    """The row of ``model_id`` read for update after its key is locked (the order every write
    to one model keeps, so two writers of one key never interleave)."""
    head = get_row(conn, model_id)
    lock_key(conn, (head.crypto_id, head.model_type, head.horizon))
    return get_row(conn, model_id, for_update=True)


def log_event(
    conn: Connection,
    row: Any,
    event: str,
    from_status: str | None,
    to_status: str,
    reason: str,
    actor: str,
    now: datetime,
) -> None:
    """Append one event about ``row`` to ``stage_history``."""
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
            actor=actor,
            at=now,
        )
    )


def log_gate_decision(conn: Connection, row: Any, passed: bool, reason: str, actor: str) -> None:
    """Append a promotion-gate decision about ``row`` (its stage unchanged)."""
    verdict = "gate passed" if passed else "gate failed"
    text = f"{verdict}: {reason}" if reason else verdict
    log_event(conn, row, "gate", row.status, row.status, text, actor, datetime.now(UTC))


def set_status(conn: Connection, row: Any, to: str, event: str, reason: str, actor: str) -> None:
    """Move ``row`` to stage ``to`` and log the transition."""
    now = datetime.now(UTC)
    conn.execute(
        sa.update(models).where(models.c.model_id == row.model_id).values(status=to, updated_at=now)
    )
    log_event(conn, row, event, row.status, to, reason, actor, now)


def current_production(conn: Connection, key: tuple[str, str, int]) -> Any:
    """The key's production row (locked for update), or ``None``."""
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


def promote_row(
    conn: Connection,
    row: Any,
    reason: str,
    actor: str,
    event: str,
    *,
    force: bool,
    entry: Entry | None = None,
) -> None:
    """Archive the key's current production model (if any), then promote ``row`` (the key is
    locked). Only a model whose latest gate decision passed enters without ``force``
    (:func:`~cryptoforecast.registry.admission.production_reason`); ``entry`` names the way in
    for the refusal's fix (default: ``event``)."""
    key = (row.crypto_id, row.model_type, row.horizon)
    current = current_production(conn, key)
    if current is not None and current.model_id == row.model_id:
        raise RegistryError(
            f"model {row.model_id} ({row.model_type} {row.version}) is already the production "
            f"model for {row.crypto_id} h={row.horizon}; nothing to promote"
        )
    way: Entry = entry or ("rollback" if event == "rollback" else "promote")
    reason = production_reason(conn, row, reason, force=force, entry=way)
    if current is not None:
        why = f"replaced by model {row.model_id} ({row.version})"
        set_status(
            conn,
            current,
            "archived",
            "rollback" if event == "rollback" else "supersede",
            why,
            actor,
        )
    set_status(conn, row, "production", event, reason, actor)


def new_row(
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
        "kind": kind_of(key[1]),
        "horizon": key[2],
        "metrics": jsonable(dict(metrics or {})),
        "config": jsonable(dict(config or {})),
        "lineage": jsonable(dict(lineage)),
        "feature_importance": jsonable(feature_importance)
        if feature_importance is not None
        else None,
    }


def versions(conn: Connection, key: tuple[str, str, int]) -> list[str]:
    """Every version registered for ``key``."""
    return list(
        conn.execute(
            sa.select(models.c.version).where(
                models.c.crypto_id == key[0],
                models.c.model_type == key[1],
                models.c.horizon == key[2],
            )
        ).scalars()
    )


def insert_model(
    conn: Connection,
    version: str,
    values: dict[str, Any],
    status: str,
    reason: str,
    actor: str,
    *,
    force: bool = False,
) -> int:
    """Insert a new model row (the key is locked) and promote it if ``status`` says so (a new
    row has no gate decision: production needs ``force``)."""
    now = datetime.now(UTC)
    initial = "archived" if status == "archived" else "staging"
    model_id = conn.execute(
        sa.insert(models)
        .values(
            version=version,
            status=initial,
            created_at=now,
            updated_at=now,
            created_by=actor,
            **values,
        )
        .returning(models.c.model_id)
    ).scalar_one()
    row = get_row(conn, model_id)
    log_event(conn, row, "register", None, initial, reason or "registered", actor, now)
    if status == "production":
        promote_row(
            conn,
            row,
            reason or "registered as production",
            actor,
            "promote",
            force=force,
            entry="register",
        )
    return int(model_id)
