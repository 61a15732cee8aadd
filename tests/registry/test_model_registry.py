"""ModelRegistry on SQLite (always) and PostgreSQL (with CRYPTOFORECAST_TEST_POSTGRES_URL)."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cryptoforecast.exceptions import ArtifactError, RegistryError
from cryptoforecast.models import load_registered
from cryptoforecast.registry import ModelRegistry, registration
from tests.registry.registry_helpers import register_and_promote, write_artifact


def _production(reg: ModelRegistry, crypto: str = "bitcoin", model: str = "lightgbm", h: int = 1):
    return reg.list_models(crypto, model, h, status="production")


# --------------------------------------------------------------------------- registration
def test_register_roundtrip_records_hashes_and_bumps_versions(registry, artifact_root):
    art = write_artifact(artifact_root, "bitcoin/lgbm/a")
    model_id = registry.register_model(
        model_type="lightgbm",
        version="1.0.0",
        crypto_id="BTC",  # symbols resolve to the asset id
        model_path=art,
        metrics={"mape": 5.2, "rmse": 0.03, "broken": float("nan")},
        config={"num_leaves": 31},
        feature_importance={"rsi_14": 12.0, "ret_log_7": 3.5},
        lineage={"data_source": "snapshot"},
    )
    rec = registry.get(model_id)
    assert (rec.crypto_id, rec.model_type, rec.horizon, rec.version, rec.status) == (
        "bitcoin",
        "lightgbm",
        1,
        "1.0.0",
        "staging",
    )
    assert rec.metrics == {"mape": 5.2, "rmse": 0.03, "broken": None}
    assert rec.config == {"num_leaves": 31}
    assert rec.feature_importance == {"rsi_14": 12.0, "ret_log_7": 3.5}
    assert rec.lineage == {"data_source": "snapshot"}
    assert rec.artifact_relpath == "bitcoin/lgbm/a"
    assert rec.artifact_path == art.resolve()
    expected = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in art.iterdir()}
    assert rec.artifact_files == expected
    assert rec.created_at.tzinfo is not None

    # version=None bumps the minor version; relative paths are taken inside the root
    write_artifact(artifact_root, "bitcoin/lgbm/b")
    second = registry.register_model(
        model_type="lightgbm", crypto_id="bitcoin", model_path="bitcoin/lgbm/b"
    )
    assert registry.get(second).version == "1.1.0"
    # another key has its own versions
    write_artifact(artifact_root, "bitcoin/lgbm/c")
    other = registry.register_model(
        model_type="lightgbm", crypto_id="bitcoin", horizon=7, model_path="bitcoin/lgbm/c"
    )
    assert registry.get(other).version == "1.0.0"
    with pytest.raises(RegistryError, match="already registered"):
        registry.register_model(
            model_type="lightgbm", version="1.0.0", crypto_id="bitcoin", model_path=art
        )
    assert [r.model_id for r in registry.list_models(horizon=1)] == [model_id, second]


def test_default_lineage_is_computed(registry, artifact_root):
    art = write_artifact(artifact_root, "x")
    rec = registry.get(
        registry.register_model(
            model_type="naive", crypto_id="ethereum", model_path=art, config={"a": 1}
        )
    )
    assert rec.lineage["config_hash"].startswith("sha256:")
    assert rec.lineage["package_version"]
    assert "git_commit" in rec.lineage


@pytest.mark.parametrize(
    "bad, message",
    [
        ("../outside", "outside the registry's artifact root"),
        ("/etc", "outside the registry's artifact root"),
        (".", "outside the registry's artifact root"),
        ("missing-dir", "does not exist"),
    ],
)
def test_paths_outside_the_root_or_missing_are_refused(registry, artifact_root, bad, message):
    write_artifact(artifact_root.parent, "outside")
    with pytest.raises(ArtifactError, match=message):
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=bad)
    assert registry.list_models() == []


def test_symlinks_escaping_the_root_are_refused(registry, artifact_root, tmp_path):
    outside = write_artifact(tmp_path, "elsewhere")
    (artifact_root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ArtifactError, match="outside"):
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path="link")
    inner = write_artifact(artifact_root, "inner")
    (inner / "weights2.bin").symlink_to(outside / "weights.bin")
    with pytest.raises(ArtifactError, match="links to"):
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=inner)


def test_bad_arguments_raise_clear_errors(registry, artifact_root):
    art = write_artifact(artifact_root, "a")
    with pytest.raises(RegistryError, match="horizon must be a positive integer"):
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=art, horizon=0)
    with pytest.raises(RegistryError, match="status must be one of"):
        registry.register_model(
            model_type="naive", crypto_id="bitcoin", model_path=art, status="live"
        )
    with pytest.raises(RegistryError, match="model_path is required"):
        registry.register_model(model_type="naive", crypto_id="bitcoin")
    with pytest.raises(RegistryError, match="crypto_id"):
        registry.register_model(model_type="naive", crypto_id="", model_path=art)
    with pytest.raises(RegistryError, match="metrics must be a mapping"):
        registry.register_model(
            model_type="naive", crypto_id="bitcoin", model_path=art, metrics=[1]
        )
    with pytest.raises(RegistryError, match="no model with id 42"):
        registry.get(42)
    empty = artifact_root / "empty"
    empty.mkdir()
    with pytest.raises(ArtifactError, match="empty"):
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=empty)


# --------------------------------------------------------------------------- stages
def test_promotion_archives_the_previous_production_model(registry, artifact_root):
    a = registry.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(artifact_root, "a"),
        status="production",
        force=True,
    )
    b = registry.register_model(
        model_type="lightgbm", crypto_id="bitcoin", model_path=write_artifact(artifact_root, "b")
    )
    assert registry.get_production_model("bitcoin", "lightgbm").model_id == a
    rec = registry.promote(b, reason="better validation MASE", force=True)  # no gate decision
    assert rec.status == "production"
    assert registry.get(a).status == "archived"
    assert [r.model_id for r in _production(registry)] == [b]
    with pytest.raises(RegistryError, match="already the production model"):
        registry.promote(b)
    c = registry.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(artifact_root, "c"),
        status="production",
        force=True,
        reason="first good model",
    )
    assert registry.get(b).status == "archived"
    assert [r.model_id for r in _production(registry)] == [c]

    events = [
        (e.model_id, e.event, e.from_status, e.to_status) for e in registry.history("bitcoin")
    ]
    assert events == [
        (a, "register", None, "staging"),
        (a, "promote", "staging", "production"),
        (b, "register", None, "staging"),
        (a, "supersede", "production", "archived"),
        (b, "promote", "staging", "production"),
        (c, "register", None, "staging"),
        (b, "supersede", "production", "archived"),
        (c, "promote", "staging", "production"),
    ]
    promoted = registry.history("bitcoin", model_id=b)[1]
    assert promoted.reason.startswith("better validation MASE") and promoted.actor == "tester"


def test_archive_leaves_no_production_model(registry, artifact_root):
    a = registry.register_model(
        model_type="xgboost",
        crypto_id="solana",
        model_path=write_artifact(artifact_root, "a"),
        status="production",
        force=True,
    )
    assert registry.archive(a, reason="retired").status == "archived"
    assert registry.get_production_model("solana", "xgboost") is None
    with pytest.raises(RegistryError, match="already archived"):
        registry.archive(a)


def test_rollback_walks_back_through_production_history(registry, artifact_root):
    ids = [
        registry.register_model(
            model_type="lightgbm",
            crypto_id="bitcoin",
            model_path=write_artifact(artifact_root, n),
            status="production",
            force=True,
        )
        for n in ("a", "b", "c")
    ]
    # a staging model never in production is never a rollback target
    registry.register_model(
        model_type="lightgbm", crypto_id="bitcoin", model_path=write_artifact(artifact_root, "d")
    )
    # each was registered as production by hand (no gate decision): going back needs force too
    assert registry.rollback("bitcoin", "lightgbm", 1, force=True).model_id == ids[1]
    assert registry.get(ids[2]).status == "archived"
    back = registry.rollback("bitcoin", "lightgbm", 1, reason="b drifts", force=True)
    assert back.model_id == ids[0]
    assert [r.model_id for r in _production(registry)] == [ids[0]]
    with pytest.raises(RegistryError, match="no earlier production model"):
        registry.rollback("bitcoin", "lightgbm", 1)
    assert registry.history("bitcoin", model_id=ids[0])[-1].reason.startswith(
        "b drifts (forced past the promotion gate"
    )
    with pytest.raises(RegistryError, match="no earlier production model"):
        registry.rollback("ethereum", "lightgbm", 1)


def test_gate_decisions_are_recorded_without_changing_the_stage(registry, artifact_root):
    m = registry.register_model(
        model_type="lightgbm", crypto_id="bitcoin", model_path=write_artifact(artifact_root, "a")
    )
    registry.record_gate_decision(m, passed=False, reason="val MASE 1.03 >= naive 1.00")
    assert registry.get(m).status == "staging"
    last = registry.history("bitcoin")[-1]
    assert (last.event, last.from_status, last.to_status) == ("gate", "staging", "staging")
    assert last.reason == "gate failed: val MASE 1.03 >= naive 1.00"


def test_get_production_model_picks_lowest_validation_mase(registry, artifact_root):
    assert registry.get_production_model("bitcoin") is None
    for name, mase in (("lightgbm", 0.97), ("xgboost", 0.94), ("naive", None)):
        metrics = {"val_mase": mase} if mase is not None else {}
        registry.register_model(
            model_type=name,
            crypto_id="bitcoin",
            model_path=write_artifact(artifact_root, name),
            metrics=metrics,
            status="production",
            force=True,
        )
    registry.register_model(
        model_type="drift",
        crypto_id="bitcoin",
        model_path=write_artifact(artifact_root, "drift"),
        metrics={"val_mase": 0.5},  # staging: not a candidate
    )
    best = registry.get_production_model("bitcoin")
    assert (best.model_type, best.validation_mase) == ("xgboost", 0.94)
    assert registry.get_production_model("bitcoin", "naive").model_type == "naive"
    assert registry.get_production_model("bitcoin", horizon=3) is None
    assert registry.get_production_model("ethereum") is None


# --------------------------------------------------------------------------- database guarantees
def test_database_refuses_a_second_production_model(registry, artifact_root):
    for n in ("a", "b"):
        registry.register_model(
            model_type="lightgbm", crypto_id="bitcoin", model_path=write_artifact(artifact_root, n)
        )
    with registry.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE models SET status = 'production' WHERE model_id = 1")
    with pytest.raises(sa.exc.IntegrityError), registry.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE models SET status = 'production' WHERE model_id = 2")
    assert len(_production(registry)) == 1


def test_stage_history_is_append_only(registry, artifact_root):
    registry.register_model(
        model_type="lightgbm", crypto_id="bitcoin", model_path=write_artifact(artifact_root, "a")
    )
    for stmt in ("UPDATE stage_history SET reason = 'rewritten'", "DELETE FROM stage_history"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), registry.engine.begin() as conn:
            conn.exec_driver_sql(stmt)
    assert [e.reason for e in registry.history()] == ["registered"]


def test_schema_is_versioned_and_reused(registry_url, artifact_root):
    first = ModelRegistry(registry_url, artifact_root=artifact_root)
    first.register_model(
        model_type="naive", crypto_id="bitcoin", model_path=write_artifact(artifact_root, "a")
    )
    first.close()
    second = ModelRegistry(registry_url, artifact_root=artifact_root)
    assert len(second.list_models()) == 1
    with second.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE registry_meta SET value = '99' WHERE key = 'schema_version'")
    second.close()
    third = ModelRegistry(registry_url, artifact_root=artifact_root)
    with pytest.raises(RegistryError, match="schema version 99"):
        third.list_models()
    third.close()


# --------------------------------------------------------------------------- integrity
@pytest.mark.parametrize("tamper", ["flip_byte", "delete_file", "add_file"])
def test_load_refuses_a_tampered_artifact(registry, artifact_root, tamper):
    art = write_artifact(
        artifact_root, "a", {"manifest.json": b"{}", "sub/weights.bin": b"\x00" * 100}
    )
    rec = registry.get(
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=art)
    )
    rec.verify()  # untouched: passes
    weights = art / "sub" / "weights.bin"
    if tamper == "flip_byte":
        data = bytearray(weights.read_bytes())
        data[37] ^= 0x01
        weights.write_bytes(bytes(data))
        expected = r"changed: \['sub/weights.bin'\]"
    elif tamper == "delete_file":
        weights.unlink()
        expected = r"missing: \['sub/weights.bin'\]"
    else:
        (art / "extra.bin").write_bytes(b"x")
        expected = r"added: \['extra.bin'\]"
    with pytest.raises(ArtifactError, match=expected):
        load_registered(rec)


def test_single_file_artifact_is_hashed_and_verified(registry, artifact_root):
    file = artifact_root / "model.json"
    file.write_text('{"w": 1}')
    rec = registry.get(
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=file)
    )
    assert rec.artifact_files == {"model.json": hashlib.sha256(b'{"w": 1}').hexdigest()}
    rec.verify()
    file.write_text('{"w": 2}')
    with pytest.raises(ArtifactError, match="changed"):
        rec.verify()
    file.unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load_registered(rec)


def test_registers_and_loads_a_real_saved_forecaster(registry, btc_daily):
    import numpy as np
    import pandas as pd

    from cryptoforecast.models.baselines import DriftForecaster

    X = pd.DataFrame({"ret_log_1": np.log(btc_daily["close"]).diff()}).iloc[1:300]
    y = np.log(btc_daily["close"].shift(-1) / btc_daily["close"]).iloc[1:300]
    model = DriftForecaster(horizon=1).fit(X, y)
    path = model.save_model(registry.new_artifact_dir("bitcoin", "drift", 1))
    model_id = registry.register_model(
        model_type="drift",
        crypto_id="bitcoin",
        model_path=path,
        metrics={"val_mase": 1.01},
        status="production",
        force=True,
    )
    rec = registry.get_production_model("bitcoin", "drift")
    assert rec.model_id == model_id
    loaded = load_registered(rec)
    assert type(loaded) is DriftForecaster
    pd.testing.assert_series_equal(loaded.predict(X.iloc[-5:]), model.predict(X.iloc[-5:]))
    (Path(path) / "manifest.json").write_text((Path(path) / "manifest.json").read_text() + " ")
    with pytest.raises(ArtifactError, match="manifest.json"):
        load_registered(rec)


def test_naive_forecaster_roundtrip(registry, btc_daily):
    import numpy as np
    import pandas as pd

    from cryptoforecast.models.baselines import NaiveForecaster

    X = pd.DataFrame({"ret_log_1": np.log(btc_daily["close"]).diff()}).iloc[1:200]
    y = np.log(btc_daily["close"].shift(-1) / btc_daily["close"]).iloc[1:200]
    model = NaiveForecaster(horizon=1).fit(X, y)
    path = model.save_model(registry.new_artifact_dir("bitcoin", "naive", 1))
    registry.register_model(
        model_type="naive", crypto_id="bitcoin", model_path=path, status="production", force=True
    )
    loaded = load_registered(registry.get_production_model("bitcoin", "naive"))
    assert isinstance(loaded, NaiveForecaster)
    assert loaded.feature_names_ == ["ret_log_1"]
    assert (loaded.predict(X.iloc[-3:]) == 0.0).all()


def test_load_refuses_an_artifact_registered_under_another_type_or_horizon(registry, btc_daily):
    """A 7-day drift model registered as 1-day lightgbm must not be served under that label."""
    import numpy as np
    import pandas as pd

    from cryptoforecast.models.baselines import DriftForecaster

    X = pd.DataFrame({"ret_log_1": np.log(btc_daily["close"]).diff()}).iloc[1:200]
    y = np.log(btc_daily["close"].shift(-7) / btc_daily["close"]).iloc[1:200]
    path = DriftForecaster(horizon=7).fit(X, y).save_model(registry.artifact_root / "drift-h7")
    for model_type, horizon in (("lightgbm", 7), ("drift", 1)):
        rec = registry.get(
            registry.register_model(
                model_type=model_type, crypto_id="bitcoin", horizon=horizon, model_path=path
            )
        )
        rec.verify()  # the files are intact: only the label is wrong
        with pytest.raises(ArtifactError, match="holds a 'drift' model for horizon 7"):
            load_registered(rec)
    rec = registry.get(
        registry.register_model(model_type="drift", crypto_id="bitcoin", horizon=7, model_path=path)
    )
    assert load_registered(rec).horizon == 7


# --------------------------------------------------------------------------- concurrency
def test_sqlite_lock_contention_is_retried(tmp_path, artifact_root):
    """A writer blocked by another's lock past the busy timeout retries with backoff."""
    import sqlite3
    import threading

    url = f"sqlite:///{tmp_path / 'reg.db'}"
    reg = ModelRegistry(url, artifact_root=artifact_root, busy_timeout=0.05)
    reg.list_models()  # creates the schema
    blocker = sqlite3.connect(tmp_path / "reg.db", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    impatient = ModelRegistry(url, artifact_root=artifact_root, busy_timeout=0.05, max_attempts=1)
    with pytest.raises(RegistryError, match="database is locked"):
        impatient.register_model(
            model_type="naive", crypto_id="bitcoin", model_path=write_artifact(artifact_root, "z")
        )
    impatient.close()
    threading.Timer(0.6, blocker.rollback).start()
    t0 = time.perf_counter()
    model_id = reg.register_model(
        model_type="naive", crypto_id="bitcoin", model_path=write_artifact(artifact_root, "a")
    )
    assert time.perf_counter() - t0 >= 0.5
    assert reg.get(model_id).version == "1.0.0"
    blocker.close()
    reg.close()


@pytest.mark.slow
def test_concurrent_register_and_promote_leaves_one_production(registry_url, artifact_root):
    n = 8
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(n)
    procs = [
        ctx.Process(
            target=register_and_promote, args=(registry_url, str(artifact_root), i, barrier)
        )
        for i in range(n)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
    assert [p.exitcode for p in procs] == [0] * n

    reg = ModelRegistry(registry_url, artifact_root=artifact_root)
    records = reg.list_models("bitcoin", "lightgbm", 1)
    assert len(records) == n
    assert sorted(r.version for r in records) == sorted(f"1.{i}.0" for i in range(n))
    assert sorted(r.config["worker"] for r in records) == list(range(n))
    production = [r for r in records if r.status == "production"]
    assert len(production) == 1
    assert sum(r.status == "archived" for r in records) == n - 1

    events = reg.history("bitcoin", "lightgbm", 1)
    assert sum(e.event == "register" for e in events) == n
    assert sum(e.event == "promote" for e in events) == n
    assert sum(e.event == "supersede" for e in events) == n - 1
    # replaying the history reproduces every model's final status, one production at a time
    status: dict[int, str] = {}
    for e in events:
        assert status.get(e.model_id) == e.from_status, e
        status[e.model_id] = e.to_status
        assert sum(s == "production" for s in status.values()) <= 1
    assert status == {r.model_id: r.status for r in records}
    last_promoted = [e.model_id for e in events if e.event == "promote"][-1]
    assert production[0].model_id == last_promoted
    for r in records:
        r.verify()
    reg.close()


# --------------------------------------------------------------------------- sqlite specifics
def test_sqlite_uses_wal_and_the_default_location(cf_home, monkeypatch):
    reg = ModelRegistry()
    assert reg.url == f"sqlite:///{cf_home / 'registry.db'}"
    assert reg.artifact_root == (cf_home / "artifacts").resolve()
    assert not (cf_home / "registry.db").exists()  # nothing touched before first use
    reg.list_models()
    with reg.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    reg.close()
    monkeypatch.setenv("CRYPTOFORECAST_REGISTRY_URL", f"sqlite:///{cf_home / 'other.db'}")
    assert ModelRegistry().url.endswith("other.db")
    assert os.fspath(cf_home) in repr(ModelRegistry())


def test_a_path_saved_under_the_current_directory_is_explained(
    registry, artifact_root, tmp_path, monkeypatch
):
    work = tmp_path / "work"
    write_artifact(work / "artifacts" / "lightgbm", "v1")
    monkeypatch.chdir(work)
    with pytest.raises(ArtifactError) as info:
        registry.register_model(
            model_type="naive", crypto_id="bitcoin", model_path="artifacts/lightgbm/v1"
        )
    text = str(info.value)
    assert (
        "relative to the registry's artifact root" in text and "not the current directory" in text
    )
    assert str(work / "artifacts" / "lightgbm" / "v1") in text and "new_artifact_dir" in text


def _save_fake(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text('{"model_type": "fake"}')
    (path / "weights.bin").write_bytes(path.name.encode())


def test_register_saved_picks_version_and_path_under_the_key_lock(registry):
    """Threads registering one key at once get distinct, consecutive versions in the registry's
    own layout, with no retry: the version is chosen and the artifact saved under the lock."""
    import threading

    barrier = threading.Barrier(4)
    ids: list[int] = []

    def train() -> None:
        reg = ModelRegistry(registry.url, artifact_root=registry.artifact_root)
        barrier.wait(timeout=60)
        ids.append(reg.register_saved(_save_fake, "lightgbm", "BTC", 7, metrics={"mase": 0.9}))
        reg.close()

    threads = [threading.Thread(target=train) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    records = [registry.get(i) for i in ids]
    assert sorted(r.version for r in records) == ["1.0.0", "1.1.0", "1.2.0", "1.3.0"]
    for r in records:
        assert r.artifact_relpath.startswith(f"lightgbm/bitcoin/h7/v{r.version}_")
        r.verify()  # the hashes were taken of what save() wrote


def test_register_saved_leaves_nothing_when_saving_fails(registry):
    def broken(path: Path) -> None:
        _save_fake(path)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        registry.register_saved(broken, "lightgbm", "bitcoin")
    assert registry.list_models() == []
    assert not any(p.is_file() for p in registry.artifact_root.rglob("*"))
    model_id = registry.register_saved(_save_fake, "lightgbm", "bitcoin")
    assert registry.get(model_id).version == "1.0.0"  # the failed attempt took no version


def test_register_shared_saves_once_and_registers_every_coin_with_one_version(registry):
    """A global model: one artifact, one record per coin, one version above every key's own."""
    registry.register_saved(_save_fake, "global_lightgbm", "ethereum")  # ethereum at 1.0.0
    registry.register_saved(_save_fake, "global_lightgbm", "ethereum")  # ... and 1.1.0
    rows = {
        "bitcoin": {"metrics": {"mase": 0.99}, "config": {"universe": ["bitcoin", "ethereum"]}},
        "ethereum": {"metrics": {"mase": 1.01}, "config": {"universe": ["bitcoin", "ethereum"]}},
    }
    ids, path = registry.register_shared(
        _save_fake, "global_lightgbm", rows, 1, artifact_key="global", reason="test"
    )
    records = {coin: registry.get(i) for coin, i in ids.items()}
    assert sorted(records) == ["bitcoin", "ethereum"]
    assert {r.version for r in records.values()} == {"1.2.0"}  # above ethereum's 1.1.0
    assert {r.artifact_relpath for r in records.values()} == {
        path.relative_to(registry.artifact_root).as_posix()
    }
    assert (
        path.relative_to(registry.artifact_root)
        .as_posix()
        .startswith("global_lightgbm/global/h1/v1.2.0_")
    )
    assert records["bitcoin"].metrics["mase"] == 0.99
    assert records["ethereum"].metrics["mase"] == 1.01
    assert all(r.status == "staging" for r in records.values())
    for r in records.values():
        r.verify()  # the hashes were taken of what save() wrote


def test_register_shared_registers_all_coins_or_none(registry, monkeypatch):
    """A failure on the second coin's row leaves no row of the first and no artifact."""
    rows = {"bitcoin": {"metrics": {"mase": 1.0}}, "ethereum": {"metrics": {"mase": 1.0}}}
    inserted: list[str] = []
    original = registration.insert_model

    def failing_second(conn, version, values, status, reason, actor):  # type: ignore[no-untyped-def]
        if inserted:
            raise OSError("connection lost")
        inserted.append(values["crypto_id"])
        return original(conn, version, values, status, reason, actor)

    monkeypatch.setattr(registration, "insert_model", failing_second)
    with pytest.raises(OSError, match="connection lost"):
        registry.register_shared(_save_fake, "global_lightgbm", rows, 1, artifact_key="global")
    monkeypatch.undo()
    assert inserted == ["bitcoin"]  # the first row was inserted, then rolled back
    assert registry.list_models() == []
    assert not any(p.is_file() for p in registry.artifact_root.rglob("*"))
    with pytest.raises(RegistryError, match="at least one"):
        registry.register_shared(_save_fake, "global_lightgbm", {}, 1, artifact_key="global")
