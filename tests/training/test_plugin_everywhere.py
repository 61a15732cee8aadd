"""A plug-in's model goes where a built-in goes: the gate's Holm family, ``backtest --model``,
``backtest --served``, ``retrain``, ``train --all`` and ``train_many`` on Dask workers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import Settings
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training import train_many, train_model
from tests.cli_runner import run
from tests.plugin_install import EXAMPLE, forget_plugins, install_cf_ridge

FAST = {"training": {"validation_size": 60, "validation_retrain_every": 30}}


@pytest.fixture(autouse=True)
def no_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    forget_plugins()
    monkeypatch.setenv("CRYPTOFORECAST_MODELS__PLUGINS", json.dumps([EXAMPLE]))
    monkeypatch.setenv("CRYPTOFORECAST_TRAINING__VALIDATION_SIZE", "60")
    yield
    forget_plugins()


def settings(**sections: Any) -> Settings:
    return Settings.model_validate({"models": {"plugins": [EXAMPLE]}, **FAST, **sections})


def test_a_plugin_candidate_counts_in_the_gates_holm_family() -> None:
    gate = {"candidates": ["lightgbm", "ridge_momentum", "xgboost"]}
    model = train_model(
        "bitcoin",
        "ridge_momentum",
        days=400,
        save_model=False,
        config=settings(promotion_gate=gate),
    )
    decision = model.training_result_.gate
    assert decision.family_size == 3 and set(decision.family) == {"ridge_momentum"}
    assert "(3 candidates)" in decision.reason
    assert 0 <= decision.dm_pvalue_one_sided <= decision.dm_pvalue_holm <= 1


def test_backtest_takes_a_plugins_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        ["backtest", "bitcoin", "--model", "ridge_momentum", "--days", "30", "--json"], capsys
    )
    assert code == 0, out + err
    payload = json.loads(out)
    assert "ridge_momentum" in json.dumps(payload) and "naive" in json.dumps(payload)


def test_served_backtest_takes_a_plugin_candidate(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        [
            "backtest",
            "ethereum",
            "--served",
            "--model",
            "ridge_momentum",
            "--days",
            "20",
            "--retrain-frequency",
            "10",
            "--json",
        ],  # fmt: skip
        capsys,
    )
    assert code == 0, out + err
    assert "ridge_momentum" in out


def test_retrain_retrains_a_plugin_model(capsys: pytest.CaptureFixture[str]) -> None:
    first = train_model("bitcoin", "ridge_momentum", days=400)
    first_id = first.training_result_.record.model_id
    forget_plugins()  # retrain loads them itself, from the setting
    time.sleep(1.1)
    code, out, err = run(["retrain", "--older-than", "1s"], capsys)
    assert code == 0, out + err
    with ModelRegistry() as reg:
        newest = max(reg.list_models(crypto_id="bitcoin"), key=lambda r: r.model_id)
    assert newest.model_id > first_id and newest.model_type == "ridge_momentum"
    assert newest.config["plugin"]["name"] == "ridge_momentum.py:RidgeMomentum"


def test_train_all_accepts_a_plugin_model(
    train_many_calls: list[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["train", "--all", "--model", "ridge_momentum", "-H", "1"], capsys)
    assert code == 0, out + err
    ((ids, models, horizons),) = train_many_calls
    assert models[0] == "ridge_momentum" and horizons == [1] and "bitcoin" in ids


@pytest.mark.slow
def test_dask_workers_load_an_installed_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_cf_ridge(tmp_path / "site", monkeypatch)  # workers inherit PYTHONPATH
    cfg = Settings.model_validate({"models": {"plugins": ["cf_ridge"]}, **FAST})
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "artifacts")
    (summary,) = train_many(["bitcoin"], ["cf_ridge"], [1], days=300, config=cfg, registry=reg,
                            n_workers=1)  # fmt: skip
    assert summary.error is None and summary.model_type == "cf_ridge"
    (rec,) = reg.list_models()
    assert rec.config["plugin"] == {"name": "cf_ridge", "version": "0.1.0"}


def test_a_worker_that_cannot_load_a_plugin_reports_it_in_the_summary() -> None:
    from cryptoforecast.training.jobs import worker_train_task

    cfg = Settings.model_validate({"models": {"plugins": ["not_installed_anywhere"]}})
    summary = worker_train_task(
        crypto_id="bitcoin", model_type="x", horizon=1, days=300, tune=0, source="snapshot",
        end=None, settings=cfg.model_dump(mode="json"), registry_url=None, artifact_root=None,
        save_model=False,
    )  # fmt: skip
    assert summary.error is not None and "no entry point 'not_installed_anywhere'" in summary.error
