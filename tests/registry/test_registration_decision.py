"""register_with_decision: the save, the row, the gate's decision and the promotion (or the
retirement of the key's production model) in one transaction: all stored, or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry import ModelRegistry


def _save_fake(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text('{"model_type": "fake"}')
    (path / "weights.bin").write_bytes(path.name.encode())


@contextmanager
def failing_gate_record(reg: ModelRegistry) -> Iterator[None]:
    """Make the database refuse the insert of a gate decision into the history."""

    def refuse(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        values = params.values() if isinstance(params, dict) else params
        if "INSERT INTO stage_history" in statement and "gate" in list(values):
            raise OSError("connection lost while recording the gate decision")

    sa.event.listen(reg.engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        sa.event.remove(reg.engine, "before_cursor_execute", refuse)


def _state(reg: ModelRegistry) -> tuple[list, list, list]:
    rows = [r.to_dict() for r in reg.list_models()]
    events = [e.to_dict() for e in reg.history()]
    files = sorted(str(p.relative_to(reg.artifact_root)) for p in reg.artifact_root.rglob("*"))
    return rows, events, files


def test_a_failure_recording_the_gate_decision_registers_nothing(registry) -> None:  # noqa: ANN001
    first = registry.register_saved(
        _save_fake, "lightgbm", "bitcoin", status="production", force=True
    )
    before = _state(registry)
    with failing_gate_record(registry), pytest.raises(OSError, match="gate decision"):
        registry.register_with_decision(
            _save_fake, "lightgbm", "bitcoin", passed=True, gate_reason="beats naive"
        )
    assert _state(registry) == before  # no row, no history, no artifact left behind
    assert registry.get_production_model("bitcoin", "lightgbm").model_id == first


def test_a_passing_decision_is_recorded_then_promoted(registry) -> None:  # noqa: ANN001
    first = registry.register_saved(
        _save_fake, "lightgbm", "bitcoin", status="production", force=True
    )
    model_id = registry.register_with_decision(
        _save_fake,
        "lightgbm",
        "BTC",
        passed=True,
        gate_reason="beats naive",
        metrics={"val_mase": 0.9},
        reason="trained",
    )
    rec = registry.get(model_id)
    assert rec.status == "production" and rec.version == "1.1.0" and rec.metrics["val_mase"] == 0.9
    rec.verify()
    assert registry.get(first).status == "archived"
    events = [(e.event, e.reason) for e in registry.history(model_id=model_id)]
    assert events == [
        ("register", "trained"),
        ("gate", "gate passed: beats naive"),
        ("promote", "promotion gate passed: beats naive"),
    ]


@pytest.mark.parametrize("retire", [False, True])
def test_a_failing_decision_stays_in_staging_and_may_retire_production(
    registry,  # noqa: ANN001
    retire: bool,
) -> None:
    first = registry.register_saved(
        _save_fake, "lightgbm", "bitcoin", status="production", force=True
    )
    model_id = registry.register_with_decision(
        _save_fake,
        "lightgbm",
        "bitcoin",
        passed=False,
        gate_reason="val MASE 1.03 >= 1",
        retire_on_fail=retire,
    )
    assert registry.get(model_id).status == "staging"
    assert [e.reason for e in registry.history(model_id=model_id) if e.event == "gate"] == [
        "gate failed: val MASE 1.03 >= 1"
    ]
    assert registry.get(first).status == ("archived" if retire else "production")
    if retire:
        (retired,) = [e for e in registry.history(model_id=first) if e.event == "archive"]
        assert retired.reason == (
            f"retired: its retrained successor {model_id} failed the gate on newer data"
        )


def test_a_shared_artifact_is_registered_with_every_coins_decision_at_once(registry) -> None:  # noqa: ANN001
    rows = {"bitcoin": {"metrics": {"val_mase": 0.9}}, "ethereum": {"metrics": {"val_mase": 1.1}}}
    decisions = {"bitcoin": (True, "beats naive"), "ethereum": (False, "no edge")}
    ids, path = registry.register_shared(
        _save_fake, "global_lightgbm", rows, artifact_key="universe", decisions=decisions
    )
    assert registry.get(ids["bitcoin"]).status == "production"
    assert registry.get(ids["ethereum"]).status == "staging"
    assert registry.get(ids["bitcoin"]).artifact_path == registry.get(ids["ethereum"]).artifact_path
    gates = [e.reason for e in registry.history() if e.event == "gate"]
    assert sorted(gates) == ["gate failed: no edge", "gate passed: beats naive"]


def test_a_failure_recording_a_shared_decision_registers_no_coin(registry) -> None:  # noqa: ANN001
    before = _state(registry)
    rows = {"bitcoin": {}, "ethereum": {}}
    with failing_gate_record(registry), pytest.raises(OSError, match="gate decision"):
        registry.register_shared(
            _save_fake,
            "global_lightgbm",
            rows,
            artifact_key="universe",
            decisions={"bitcoin": (True, "beats naive"), "ethereum": (True, "beats naive")},
        )
    assert _state(registry) == before  # no row, no history, no shared artifact left behind


def test_a_decision_for_a_coin_without_a_row_is_refused(registry) -> None:  # noqa: ANN001
    with pytest.raises(RegistryError, match=r"decisions for \['solana'\], which have no row"):
        registry.register_shared(
            _save_fake,
            "global_lightgbm",
            {"bitcoin": {}},
            artifact_key="universe",
            decisions={"solana": (True, "beats naive")},
        )
    assert registry.list_models() == []
