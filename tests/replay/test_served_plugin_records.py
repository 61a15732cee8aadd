"""The served replay's throwaway registry records a plug-in's model as ``train`` does: its
record config carries ``plugin: {name, version}``, so a server knows what to load."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.models import load_plugins
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.replay import train_candidates
from tests.plugin_install import install_cf_ridge

pytestmark = pytest.mark.usefixtures("plugins_forgotten")


def test_a_replay_retraining_records_the_plugin_beside_a_builtin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_cf_ridge(tmp_path / "site", monkeypatch)
    settings = load_config(
        overrides={
            "models": {"plugins": ["cf_ridge"]},
            "training": {"days": 300, "validation_size": 60, "validation_retrain_every": 60},
        }
    )
    load_plugins(settings)
    registry = ModelRegistry()
    date = pd.Timestamp("2024-06-30", tz="UTC")
    rows = train_candidates(
        load_ohlcv("bitcoin"), "bitcoin", 1, date, ("cf_ridge", "naive"), settings, registry
    )
    ids = {row["candidate"]: row["model_id"] for row in rows}
    plugin = registry.get(ids["cf_ridge"]).config["plugin"]
    assert plugin == {"name": "cf_ridge", "version": "0.1.0"}
    assert "plugin" not in registry.get(ids["naive"]).config  # a built-in needs none
