"""Point models and distributions are versions of two kinds in one registry: every lookup of a
point model never returns a distribution and the reverse, a distribution is registered under the
one model_type ``distribution`` whatever its scale model (so a coin and horizon has at most one
production distribution), and the stage logic (promote, rollback, retire) treats each kind's key
on its own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry import DISTRIBUTION, KINDS
from tests.registry.registry_helpers import write_artifact


def _register(registry, artifact_root, name, model_type, *, status="staging", horizon=1, **kw):
    return registry.register_model(
        model_type=model_type,
        crypto_id=kw.pop("crypto_id", "bitcoin"),
        model_path=write_artifact(artifact_root, name),
        horizon=horizon,
        status=status,
        force=status == "production",  # registered by hand: no gate decision
        **kw,
    )


def _distribution(registry, artifact_root, name, scale, *, status="staging", horizon=1, **kw):
    return _register(
        registry,
        artifact_root,
        name,
        DISTRIBUTION,
        status=status,
        horizon=horizon,
        config={"distribution": scale},
        **kw,
    )


def _save(path):
    path.mkdir(parents=True)
    (path / "manifest.json").write_text('{"model_type": "fake"}')


def test_the_best_production_model_is_never_a_distribution(registry, artifact_root):
    point = _register(
        registry, artifact_root, "p", "lightgbm", status="production", metrics={"val_mase": 0.99}
    )
    # a distribution with a better "MASE" (or any metric) must not win the point ranking
    dist = _distribution(
        registry, artifact_root, "d", "har_rv", status="production", metrics={"val_mase": 0.5}
    )
    best = registry.get_production_model("bitcoin", horizon=1)
    assert best is not None and best.model_id == point and best.kind == "point"
    found = registry.get_production_distribution("bitcoin", 1)
    assert found is not None and found.model_id == dist and found.kind == "distribution"
    assert found.scale_model == "har_rv" and best.scale_model is None


def test_a_lone_production_distribution_is_no_point_model(registry, artifact_root):
    _distribution(registry, artifact_root, "d", "garch_t", status="production")
    assert registry.get_production_model("bitcoin") is None
    assert registry.get_production_model("bitcoin", horizon=1) is None


def test_a_lone_production_point_model_is_no_distribution(registry, artifact_root):
    _register(registry, artifact_root, "p", "lightgbm", status="production")
    _distribution(registry, artifact_root, "d", "garch_t")  # staging: not served
    _distribution(registry, artifact_root, "d7", "garch_t", status="production", horizon=7)
    assert registry.get_production_distribution("bitcoin", 1) is None
    assert registry.get_production_distribution("ethereum", 7) is None
    assert registry.get_production_distribution("bitcoin", 7).horizon == 7


def test_asking_the_point_lookup_for_a_distribution_is_refused(registry, artifact_root):
    _distribution(registry, artifact_root, "d", "garch_t", status="production")
    with pytest.raises(RegistryError, match=r"get_production_distribution\(crypto_id, horizon\)"):
        registry.get_production_model("bitcoin", DISTRIBUTION)


def test_list_models_filters_by_kind(registry, artifact_root):
    point = _register(registry, artifact_root, "p", "naive")
    dist = _distribution(registry, artifact_root, "d", "ewma_t")
    assert [r.model_id for r in registry.list_models()] == [point, dist]
    assert [r.model_id for r in registry.list_models(kind="point")] == [point]
    assert [r.model_id for r in registry.list_models(kind="distribution")] == [dist]
    assert registry.list_models(model_type="naive", kind="distribution") == []
    assert [r.kind for r in registry.list_models("bitcoin", status="staging")] == [
        "point",
        "distribution",
    ]


@pytest.mark.parametrize("bad", ["scale", "Point", "", 1])
def test_a_bad_kind_names_the_allowed_kinds(registry, bad):
    with pytest.raises(RegistryError, match=f"kind must be one of {', '.join(KINDS)}.*got"):
        registry.list_models(kind=bad)


def test_kind_is_written_at_every_registration(registry, artifact_root):
    ids = [
        _register(registry, artifact_root, "p", "lightgbm"),
        _distribution(registry, artifact_root, "d", "har_rv"),
        registry.register_saved(_save, "xgboost", "bitcoin"),
        registry.register_saved(_save, DISTRIBUTION, "bitcoin", config={"distribution": "x"}),
        registry.register_with_decision(
            _save, DISTRIBUTION, "ethereum", 7, passed=False, gate_reason="worse than garch_ref"
        ),
    ]
    shared, _ = registry.register_shared(
        _save, "global_lightgbm", {"bitcoin": {}, "ethereum": {}}, artifact_key="universe"
    )
    ids += list(shared.values())
    with registry.engine.connect() as conn:
        stored = dict(conn.execute(sa.text("SELECT model_id, kind FROM models")).all())
    expected = ["point", "distribution", "point", "distribution", "distribution", "point", "point"]
    assert [stored[i] for i in ids] == expected
    assert [registry.get(i).kind for i in ids] == expected
    assert registry.get(ids[1]).to_dict()["kind"] == "distribution"


def test_promoting_a_distribution_replaces_only_the_production_distribution(
    registry, artifact_root
):
    point = _register(registry, artifact_root, "p", "lightgbm", status="production")
    har = _distribution(registry, artifact_root, "d1", "har_rv", status="production")
    garch = _distribution(registry, artifact_root, "d2", "garch_t")
    registry.record_gate_decision(garch, passed=True, reason="beats garch_ref")
    registry.promote(garch, reason="beats garch_ref")
    # another scale model takes the key's place: one production distribution per coin/horizon
    assert registry.get(har).status == "archived"
    assert registry.get_production_distribution("bitcoin", 1).model_id == garch
    assert registry.get(point).status == "production"
    assert registry.get_production_model("bitcoin").model_id == point

    # har and point were registered as production by hand (forced): going back to them is too
    assert registry.rollback("bitcoin", DISTRIBUTION, force=True).model_id == har
    assert registry.get(point).status == "production"
    new_point = _register(registry, artifact_root, "p2", "lightgbm", status="production")
    assert registry.rollback("bitcoin", "lightgbm", force=True).model_id == point
    assert registry.get(new_point).status == "archived"
    assert registry.get_production_distribution("bitcoin", 1).model_id == har


def test_a_failed_distribution_gate_retires_only_the_production_distribution(
    registry, artifact_root
):
    point = _register(registry, artifact_root, "p", "lightgbm", status="production")
    dist = _distribution(registry, artifact_root, "d", "har_rv", status="production")
    registry.register_with_decision(
        _save,
        DISTRIBUTION,
        "bitcoin",
        config={"distribution": "har_rv"},
        passed=False,
        gate_reason="no better than garch_ref",
        retire_on_fail=True,
    )
    assert registry.get(dist).status == "archived"
    assert registry.get_production_distribution("bitcoin", 1) is None
    assert registry.get(point).status == "production"
