"""Training registers a model, its gate decision and its promotion in one transaction: a failure
after the model's row is inserted leaves the registry and the artifacts as they were."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cryptoforecast.config import load_config
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.pipeline import train_model_for_crypto

LAX = load_config(
    overrides={
        "training": {"validation_size": 60, "validation_retrain_every": 30},
        "promotion_gate": {
            "max_mase": 100.0,
            "require_dm_direction": False,
            "max_dm_pvalue": None,
            "stability_min_wins": 0,
        },
    }
)


def _state(reg: ModelRegistry) -> tuple[list, list, list]:
    rows = [r.to_dict() for r in reg.list_models()]
    events = [e.to_dict() for e in reg.history()]
    root = Path(reg.artifact_root)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []
    return rows, events, files


@pytest.mark.parametrize("step", ["gate", "promote"])
def test_a_failure_after_the_insert_registers_nothing(step: str) -> None:
    reg = ModelRegistry()
    asyncio.run(train_model_for_crypto("bitcoin", "drift", days=200, config=LAX, registry=reg))
    before = _state(reg)

    def refuse(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        values = params.values() if isinstance(params, dict) else params
        if "INSERT INTO stage_history" in statement and step in list(values):
            raise OSError(f"connection lost at the {step} step")

    sa.event.listen(reg.engine, "before_cursor_execute", refuse)
    with pytest.raises(OSError, match=f"the {step} step"):
        asyncio.run(train_model_for_crypto("bitcoin", "drift", days=200, config=LAX, registry=reg))
    sa.event.remove(reg.engine, "before_cursor_execute", refuse)
    assert _state(reg) == before
