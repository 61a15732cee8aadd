"""Every number the configuration or the command line takes is finite and bounded on both sides;
a value outside is refused up front, naming the setting, the value and the allowed range, instead
of reaching the service (a 500 on every forecast, a retrain thread that dies at start) or a raw
``OverflowError``."""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from cryptoforecast.cli import main
from cryptoforecast.config import Settings, load_config
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.serving.background import ScheduledJob
from cryptoforecast.training.jobs import parse_age, stale_models


def _numeric(annotation: Any) -> bool:
    args = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else ()
    kinds = {a for a in args if a is not type(None)} or {annotation}
    return bool(kinds) and all(k in (int, float) for k in kinds)


def _numeric_settings(
    model: type[BaseModel] = Settings, prefix: tuple[str, ...] = ()
) -> list[tuple[str, FieldInfo]]:
    """(dotted key, field) of every int or float setting, nested sections included."""
    found = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            found += _numeric_settings(ann, (*prefix, name))
        elif _numeric(ann):
            found.append((".".join((*prefix, name)), field))
    return found


NUMERIC = _numeric_settings()


def test_the_walk_finds_the_numeric_settings() -> None:
    keys = {k for k, _ in NUMERIC}
    assert {
        "serving.stale_grace_seconds",
        "retrain.older_than_days",
        "retrain.schedule_every_hours",
        "serving.refresh.delay_seconds",
        "cache.ttl_seconds",
        "lightgbm.reg_lambda",
        "training.seed",
        "feature_selection.top_k",
    } <= keys
    assert len(keys) > 40


@pytest.mark.parametrize(("key", "field"), NUMERIC, ids=[k for k, _ in NUMERIC])
def test_every_numeric_setting_documents_a_lower_and_an_upper_bound(
    key: str, field: FieldInfo
) -> None:
    def has(*names: str) -> bool:
        return any(getattr(m, n, None) is not None for m in field.metadata for n in names)

    assert has("ge", "gt"), f"{key} has no lower bound"
    assert has("le", "lt"), f"{key} has no upper bound"


def test_the_bounds_are_in_the_json_schema() -> None:
    schema = Settings.model_json_schema()
    grace = schema["$defs"]["ServingConfig"]["properties"]["stale_grace_seconds"]
    assert grace["minimum"] == 0 and grace["maximum"] > 0
    every = schema["$defs"]["RetrainConfig"]["properties"]["schedule_every_hours"]
    (number,) = [s for s in every["anyOf"] if s.get("type") == "number"]
    assert "minimum" in number and "maximum" in number


def test_config_show_schema_prints_the_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    grace = schema["$defs"]["ServingConfig"]["properties"]["stale_grace_seconds"]
    assert (grace["minimum"], grace["maximum"]) == (0, 30 * 86_400)


def _env(key: str, value: str) -> dict[str, str]:
    return {"CRYPTOFORECAST_" + key.upper().replace(".", "__"): value}


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1.0e+300", "-1.0e+300"])
@pytest.mark.parametrize("key", [k for k, _ in NUMERIC])
def test_a_non_finite_or_huge_setting_is_a_config_error_naming_key_value_and_range(
    key: str, value: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ=_env(key, value))
    text = str(info.value)
    assert f"{key} = " in text, text
    assert "allowed:" in text and (">=" in text or ">" in text) and "<" in text, text


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("serving.stale_grace_seconds", ".inf", "inf"),
        ("serving.stale_grace_seconds", "1.0e+300", "1e+300"),
        ("retrain.older_than_days", "1.0e+20", "1e+20"),
        ("retrain.schedule_every_hours", ".inf", "inf"),
    ],
)
def test_the_values_of_the_report_are_refused_with_their_range(
    key: str, value: str, shown: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ=_env(key, value))
    text = str(info.value)
    assert f"{key} = {shown}" in text and "allowed: " in text, text


def test_an_in_range_value_still_loads() -> None:
    cfg = load_config(
        environ={
            "CRYPTOFORECAST_SERVING__STALE_GRACE_SECONDS": "7200",
            "CRYPTOFORECAST_RETRAIN__OLDER_THAN_DAYS": "30",
            "CRYPTOFORECAST_RETRAIN__SCHEDULE_EVERY_HOURS": "24",
        }
    )
    assert cfg.serving.stale_grace_seconds == 7200
    assert cfg.retrain.older_than_days == 30
    assert cfg.retrain.schedule_every_hours == 24


