"""Every way into production passes the promotion gate or says ``force``: a promotion, a
rollback, a registration as production, from Python and from the CLI. A forced entry records
the override and the gate's state in the history; the training pipeline's path (decision then
promotion in one transaction) needs no force."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoforecast.cli import main
from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry import ModelRegistry, model_registry
from tests.registry.registry_helpers import write_artifact

FORCED = "forced past the promotion gate"


def _save_fake(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text('{"model_type": "fake"}')
    (path / "weights.bin").write_bytes(path.name.encode())


def _by_hand(reg: ModelRegistry, name: str, **kwargs: object) -> int:
    """A model registered by hand (no gate decision), as staging unless ``status`` says so."""
    return reg.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(reg.artifact_root, name),
        metrics={"mape": 5.2},
        config={},
        **kwargs,  # type: ignore[arg-type]
    )


def _production(reg: ModelRegistry) -> int | None:
    rec = reg.get_production_model("bitcoin", "lightgbm")
    return None if rec is None else rec.model_id


def _last(reg: ModelRegistry, model_id: int) -> str:
    return reg.history(model_id=model_id)[-1].reason


def test_promote_of_a_model_registered_by_hand_needs_force(registry: ModelRegistry) -> None:
    model_id = _by_hand(registry, "a")
    with pytest.raises(RegistryError) as refused:
        registry.promote(model_id, reason="reviewed by hand")
    text = str(refused.value)
    assert f"model {model_id} (bitcoin lightgbm h=1 1.0.0)" in text
    assert "no promotion-gate decision" in text
    assert "force=True" in text and "--force" in text and '"force": true' in text
    assert registry.get(model_id).status == "staging" and _production(registry) is None

    rec = registry.promote(model_id, reason="reviewed by hand", force=True)
    assert rec.status == "production" and _production(registry) == model_id
    reason = _last(registry, model_id)
    assert reason.startswith("reviewed by hand") and FORCED in reason
    assert "no promotion-gate decision" in reason


def test_a_model_whose_gate_passed_promotes_without_force(registry: ModelRegistry) -> None:
    model_id = _by_hand(registry, "a")
    registry.record_gate_decision(model_id, passed=True, reason="beats naive (p=0.01)")
    rec = registry.promote(model_id, reason="gate passed")
    assert rec.status == "production"
    assert _last(registry, model_id) == "gate passed"  # no override recorded
    # force on a model that passed changes nothing in the history
    other = _by_hand(registry, "b")
    registry.record_gate_decision(other, passed=True, reason="beats naive (p=0.02)")
    registry.promote(other, reason="newer", force=True)
    assert _last(registry, other) == "newer"


def test_a_failed_decision_after_a_pass_needs_force_again(registry: ModelRegistry) -> None:
    model_id = _by_hand(registry, "a")
    registry.record_gate_decision(model_id, passed=True, reason="beats naive")
    registry.promote(model_id)
    registry.record_gate_decision(model_id, False, "gate failed: live guard: losing to naive")
    registry.demote(model_id, reason="live guard tripped")
    with pytest.raises(RegistryError, match="did not pass the promotion gate.*live guard"):
        registry.promote(model_id)
    assert _production(registry) is None
    registry.promote(model_id, reason="back by hand", force=True)
    reason = _last(registry, model_id)
    assert FORCED in reason and "live guard" in reason


def test_register_model_as_production_needs_force(registry: ModelRegistry) -> None:
    with pytest.raises(RegistryError) as refused:
        _by_hand(registry, "a", status="production")
    text = str(refused.value)
    assert "no promotion-gate decision" in text and "force=True" in text
    assert registry.list_models() == [] and registry.history() == []  # nothing stored

    model_id = _by_hand(registry, "a2", status="production", force=True, reason="seed")
    assert _production(registry) == model_id
    events = registry.history(model_id=model_id)
    assert [e.event for e in events] == ["register", "promote"]
    assert FORCED in events[-1].reason and "no promotion-gate decision" in events[-1].reason


def test_register_saved_as_production_needs_force(registry: ModelRegistry) -> None:
    with pytest.raises(RegistryError, match="no promotion-gate decision"):
        registry.register_saved(_save_fake, "lightgbm", "bitcoin", status="production")
    assert registry.list_models() == []
    assert [p for p in registry.artifact_root.rglob("*") if p.is_file()] == []  # removed

    model_id = registry.register_saved(
        _save_fake, "lightgbm", "bitcoin", status="production", force=True
    )
    assert _production(registry) == model_id and FORCED in _last(registry, model_id)


def test_rollback_to_a_model_without_a_gate_pass_needs_force(registry: ModelRegistry) -> None:
    forced = _by_hand(registry, "a", status="production", force=True)
    passed = _by_hand(registry, "b")
    registry.record_gate_decision(passed, passed=True, reason="beats naive")
    registry.promote(passed)
    with pytest.raises(RegistryError) as refused:
        registry.rollback("bitcoin", "lightgbm", 1)
    text = str(refused.value)
    assert f"model {forced}" in text and "no promotion-gate decision" in text
    assert "registry rollback bitcoin --model lightgbm --horizon 1 --force" in text
    assert _production(registry) == passed  # nothing changed

    rec = registry.rollback("bitcoin", "lightgbm", 1, reason="b drifts", force=True)
    assert rec.model_id == forced and _production(registry) == forced
    reason = _last(registry, forced)
    assert reason.startswith("b drifts") and FORCED in reason


def test_rollback_to_a_model_whose_gate_passed_needs_no_force(registry: ModelRegistry) -> None:
    first = registry.register_with_decision(
        _save_fake, "lightgbm", "bitcoin", passed=True, gate_reason="beats naive"
    )
    second = registry.register_with_decision(
        _save_fake, "lightgbm", "bitcoin", passed=True, gate_reason="beats naive again"
    )
    assert _production(registry) == second
    assert registry.rollback("bitcoin", "lightgbm", 1).model_id == first
    assert FORCED not in _last(registry, first)


def test_the_training_paths_need_no_force(registry: ModelRegistry) -> None:
    model_id = registry.register_with_decision(
        _save_fake, "lightgbm", "bitcoin", passed=True, gate_reason="beats naive"
    )
    assert _production(registry) == model_id and FORCED not in _last(registry, model_id)
    ids, _ = registry.register_shared(
        _save_fake,
        "global_lightgbm",
        {"bitcoin": {}, "ethereum": {}},
        artifact_key="global",
        decisions={"bitcoin": (True, "beats naive"), "ethereum": (False, "no edge")},
    )
    assert registry.get(ids["bitcoin"]).status == "production"
    assert registry.get(ids["ethereum"]).status == "staging"


def test_cli_promote_and_rollback_need_force_without_a_gate_pass(
    cf_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reg = model_registry
    first = _by_hand(reg, "a")
    assert main(["registry", "promote", str(first)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no promotion-gate decision" in err and "--force" in err
    assert _production(reg) is None
    assert main(["registry", "promote", str(first), "--force", "--reason", "seed"]) == 0
    assert _production(reg) == first and FORCED in _last(reg, first)

    second = _by_hand(reg, "b")
    reg.record_gate_decision(second, passed=True, reason="beats naive")
    assert main(["registry", "promote", str(second)]) == 0
    capsys.readouterr()
    rollback = ["registry", "rollback", "bitcoin", "--model", "lightgbm"]
    assert main(rollback) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no promotion-gate decision" in err and "--force" in err
    assert _production(reg) == second
    assert main([*rollback, "--force", "--reason", "second drifts"]) == 0
    assert _production(reg) == first
    reason = _last(reg, first)
    assert reason.startswith("second drifts") and FORCED in reason
