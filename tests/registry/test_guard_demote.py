"""ModelRegistry.guard_demote: the live guard's demotion and failed gate decision, in one
transaction; only a production model; re-promotion then needs force."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry import ModelRegistry

from .registry_helpers import write_artifact

EVIDENCE = "live guard: losing to naive, CUSUM 8.10 > 7.00 over 40 scored origins"


def _model(registry: ModelRegistry, root: Path, status: str) -> int:
    art = write_artifact(root, f"bitcoin/lgbm/{status}")
    return registry.register_model(
        model_type="lightgbm", crypto_id="bitcoin", model_path=art, metrics={}, status=status,
        force=status == "production",  # registered by hand: no gate decision
    )  # fmt: skip


def test_guard_demote_demotes_and_fails_the_gate_at_once(
    registry: ModelRegistry, artifact_root: Path
) -> None:
    model_id = _model(registry, artifact_root, "production")
    before = len(registry.history(model_id=model_id))
    rec = registry.guard_demote(model_id, EVIDENCE)
    assert rec.status == "staging"
    new = registry.history(model_id=model_id)[before:]
    assert [(e.event, e.from_status, e.to_status) for e in new] == [
        ("demote", "production", "staging"),
        ("gate", "staging", "staging"),
    ]
    assert new[0].reason == EVIDENCE and new[1].reason == f"gate failed: {EVIDENCE}"
    with pytest.raises(RegistryError, match="did not pass the promotion gate"):
        registry.promote(model_id)
    assert registry.get(model_id).status == "staging"
    forced = registry.promote(model_id, force=True)
    assert forced.status == "production"
    assert (
        "forced past the promotion gate: gate failed: live guard"
        in registry.history(model_id=model_id)[-1].reason
    )


def test_guard_demote_refuses_a_model_not_in_production(
    registry: ModelRegistry, artifact_root: Path
) -> None:
    model_id = _model(registry, artifact_root, "staging")
    before = registry.history(model_id=model_id)
    with pytest.raises(RegistryError, match="not production; the live guard demotes"):
        registry.guard_demote(model_id, EVIDENCE)
    assert registry.history(model_id=model_id) == before  # nothing written
