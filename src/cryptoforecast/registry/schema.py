"""The registry's tables (SQLAlchemy Core), created on first use, with a schema version.

``models``         one row per registered model; ``status`` is staging, production or archived;
                   ``kind`` is ``point`` or ``distribution`` (see
                   :mod:`~cryptoforecast.registry.kinds`), written from ``model_type``.
                   A partial unique index allows at most one production row per
                   (crypto_id, model_type, horizon), on SQLite and PostgreSQL alike.
``stage_history``  append-only audit trail of every stage change and gate decision; database
                   triggers refuse UPDATE and DELETE on it.
``registry_meta``  key/value, holds ``schema_version`` and ``changes``: a counter every write
                   moves in its own transaction (:func:`count_change`), so a reader that keeps
                   what it read (the serving predictor's production lookups) asks only whether
                   it moved (:func:`changes`), and sees a write of any process at once.

Schema versions: 1 the tables above without ``kind``; 2 adds ``models.kind``; 3 adds the
``changes`` counter (so code that does not move it, which would leave a reader keeping what a
write replaced, refuses a version 3 registry as newer than it). A database of an
older version is migrated when first opened, in the transaction that checks the version (so once,
whoever opens it first, and a failure halfway changes nothing); a newer one is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry.kinds import DISTRIBUTION, KINDS

__all__ = [
    "SCHEMA_VERSION",
    "CHANGES_SQL",
    "STAGES",
    "UTCDateTime",
    "changes",
    "count_change",
    "create_schema",
    "metadata",
    "models",
    "registry_meta",
    "stage_history",
]

SCHEMA_VERSION = 3
#: the ``registry_meta`` key of the change counter
CHANGES_KEY = "changes"
STAGES = ("staging", "production", "archived")

log = logging.getLogger(__name__)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise RegistryError(
                f"naive datetime {value!r} given to the database; use UTC-aware datetimes"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

registry_meta = sa.Table(
    "registry_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

_is_production = sa.text("status = 'production'")
_KIND_CHECK = "kind IN ({})".format(", ".join(f"'{k}'" for k in KINDS))

models = sa.Table(
    "models",
    metadata,
    sa.Column("model_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("crypto_id", sa.String(64), nullable=False),
    sa.Column("model_type", sa.String(64), nullable=False),
    sa.Column("horizon", sa.Integer, nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("metrics", sa.JSON, nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("lineage", sa.JSON, nullable=False),
    sa.Column("feature_importance", sa.JSON, nullable=True),
    sa.Column("artifact_path", sa.String(1024), nullable=False),
    sa.Column("artifact_files", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.UniqueConstraint(
        "crypto_id", "model_type", "horizon", "version", name="uq_models_key_version"
    ),
    sa.CheckConstraint("status IN ('staging', 'production', 'archived')", name="ck_models_status"),
    sa.CheckConstraint("horizon >= 1", name="ck_models_horizon"),
    sa.CheckConstraint(_KIND_CHECK, name="ck_models_kind"),
)
sa.Index("ix_models_key", models.c.crypto_id, models.c.model_type, models.c.horizon)
sa.Index(
    "uq_models_one_production",
    models.c.crypto_id,
    models.c.model_type,
    models.c.horizon,
    unique=True,
    sqlite_where=_is_production,
    postgresql_where=_is_production,
)

stage_history = sa.Table(
    "stage_history",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("models.model_id"), nullable=False),
    sa.Column("crypto_id", sa.String(64), nullable=False),
    sa.Column("model_type", sa.String(64), nullable=False),
    sa.Column("horizon", sa.Integer, nullable=False),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("from_status", sa.String(16), nullable=True),
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.String(256), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)
sa.Index(
    "ix_stage_history_key",
    stage_history.c.crypto_id,
    stage_history.c.model_type,
    stage_history.c.horizon,
)

_APPEND_ONLY_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS stage_history_no_{op.lower()} BEFORE {op} ON stage_history "
    "BEGIN SELECT RAISE(ABORT, 'stage_history is append-only'); END"
    for op in ("UPDATE", "DELETE")
]
_APPEND_ONLY_POSTGRES = [
    "CREATE OR REPLACE FUNCTION stage_history_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'stage_history is append-only'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS stage_history_append_only ON stage_history",
    "CREATE TRIGGER stage_history_append_only BEFORE UPDATE OR DELETE ON stage_history "
    "FOR EACH ROW EXECUTE FUNCTION stage_history_append_only()",
]


def _add_kind(conn: Connection) -> None:
    """Version 1 -> 2: add ``models.kind`` (NOT NULL, one of :data:`KINDS`), back-filled from
    ``model_type``.

    SQLite adds a NOT NULL column only with a default, and a constraint only with the column:
    the column comes with the default ``'point'`` and its check, then the distribution rows are
    set. PostgreSQL adds it empty, back-fills every row, then sets NOT NULL and the check.
    Either way the rows end as a new registry writes them (the registry always writes ``kind``).
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "ALTER TABLE models ADD COLUMN kind VARCHAR(16) NOT NULL DEFAULT 'point' "
            f"CONSTRAINT ck_models_kind CHECK ({_KIND_CHECK})"
        )
        conn.exec_driver_sql(
            f"UPDATE models SET kind = 'distribution' WHERE model_type = '{DISTRIBUTION}'"
        )
        return
    conn.exec_driver_sql("ALTER TABLE models ADD COLUMN kind VARCHAR(16)")
    conn.exec_driver_sql(
        "UPDATE models SET kind = "
        f"CASE WHEN model_type = '{DISTRIBUTION}' THEN 'distribution' ELSE 'point' END"
    )
    conn.exec_driver_sql("ALTER TABLE models ALTER COLUMN kind SET NOT NULL")
    conn.exec_driver_sql(f"ALTER TABLE models ADD CONSTRAINT ck_models_kind CHECK ({_KIND_CHECK})")


