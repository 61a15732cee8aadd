"""``retrain --dry-run`` words each key's age as people read it (``1 year 2 months``), not as a
count of days (``432.0``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cryptoforecast.cli import training as training_cli
from cryptoforecast.training.jobs import StaleModel, StaleModels
from tests.cli_runner import run


def test_the_plan_shows_a_human_age(
    cf_home: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    created = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    key = StaleModel(
        crypto_id="bitcoin",
        model_type="lightgbm",
        horizon=1,
        newest_model_id=3,
        newest_version="v1",
        newest_created_at=created,
        age_days=432.0,
        days=300,
        source="snapshot",
    )
    monkeypatch.setattr(training_cli, "stale_models", lambda older_than: StaleModels([key]))
    code, out, _ = run(["retrain", "--older-than", "7d", "--dry-run"], capsys)
    assert code == 0
    assert "1 year 2 months" in " ".join(out.split()), out
    assert "432.0" not in out and "age (days)" not in out