def test_a_settings_object_refuses_an_unbounded_assignment() -> None:
    """Settings built in code (not from a file) are held to the same bounds."""
    cfg = Settings()
    with pytest.raises(ValueError, match="finite"):
        cfg.serving.stale_grace_seconds = float("inf")


@pytest.mark.parametrize("every", [float("inf"), float("nan"), 0.0, -1.0, 1e300])
def test_a_scheduled_job_refuses_a_period_its_thread_cannot_wait(every: float) -> None:
    with pytest.raises(ValueError, match="every_seconds"):
        ScheduledJob("retrain", lambda: None, every_seconds=every)


@pytest.mark.parametrize(
    "value",
    ["99999999999d", "36501d", "99999999999w", float("inf"), float("nan"), 10**30, 1e20],
)
def test_an_age_beyond_the_bound_is_a_config_error_not_an_overflow(value: object) -> None:
    with pytest.raises(ConfigError, match=r"older-than .*at most 36500 days") as info:
        parse_age(value)  # type: ignore[arg-type]
    assert "Overflow" not in str(info.value)


@pytest.mark.parametrize("value", ["0.5s", 1e-300, 0])
def test_an_age_below_a_second_is_refused(value: object) -> None:
    with pytest.raises(ConfigError, match="older-than"):
        parse_age(value)  # type: ignore[arg-type]


def test_the_bounds_of_an_age_are_inclusive() -> None:
    assert parse_age("36500d") == dt.timedelta(days=36_500)
    assert parse_age("1s") == dt.timedelta(seconds=1)
    assert parse_age(1.5) == dt.timedelta(days=1.5)


def test_stale_models_with_the_largest_configured_age_finds_nothing() -> None:
    cfg = load_config(environ={"CRYPTOFORECAST_RETRAIN__OLDER_THAN_DAYS": "36500"})
    assert stale_models(config=cfg) == []


def test_cli_retrain_refuses_a_huge_older_than(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retrain", "--older-than", "99999999999d", "--dry-run"]) == 1
    err = capsys.readouterr().err
    assert "--older-than" in err and "36500" in err and "OverflowError" not in err, err


@pytest.fixture
def nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The work behind the commands below fails the test if an out-of-range value reaches it
    (``check-leakage --cuts 10**12`` would otherwise run for hours; ``serve`` would serve)."""

    def reached(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"an out-of-range value was accepted: {args} {kwargs}")

    monkeypatch.setattr("cryptoforecast.cli.leakage.check_lookahead", reached)
    monkeypatch.setattr("cryptoforecast.cli.serving.import_optional", reached)
    for command in ("backtest", "training", "data"):
        monkeypatch.setattr(f"cryptoforecast.cli.{command}.load_ohlcv", reached)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["check-leakage", "--asset", "bitcoin", "--cuts", "1000000000000"], "--cuts"),
        (["check-leakage", "--asset", "bitcoin", "--seed", "-1"], "--seed"),
        (["check-leakage", "--asset", "bitcoin", "--seed", str(2**64)], "--seed"),
        (["serve", "--workers", "100000"], "--workers"),
        (["backtest", "bitcoin", "-m", "naive", "--fee-bps", "inf"], "--fee-bps"),
        (["backtest", "bitcoin", "-m", "naive", "--fee-bps", "1e300"], "--fee-bps"),
        (["backtest", "bitcoin", "-m", "naive", "--days", str(10**18)], "--days"),
        (
            ["backtest", "bitcoin", "-m", "naive", "--initial-train-size", str(10**18)],
            "--initial-train-size",
        ),
        (
            ["backtest", "bitcoin", "-m", "naive", "--retrain-frequency", str(10**18)],
            "--retrain-frequency",
        ),
        (["train", "bitcoin", "-m", "naive", "--days", str(10**20), "--no-save"], "--days"),
        (["train", "bitcoin", "-m", "lightgbm", "--tune", str(10**20), "--no-save"], "--tune"),
        (["data", "show", "bitcoin", "--days", str(10**18)], "--days"),
        (["ledger", "score", "--horizon", str(10**20)], "--horizon"),
    ],
)
def test_cli_numbers_out_of_range_are_usage_errors(
    args: list[str], flag: str, nothing_runs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"Invalid value for '{flag}'" in err, err
    assert "less than or equal to" in err or "greater than or equal to" in err, err
