"""Stale-key detection lists distribution keys beside point keys, labelled as what they are: the
kind, the scale model, and no point model's tuned hyperparameters read off a distribution's
config."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from cryptoforecast.registry import DISTRIBUTION, ModelRegistry
from cryptoforecast.training.jobs import find_stale, stale_models
from tests.cli_runner import run
from tests.registry.registry_helpers import write_artifact


@pytest.fixture
def registry(cf_home) -> ModelRegistry:
    reg = ModelRegistry()
    root = reg.artifact_root
    root.mkdir(parents=True, exist_ok=True)
    reg.register_model(
        model_type="lightgbm",
        crypto_id="bitcoin",
        model_path=write_artifact(root, "p"),
        config={"days": 300, "source": "snapshot", "tuning": {"trials": 5}, "params": {"x": 1}},
        status="production",
        force=True,
    )
    reg.register_model(
        model_type=DISTRIBUTION,
        crypto_id="bitcoin",
        horizon=7,
        model_path=write_artifact(root, "d"),
        config={
            "distribution": "har_rv",
            "days": 400,
            "source": "binance",
            "tuning": {"weights": "walk-forward"},
            "params": {"omega": 0.1},
        },
        status="production",
        force=True,
    )
    yield reg
    reg.close()


def test_stale_distribution_keys_are_listed_and_labelled(registry: ModelRegistry) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    stale = {(s.model_type, s.horizon): s for s in find_stale(registry, "7d", now=later)}
    assert set(stale) == {("lightgbm", 1), (DISTRIBUTION, 7)}
    point, dist = stale[("lightgbm", 1)], stale[(DISTRIBUTION, 7)]
    assert (point.kind, point.scale_model, point.tuned_params) == ("point", None, {"x": 1})
    assert (dist.kind, dist.scale_model, dist.days, dist.source) == (
        "distribution",
        "har_rv",
        400,
        "binance",
    )
    # a distribution's fitted parameters are not hyperparameters for the config's sections
    assert dist.tuned_params is None
    assert dist.to_dict()["kind"] == "distribution"
    assert find_stale(registry, "7d") == []  # fresh: nothing listed
    listed = stale_models("7d", registry=registry, now=later)
    assert [(s.kind, s.scale_model) for s in listed] == [
        ("point", None),
        ("distribution", "har_rv"),
    ]


def test_retrain_dry_run_names_the_scale_model(
    registry: ModelRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    time.sleep(1.1)  # --older-than takes one second at least
    code, out, _ = run(["retrain", "--older-than", "1s", "--dry-run"], capsys)
    assert code == 0
    assert "distribution (har_rv)" in out and "lightgbm" in out
