"""retrain --older-than: stale keys are retrained through the same gate; fresh ones are left alone."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from cryptoforecast.cli import main
from cryptoforecast.config import load_config
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training.jobs import find_stale, parse_age, retrain_stale, stale_models
from cryptoforecast.training.pipeline import train_model_for_crypto

FAST = {
    "lightgbm": {"n_estimators": 30, "early_stopping_rounds": 10},
    "training": {"validation_size": 60, "validation_retrain_every": 30},
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", dt.timedelta(days=7)),
        ("12h", dt.timedelta(hours=12)),
        ("2w", dt.timedelta(weeks=2)),
        ("30m", dt.timedelta(minutes=30)),
        ("90s", dt.timedelta(seconds=90)),
        (3, dt.timedelta(days=3)),
    ],
)
def test_parse_age(text: object, expected: dt.timedelta) -> None:
    assert parse_age(text) == expected


@pytest.mark.parametrize("bad", ["7", "seven days", "-1d", "0d", "", None])
def test_parse_age_rejects_nonsense(bad: object) -> None:
    with pytest.raises(ConfigError, match="older-than"):
        parse_age(bad)


def _train(
    reg: ModelRegistry, crypto_id: str, model_type: str, horizon: int = 1, days: int = 250
) -> object:
    return asyncio.run(
        train_model_for_crypto(
            crypto_id,
            model_type,
            days=days,
            horizon=horizon,
            config=load_config(overrides=FAST),
            registry=reg,
        )
    )


def test_only_stale_keys_are_retrained_through_the_gate() -> None:
    reg = ModelRegistry()
    old_lgbm = _train(reg, "bitcoin", "lightgbm", days=260)
    old_naive = _train(reg, "ethereum", "naive")
    now = dt.datetime.now(dt.UTC)
    assert find_stale(reg, "7d", now=now) == []
    later = now + dt.timedelta(days=8)
    stale = find_stale(reg, "7d", now=later)
    assert {(s.crypto_id, s.model_type, s.horizon) for s in stale} == {
        ("bitcoin", "lightgbm", 1),
        ("ethereum", "naive", 1),
    }
    assert {s.days for s in stale} == {260, 250}  # each key keeps its training window

    dry = stale_models("7d", registry=reg, config=FAST, now=later)  # what --dry-run lists
    assert len(dry) == 2 and len(reg.list_models()) == 2

    results = retrain_stale("7d", registry=reg, config=FAST, now=later)
    assert len(results) == 2 and all(r.error is None for r in results)
    by_key = {(r.crypto_id, r.model_type): r for r in results}
    new_naive = reg.get(by_key[("ethereum", "naive")].model_id)
    assert (
        new_naive.version == "1.1.0" and new_naive.status == "staging"
    )  # naive never passes the gate
    assert by_key[("ethereum", "naive")].replaces_model_id == old_naive.training_result_.model_id
    new_lgbm = reg.get(by_key[("bitcoin", "lightgbm")].model_id)
    assert new_lgbm.config["days"] == 260
    # production holds a model only if it earned it
    prod = reg.get_production_model("bitcoin", "lightgbm")
    if new_lgbm.metrics["gate"]["promote"]:
        assert prod.model_id == new_lgbm.model_id
        if (
            old_lgbm.training_result_.status == "production"
        ):  # the previous production model made way
            assert reg.get(old_lgbm.training_result_.model_id).status == "archived"
    else:
        assert prod is None or prod.model_id == old_lgbm.training_result_.model_id
    # right after, nothing is stale any more (relative to real time)
    assert find_stale(reg, "7d") == []


def test_newest_model_decides_the_age() -> None:
    reg = ModelRegistry()
    _train(reg, "bitcoin", "drift")
    _train(reg, "bitcoin", "drift")
    newest = max(reg.list_models(), key=lambda r: r.created_at)
    stale = find_stale(reg, "1d", now=newest.created_at + dt.timedelta(days=2))
    assert len(stale) == 1 and stale[0].newest_model_id == newest.model_id


def test_cli_retrain(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retrain", "--older-than", "7d"]) == 0
    assert "nothing to retrain: the registry has no models yet" in capsys.readouterr().out
    assert main(["retrain", "--older-than", "soon"]) == 1
    assert "older-than" in capsys.readouterr().err
    reg = ModelRegistry()
    _train(reg, "bitcoin", "drift")
    time.sleep(1.1)
    assert main(["retrain", "--older-than", "1s", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Would retrain 1 model" in out and "bitcoin" in out
    assert len(reg.list_models()) == 1


def test_retraining_keeps_a_tuned_models_hyperparameters() -> None:
    """A weekly retrain refreshes the data; it must not silently swap tuned parameters for the
    config's defaults."""
    reg = ModelRegistry()
    tuned = asyncio.run(
        train_model_for_crypto(
            "bitcoin",
            "lightgbm",
            days=260,
            tune=2,
            config=load_config(overrides=FAST),
            registry=reg,
        )
    )
    tuned_params = reg.get(tuned.training_result_.model_id).config["params"]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    (stale,) = find_stale(reg, "7d", now=later)
    assert stale.tuned_params == tuned_params
    (result,) = retrain_stale("7d", registry=reg, config=FAST, now=later)
    assert result.error is None
    retrained = reg.get(result.model_id).config
    assert retrained["params"] == tuned_params
    assert retrained["params"] != load_config(overrides=FAST).model_params("lightgbm")
