"""Demos keep to themselves: ``demo`` and ``demo --fast`` register into a demo registry under
``$CRYPTOFORECAST_HOME/demo/`` and leave the user's registry (its models, their statuses and its
history) exactly as it was; a smoke run says so in its output and in its models' config."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from cryptoforecast.cli.demo import SMOKE_RUN_NOTE, demo_registry, run_demo
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.pipeline import train_model

SMALL = {"training": {"days": 300, "validation_size": 60, "validation_retrain_every": 60}}
#: the demo's own key, bitcoin drift h=1, so that a retrained successor could retire the user's
ONE_MODEL = {"demo": {"models": ["drift"], "horizons": [1]}}


def _state(registry: ModelRegistry) -> tuple[list[tuple[int, str, str, str]], int]:
    models = [(m.model_id, m.model_type, m.version, m.status) for m in registry.list_models()]
    return models, len(registry.history())


@pytest.mark.parametrize("env_url", [False, True], ids=["default registry", "registry URL set"])
def test_a_smoke_demo_leaves_the_users_registry_as_it_was(
    env_url: bool, cf_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env_url:
        url = f"sqlite:///{tmp_path / 'team.db'}"
        monkeypatch.setenv("CRYPTOFORECAST_REGISTRY_URL", url)
    user = ModelRegistry()
    trained = train_model("bitcoin", "drift", days=300, horizon=1, config=SMALL, registry=user)
    record = trained.training_result_.record  # type: ignore[attr-defined]
    if record.status != "production":
        user.promote(record.model_id, reason="the team's choice", force=True)
    before = _state(user)
    assert [m[3] for m in before[0]] == ["production"]

    console = Console(record=True, width=200)
    result = run_demo(console=console, fast=True, config=ONE_MODEL, reports_dir=tmp_path / "r")

    assert _state(ModelRegistry()) == before
    demo = demo_registry()
    assert Path(demo.url.removeprefix("sqlite:///")).parent == cf_home / "demo"
    assert demo.artifact_root == (cf_home / "demo" / "artifacts").resolve()
    demo_models = demo.list_models()
    assert [(m.crypto_id, m.model_type, m.horizon) for m in demo_models] == [
        ("bitcoin", "drift", 1)
    ]
    assert demo_models[0].config["note"] == SMOKE_RUN_NOTE
    assert [t.model_id for t in result.trainings] == [demo_models[0].model_id]
    text = console.export_text()
    assert "smoke run" in text.lower() and str(cf_home / "demo") in text
    assert result.report_path == tmp_path / "r" / "bitcoin.html"


def test_a_full_demo_registers_without_the_smoke_note(tmp_path: Path) -> None:
    config = {**SMALL, **ONE_MODEL, "demo": {**ONE_MODEL["demo"], "backtest_days": 60}}
    console = Console(record=True, width=200)
    run_demo(console=console, config=config, reports_dir=tmp_path / "r")
    (model,) = demo_registry().list_models()
    assert "note" not in model.config
    assert ModelRegistry().list_models() == []
    assert "smoke run" not in console.export_text().lower()
