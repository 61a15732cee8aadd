"""A retraining that retrains nothing says why: no tracked model yet, every key's newest model is
younger than the age asked for (naming the oldest), or no stale key matches the filter. A filter
also limits what is trained, not only what is reported."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training import jobs
from cryptoforecast.training.jobs import retrain_job
from tests.cli_runner import run
from tests.registry.registry_helpers import write_artifact


@pytest.fixture
def registry(cf_home: Any) -> Any:
    reg = ModelRegistry()
    yield reg
    reg.close()


def _register(reg: ModelRegistry, model_type: str = "lightgbm", horizon: int = 1) -> int:
    reg.artifact_root.mkdir(parents=True, exist_ok=True)
    name = f"{model_type}-h{horizon}-{len(reg.list_models())}"
    return reg.register_model(
        model_type=model_type,
        crypto_id="bitcoin",
        horizon=horizon,
        model_path=write_artifact(reg.artifact_root, name),
        config={"days": 300, "source": "snapshot"},
    )


def test_an_empty_registry_says_there_is_nothing_tracked(registry: Any) -> None:
    done = retrain_job(older_than_days=7, registry=registry)
    assert done == []
    assert "no models" in done.reason and "cryptoforecast train" in done.reason


def test_recent_models_say_how_old_the_oldest_is(registry: Any) -> None:
    model_id = _register(registry)
    done = retrain_job(older_than_days=7, registry=registry)
    assert done == []
    assert "younger than 7 days" in done.reason
    assert f"model {model_id}" in done.reason and "bitcoin lightgbm h=1" in done.reason


def test_a_filter_trains_only_the_matching_stale_keys_and_says_why_none_matched(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(registry, "lightgbm", 1)
    trained: list[dict[str, Any]] = []
    monkeypatch.setattr(jobs, "train_task", lambda **spec: trained.append(spec))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    done = jobs.retrain_stale("7d", registry=registry, now=later, model_type="xgboost")
    assert trained == []  # the stale lightgbm key is not retrained behind the filter's back
    assert done == []
    assert "model_type=xgboost" in done.reason and "bitcoin lightgbm h=1" in done.reason


def test_the_cli_says_why_it_retrained_nothing(
    registry: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["retrain", "--older-than", "7d"], capsys)
    assert code == 0, err
    assert "no models" in " ".join(out.split())
    model_id = _register(registry)
    code, out, err = run(["retrain", "--older-than", "7d"], capsys)
    assert code == 0, err
    text = " ".join(out.split())
    assert "younger than 7 days" in text and f"model {model_id}" in text


def test_the_service_job_passes_its_filter_to_the_retraining(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> list[Any]:
        asked.append(kwargs)
        return []

    monkeypatch.setattr(jobs, "retrain_stale", record)
    retrain_job(model_type="xgboost", horizon=7, older_than_days=3, registry=registry)
    assert asked == [{"older_than": 3, "registry": registry, "model_type": "xgboost", "horizon": 7}]


def test_a_dry_run_says_why_it_would_retrain_nothing_as_the_retraining_does(
    registry: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["retrain", "--older-than", "7d", "--dry-run"], capsys)
    assert code == 0, err
    text = " ".join(out.split())
    assert "no models" in text and "recent enough" not in text
    model_id = _register(registry)
    code, out, err = run(["retrain", "--older-than", "7d", "--dry-run"], capsys)
    assert code == 0, err
    text = " ".join(out.split())
    assert "younger than 7 days" in text and f"model {model_id}" in text
    assert registry.list_models()[-1].model_id == model_id  # a dry run trains nothing


def test_stale_models_carry_the_same_reason_when_there_are_none(registry: Any) -> None:
    assert (
        jobs.stale_models("7d", registry=registry).reason
        == retrain_job(older_than_days=7, registry=registry).reason
    )
    _register(registry)
    listed = jobs.stale_models("7d", registry=registry)
    assert listed == [] and "younger than 7 days" in (listed.reason or "")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    assert jobs.stale_models("7d", registry=registry, now=later).reason is None
