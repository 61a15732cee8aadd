"""``train``, ``train --all``, ``retrain`` and the scheduled retraining cover distribution
versions: each (coin, horizon) trained gets its distribution versions, gated against garch_ref."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.cli import training as training_cli
from cryptoforecast.registry import DISTRIBUTION, ModelRegistry
from cryptoforecast.training.distributions import train_distributions
from cryptoforecast.training.jobs import find_stale, retrain_job, retrain_stale, train_many
from tests.cli_runner import run

END = "2024-06-30"
FAST_ENV = {
    "CRYPTOFORECAST_TRAINING__VALIDATION_SIZE": "60",
    "CRYPTOFORECAST_TRAINING__VALIDATION_RETRAIN_EVERY": "30",
}
FAST: dict[str, Any] = {
    "training": {"validation_size": 60, "validation_retrain_every": 30},
    "distribution": {"candidates": ["ewma_t", "har_rv"]},
}


def test_train_one_coin_leaves_a_gated_distribution_version_beside_garch_ref(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    args = ["train", "bitcoin", "-H", "7", "-m", "drift", "--days", "600", "--end", END]
    code, out, err = run(args, capsys)
    assert code == 0, err
    reg = ModelRegistry()
    records = reg.list_models("bitcoin", DISTRIBUTION, 7)
    names = sorted(r.config["distribution"] for r in records)
    assert names == sorted(["garch_t", "har_rv", "ewma_t", "lightgbm_vol", "combination"])
    for rec in records:
        gate = rec.metrics["gate"]
        assert (rec.status == "production") == gate["promote"]  # promoted only if it passed
        assert gate["promote"] <= gate["passed"]
        events = [e for e in reg.history(model_id=rec.model_id) if e.event == "gate"]
        assert len(events) == 1 and gate["reason"] in events[0].reason
    text = " ".join(out.split())
    assert "Distribution versions: validation CRPS beside garch_ref" in text
    assert "garch_ref" in text and "ewma_t" in text and "gauss30" in text
    assert "bitcoin h=7:" in text
    assert [r.model_type for r in reg.list_models(model_type="drift")] == ["drift"]


def test_no_distribution_trains_the_point_model_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    args = ["train", "bitcoin", "-m", "drift", "--days", "300", "--no-distribution"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert ModelRegistry().list_models(model_type=DISTRIBUTION) == []
    assert "Distribution versions" not in out


def test_a_failing_distribution_training_is_reported_and_fails_the_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)

    def too_short(*args: Any, **kwargs: Any) -> Any:
        from cryptoforecast.exceptions import DataError

        raise DataError("too few origins for a distribution validation")

    monkeypatch.setattr(training_cli, "train_distributions", too_short)
    code, out, err = run(["train", "bitcoin", "-m", "drift", "--days", "300"], capsys)
    assert code == 1
    assert "1 of 2 trainings failed: DataError: too few origins" in " ".join(err.split())
    assert "failed" in out and "drift" in out


def test_train_all_adds_one_distribution_task_per_coin_and_horizon(
    train_many_calls: list[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    calls = train_many_calls
    assert run(["train", "--all", "-m", "xgboost"], capsys)[0] == 0
    assert calls[0][1] == ["xgboost", DISTRIBUTION] and calls[0][2] == [1, 3, 7, 14]
    assert run(["train", "--all", "--no-distribution"], capsys)[0] == 0
    assert calls[1][1] == ["lightgbm"]


def test_train_many_trains_distribution_versions_as_a_model_type(tmp_path: Path) -> None:
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")
    out = train_many(
        ["bitcoin"],
        [DISTRIBUTION],
        [1],
        days=400,
        end=END,
        config=FAST,
        registry=reg,
        n_workers=1,
        processes=False,
    )
    assert len(out) == 1 and not out[0].failed, out[0].error
    s = out[0]
    assert s.model_type == DISTRIBUTION and set(s.metrics["candidates"]) == {"ewma_t", "har_rv"}
    assert s.metrics["crps_garch_ref"] is not None and s.model_id is not None
    assert sorted(r.config["distribution"] for r in reg.list_models()) == ["ewma_t", "har_rv"]


def test_a_stale_distribution_key_is_retrained_with_its_window_and_source(
    tmp_path: Path,
) -> None:
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")
    first = train_distributions("bitcoin", 7, days=400, end=END, config=FAST, registry=reg)
    newest = max(first.registered.values())
    later = reg.get(newest).created_at + dt.timedelta(days=2)
    stale = find_stale(reg, "1d", now=later)
    assert [(s.crypto_id, s.model_type, s.horizon, s.days, s.source) for s in stale] == [
        ("bitcoin", DISTRIBUTION, 7, 400, "snapshot")
    ]
    assert stale[0].newest_model_id == newest
    done = retrain_stale("1d", registry=reg, config=FAST, now=later)
    assert len(done) == 1 and not done[0].failed, done[0].error
    assert done[0].model_type == DISTRIBUTION and done[0].replaces_model_id == newest
    assert done[0].days == 400
    records = reg.list_models("bitcoin", DISTRIBUTION, 7)
    assert len(records) == 4 and all(r.config["days"] == 400 for r in records)
    assert sum(r.status == "production" for r in records) <= 1


def test_the_retrain_command_covers_a_stale_distribution_version(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CRYPTOFORECAST_DISTRIBUTION__CANDIDATES", "[ewma_t, har_rv]")
    reg = ModelRegistry()
    train_distributions("bitcoin", 1, days=300, registry=reg)
    time.sleep(1.1)
    code, out, err = run(["retrain", "--older-than", "1s", "--dry-run"], capsys)
    assert code == 0, err
    assert "Would retrain 1 model" in out and DISTRIBUTION in out
    code, out, err = run(["retrain", "--older-than", "1s"], capsys)
    assert code == 0, err
    assert "Distribution versions" in " ".join(out.split())
    assert len(reg.list_models(model_type=DISTRIBUTION)) == 4  # 2 candidates, trained twice


def test_the_retrain_job_trains_one_keys_distribution_versions(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    class Result:
        def summary(self) -> str:
            return "summary"

    def fake(crypto_id: str, horizon: int, **kwargs: Any) -> Result:
        seen.update(crypto_id=crypto_id, horizon=horizon, **kwargs)
        return Result()

    monkeypatch.setattr("cryptoforecast.training.jobs.train_distributions", fake)
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")
    assert retrain_job("bitcoin", DISTRIBUTION, 7, registry=reg) == "summary"
    assert seen == {"crypto_id": "bitcoin", "horizon": 7, "registry": reg}
