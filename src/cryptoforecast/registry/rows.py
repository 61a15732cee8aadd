"""Registry rows: rows read as records, new rows inserted under the key's lock, stage transitions
logged in the append-only history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry.database import RegistryDatabase
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

__all__ = ["RegistryRows"]


class RegistryRows(RegistryDatabase):
    """Rows in, records out, and the stage transitions every write goes through."""

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
