"""A registry written by schema version 1 opens with this code: it is migrated once, in one
transaction (the ``kind`` column added and back-filled from ``model_type``), and then lists,
serves its production models and registers new versions as before. A failure halfway through
leaves the version 1 database as it was, and a database newer than the code is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from cryptoforecast.exceptions import RegistryError, RegistryUnavailable
from cryptoforecast.registry import DISTRIBUTION, SCHEMA_VERSION, ModelRegistry, UTCDateTime
from tests.registry.registry_helpers import write_artifact

# --------------------------------------------------------------------------- schema version 1
# The tables of schema version 1, as src/cryptoforecast/registry/schema.py defined them.
v1 = sa.MetaData()

v1_registry_meta = sa.Table(
    "registry_meta",
    v1,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
)

_is_production = sa.text("status = 'production'")

v1_models = sa.Table(
    "models",
    v1,
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
    sa.UniqueConstraint(
        "crypto_id", "model_type", "horizon", "version", name="uq_models_key_version"
    ),
    sa.CheckConstraint("status IN ('staging', 'production', 'archived')", name="ck_models_status"),
    sa.CheckConstraint("horizon >= 1", name="ck_models_horizon"),
)
sa.Index("ix_models_key", v1_models.c.crypto_id, v1_models.c.model_type, v1_models.c.horizon)
sa.Index(
    "uq_models_one_production",
    v1_models.c.crypto_id,
    v1_models.c.model_type,
    v1_models.c.horizon,
    unique=True,
    sqlite_where=_is_production,
    postgresql_where=_is_production,
)

v1_stage_history = sa.Table(
    "stage_history",
    v1,
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
    v1_stage_history.c.crypto_id,
    v1_stage_history.c.model_type,
    v1_stage_history.c.horizon,
)

V1_APPEND_ONLY_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS stage_history_no_{op.lower()} BEFORE {op} ON stage_history "
    "BEGIN SELECT RAISE(ABORT, 'stage_history is append-only'); END"
    for op in ("UPDATE", "DELETE")
]
V1_APPEND_ONLY_POSTGRES = [
    "CREATE OR REPLACE FUNCTION stage_history_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'stage_history is append-only'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS stage_history_append_only ON stage_history",
    "CREATE TRIGGER stage_history_append_only BEFORE UPDATE OR DELETE ON stage_history "
    "FOR EACH ROW EXECUTE FUNCTION stage_history_append_only()",
]

#: (crypto_id, model_type, horizon, version, status, config) of the rows of the v1 registry
V1_ROWS = [
    ("bitcoin", "lightgbm", 1, "1.0.0", "archived", {}),
    ("bitcoin", "lightgbm", 1, "1.1.0", "production", {}),
    ("bitcoin", "naive", 1, "1.0.0", "staging", {}),
    ("bitcoin", DISTRIBUTION, 1, "1.0.0", "production", {"distribution": "har_rv"}),
    ("ethereum", "xgboost", 7, "1.0.0", "production", {}),
]


def build_v1_registry(url: str, artifact_root: Path) -> dict[str, int]:
    """A registry database as schema version 1 wrote it, holding :data:`V1_ROWS` (each with its
    artifact and register event); ``{"<crypto> <type> h<h> <version>": model_id}``."""
    engine = sa.create_engine(url)
    ids: dict[str, int] = {}
    now = datetime(2024, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        v1.create_all(conn)
        for stmt in (
            V1_APPEND_ONLY_POSTGRES
            if engine.dialect.name == "postgresql"
            else (V1_APPEND_ONLY_SQLITE)
        ):
            conn.exec_driver_sql(stmt)
        conn.execute(sa.insert(v1_registry_meta).values(key="schema_version", value="1"))
        for crypto_id, model_type, horizon, version, status, config in V1_ROWS:
            name = f"{crypto_id} {model_type} h{horizon} {version}"
            art = write_artifact(artifact_root, name.replace(" ", "_"))
            model_id = conn.execute(
                sa.insert(v1_models)
                .values(
                    crypto_id=crypto_id,
                    model_type=model_type,
                    horizon=horizon,
                    version=version,
                    status=status,
                    metrics={"val_mase": 0.9},
                    config=config,
                    lineage={},
                    feature_importance=None,
                    artifact_path=art.name,
                    artifact_files={
                        "manifest.json": "0" * 64,
                        "weights.bin": "0" * 64,
                    },
                    created_at=now,
                    updated_at=now,
                    created_by="v1",
                )
                .returning(v1_models.c.model_id)
            ).scalar_one()
            conn.execute(
                sa.insert(v1_stage_history).values(
                    model_id=model_id,
                    crypto_id=crypto_id,
                    model_type=model_type,
                    horizon=horizon,
                    event="register",
                    from_status=None,
                    to_status=status,
                    reason="registered",
                    actor="v1",
                    at=now,
                )
            )
            ids[name] = model_id
    engine.dispose()
    return ids


def stored_version(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(v1_registry_meta.c.value).where(v1_registry_meta.c.key == "schema_version")
        ).scalar_one()
    engine.dispose()
    return int(value)


def model_columns(url: str) -> dict[str, dict]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        columns = {c["name"]: c for c in sa.inspect(conn).get_columns("models")}
    engine.dispose()
    return columns


# --------------------------------------------------------------------------- the tests
def test_the_code_writes_schema_version_3():
    assert SCHEMA_VERSION == 3


def test_a_v2_registry_gets_a_change_counter_that_its_writes_move(registry_url, artifact_root):
    """Version 3 adds the change counter a serving predictor keeps its lookups by: a version 2
    registry (as the code before wrote it, no counter) is migrated when opened; the counter
    starts at 0 and the first write moves it."""
    build_v1_registry(registry_url, artifact_root)
    reg = ModelRegistry(registry_url, artifact_root=artifact_root)
    reg.list_models()
    reg.close()
    engine = sa.create_engine(registry_url)
    with engine.begin() as conn:  # back to what version 2 left: no counter row
        conn.execute(sa.delete(v1_registry_meta).where(v1_registry_meta.c.key == "changes"))
        conn.execute(
            sa.update(v1_registry_meta)
            .where(v1_registry_meta.c.key == "schema_version")
            .values(value="2")
        )
    engine.dispose()
    reg = ModelRegistry(registry_url, artifact_root=artifact_root)
    start = reg.change_stamp()
    assert stored_version(registry_url) == 3 and start == 0
    model_id = reg.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(artifact_root, "after-v3"),
    )
    assert reg.change_stamp() == start + 1
    assert reg.get(model_id).status == "staging"
    reg.close()


def test_a_v1_registry_is_migrated_and_serves_as_before(registry_url, artifact_root):
    ids = build_v1_registry(registry_url, artifact_root)
    assert "kind" not in model_columns(registry_url)

    reg = ModelRegistry(registry_url, artifact_root=artifact_root, actor="tester")
    listed = reg.list_models()
    assert [r.model_id for r in listed] == sorted(ids.values())
    assert {r.model_id: r.kind for r in listed} == {
        model_id: "distribution" if DISTRIBUTION in name else "point"
        for name, model_id in ids.items()
    }
    assert stored_version(registry_url) == 3
    kind = model_columns(registry_url)["kind"]
    assert kind["nullable"] is False

    best = reg.get_production_model("bitcoin", horizon=1)
    assert best is not None and best.model_id == ids["bitcoin lightgbm h1 1.1.0"]
    assert best.kind == "point"
    dist = reg.get_production_distribution("bitcoin", 1)
    assert dist is not None and dist.model_id == ids[f"bitcoin {DISTRIBUTION} h1 1.0.0"]
    assert dist.kind == "distribution" and dist.config["distribution"] == "har_rv"
    assert (
        reg.get_production_model("ethereum", "xgboost", horizon=7).model_id
        == (ids["ethereum xgboost h7 1.0.0"])
    )
    assert [e.event for e in reg.history("bitcoin", "naive")] == ["register"]

    # the stage logic works on the migrated tables: a new version supersedes, rollback returns
    new = reg.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(artifact_root, "new"),
        status="production",
        force=True,
    )
    assert reg.get(new).version == "1.2.0" and reg.get(new).kind == "point"
    assert reg.get_production_model("bitcoin", "lightgbm").model_id == new
    # a v1 production row has no gate decision: going back to it is an override
    back = reg.rollback("bitcoin", "lightgbm", force=True)
    assert back.model_id == ids["bitcoin lightgbm h1 1.1.0"]
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), reg.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM stage_history")
    reg.close()


def test_a_migrated_registry_refuses_a_second_production_row(registry_url, artifact_root):
    ids = build_v1_registry(registry_url, artifact_root)
    reg = ModelRegistry(registry_url, artifact_root=artifact_root)
    reg.list_models()
    naive = ids["bitcoin naive h1 1.0.0"]
    with reg.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE models SET status = 'production' WHERE model_id = {naive}")
    archived = ids["bitcoin lightgbm h1 1.0.0"]
    with pytest.raises(sa.exc.IntegrityError), reg.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE models SET status = 'production' WHERE model_id = {archived}")
    with pytest.raises(sa.exc.IntegrityError), reg.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE models SET kind = 'scale' WHERE model_id = {naive}")
    reg.close()


def test_the_migration_runs_once(registry_url, artifact_root):
    build_v1_registry(registry_url, artifact_root)
    first = ModelRegistry(registry_url, artifact_root=artifact_root)
    first.list_models()
    first.close()
    # a second process opens the migrated database: nothing is altered again (adding the column
    # a second time would fail), and what it finds is the current version
    second = ModelRegistry(registry_url, artifact_root=artifact_root)
    assert len(second.list_models()) == len(V1_ROWS)
    second.close()
    assert stored_version(registry_url) == SCHEMA_VERSION


def _refuse_updates_of_models(url: str) -> None:
    """A trigger that makes the migration's back-fill (an UPDATE of models) fail."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse_update() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'updates refused'; END; $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_update BEFORE UPDATE ON models "
                "FOR EACH ROW EXECUTE FUNCTION refuse_update()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_update BEFORE UPDATE ON models "
                "BEGIN SELECT RAISE(ABORT, 'updates refused'); END"
            )
    engine.dispose()