def _add_change_counter(conn: Connection) -> None:
    """Version 2 -> 3: the ``changes`` row of ``registry_meta``, at 0 (:func:`count_change`)."""
    _start_change_counter(conn)


def _start_change_counter(conn: Connection) -> None:
    found = conn.execute(
        sa.select(registry_meta.c.value).where(registry_meta.c.key == CHANGES_KEY)
    ).scalar_one_or_none()
    if found is None:
        conn.execute(sa.insert(registry_meta).values(key=CHANGES_KEY, value="0"))


#: version -> the step that brings a database of the version before it there
_MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _add_kind, 3: _add_change_counter}


def create_schema(conn: Connection) -> int:
    """Create missing tables, indexes and triggers inside the caller's transaction, migrating
    a database of an older schema version first.

    Returns the schema version found (or written). Raises :class:`RegistryError` when the
    database was written by a newer cryptoforecast (a higher schema version).
    """
    dialect = conn.dialect.name
    existing = sa.inspect(conn).has_table("registry_meta")
    if existing:
        found = conn.execute(
            sa.select(registry_meta.c.value).where(registry_meta.c.key == "schema_version")
        ).scalar_one_or_none()
        version = int(found) if found is not None else 0
        if version > SCHEMA_VERSION:
            raise RegistryError(
                f"the registry database has schema version {version}, newer than this "
                f"cryptoforecast supports ({SCHEMA_VERSION}); upgrade cryptoforecast."
            )
        if version == SCHEMA_VERSION:
            return version
        if version >= 1 and sa.inspect(conn).has_table("models"):
            for step in range(version + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[step](conn)
            log.info("registry schema migrated from version %d to %d", version, SCHEMA_VERSION)
    metadata.create_all(conn, checkfirst=True)
    statements: list[str] = []
    if dialect == "sqlite":
        statements = _APPEND_ONLY_SQLITE
    elif dialect == "postgresql":
        statements = _APPEND_ONLY_POSTGRES
    for stmt in statements:
        conn.exec_driver_sql(stmt)
    _start_change_counter(conn)  # a new registry's counter, in the transaction that creates it
    _upsert_meta(conn, "schema_version", str(SCHEMA_VERSION))
    return SCHEMA_VERSION


def _upsert_meta(conn: Connection, key: str, value: str) -> None:
    updated = conn.execute(
        sa.update(registry_meta).where(registry_meta.c.key == key).values(value=value)
    ).rowcount
    if not updated:
        conn.execute(sa.insert(registry_meta).values(key=key, value=value))


def count_change(conn: Connection) -> None:
    """Move the change counter, inside the caller's write transaction (one ``UPDATE`` of one
    row: concurrent PostgreSQL writers wait on it until commit, so none is lost; the row is
    created by the first write)."""
    value = registry_meta.c.value
    moved = conn.execute(
        sa.update(registry_meta)
        .where(registry_meta.c.key == CHANGES_KEY)
        .values(value=sa.cast(sa.cast(value, sa.Integer) + 1, value.type))
    ).rowcount
    if not moved:
        conn.execute(sa.insert(registry_meta).values(key=CHANGES_KEY, value="1"))


#: the change counter's read, built once (and as plain SQL, for a driver's own cursor)
_READ_CHANGES = sa.select(registry_meta.c.value).where(registry_meta.c.key == CHANGES_KEY)
CHANGES_SQL = f"SELECT value FROM registry_meta WHERE key = '{CHANGES_KEY}'"


def changes(conn: Connection) -> int:
    """The change counter (0 before the first write)."""
    found = conn.execute(_READ_CHANGES).scalar_one_or_none()
    return int(found) if found is not None else 0


def row_to_dict(row: Any) -> dict[str, Any]:
    """A SQLAlchemy row as a plain dict."""
    return dict(row._mapping)