def _allow_updates_of_models(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "DROP TRIGGER refuse_update ON models"
            if (engine.dialect.name == "postgresql")
            else "DROP TRIGGER refuse_update"
        )
    engine.dispose()


def test_a_migration_that_fails_halfway_changes_nothing(registry_url, artifact_root):
    ids = build_v1_registry(registry_url, artifact_root)
    _refuse_updates_of_models(registry_url)
    reg = ModelRegistry(registry_url, artifact_root=artifact_root)
    with pytest.raises(RegistryUnavailable, match="schema"):
        reg.list_models()
    reg.close()
    assert stored_version(registry_url) == 1
    assert "kind" not in model_columns(registry_url)  # the column added first was rolled back

    _allow_updates_of_models(registry_url)
    reg = ModelRegistry(registry_url, artifact_root=artifact_root)
    dist = reg.get_production_distribution("bitcoin", 1)
    assert dist is not None and dist.model_id == ids[f"bitcoin {DISTRIBUTION} h1 1.0.0"]
    reg.close()


def test_a_registry_newer_than_the_code_is_refused(registry_url, artifact_root):
    build_v1_registry(registry_url, artifact_root)
    engine = sa.create_engine(registry_url)
    with engine.begin() as conn:
        conn.execute(
            sa.update(v1_registry_meta)
            .where(v1_registry_meta.c.key == "schema_version")
            .values(value=str(SCHEMA_VERSION + 1))
        )
    engine.dispose()
    reg = ModelRegistry(registry_url, artifact_root=artifact_root)
    with pytest.raises(RegistryError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        reg.list_models()
    reg.close()
    assert "kind" not in model_columns(registry_url)  # nothing was migrated


def test_a_migrated_registry_serves_its_production_model_through_the_predictor(
    registry_url, artifact_root
):
    """End to end: a version 1 database holding a real, hashed artifact opens with this code,
    migrates, and the service's Predictor answers from that production model."""
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features, make_target
    from cryptoforecast.models import make_forecaster
    from cryptoforecast.registry.integrity import hash_artifact
    from cryptoforecast.serving import Predictor

    end = "2024-06-30"
    candles = load_ohlcv("bitcoin", end=end)
    X = build_features(candles).dropna()
    y = make_target(candles, 1).reindex(X.index).dropna()
    model = make_forecaster("drift", horizon=1).fit(X.loc[y.index], y)
    path = artifact_root / "bitcoin" / "drift" / "h1" / "v1.0.0_20240630T000000"
    model.save_model(path)
    now = datetime(2024, 7, 1, tzinfo=UTC)
    engine = sa.create_engine(registry_url)
    with engine.begin() as conn:
        v1.create_all(conn)
        conn.execute(sa.insert(v1_registry_meta).values(key="schema_version", value="1"))
        model_id = conn.execute(
            sa.insert(v1_models)
            .values(
                crypto_id="bitcoin",
                model_type="drift",
                horizon=1,
                version="1.0.0",
                status="production",
                metrics={"val_mase": 0.99},
                config={},
                lineage={},
                feature_importance=None,
                artifact_path=str(path.relative_to(artifact_root)),
                artifact_files=hash_artifact(path, artifact_root),
                created_at=now,
                updated_at=now,
                created_by="v1",
            )
            .returning(v1_models.c.model_id)
        ).scalar_one()
    engine.dispose()

    reg = ModelRegistry(registry_url, artifact_root=artifact_root, actor="tester")
    forecast = Predictor(registry=reg, end=end, record=False).predict("bitcoin", 1)
    assert stored_version(registry_url) == SCHEMA_VERSION
    assert forecast.source == "model" and forecast.model_id == model_id, forecast.fallback_reason
    assert forecast.distribution_source.startswith("garch_ref (fallback")
    reg.close()
