"""Tuning progress: one line per trial that says what the trial really was (complete, pruned,
failed); a MASE is printed only for a trial whose validation ran to the end."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.exceptions import DataError
from cryptoforecast.training import pipeline as tp
from cryptoforecast.training import tuning
from tests.training.test_tuning import FOLDS_PER_TRIAL, tune_with_trials_that_turn_awful


def test_a_pruned_trial_is_labelled_pruned_without_a_mase(
    tmp_path: Path,
    btc_daily: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three normal trials, then every model forecasts far off: the median pruner stops those
    trials after their second fold (the pruner's warm-up is one fold), and their progress lines must say so instead of showing the
    running MASE Optuna keeps as a pruned trial's value."""
    with caplog.at_level("INFO", logger=tuning.logger.name):
        res, _ = tune_with_trials_that_turn_awful(tmp_path, btc_daily, monkeypatch, 5)
    lines = [r.getMessage() for r in caplog.records if r.name == tuning.logger.name]
    states = [h["state"] for h in res.history]
    assert states == ["COMPLETE"] * 3 + ["PRUNED"] * 2
    assert len(lines) == 5
    for line, h in zip(lines[:3], res.history[:3], strict=True):
        assert re.match(rf"trial {h['number'] + 1}/5: MASE {h['value']:.4f} \(best MASE ", line)
    for line in lines[3:]:
        assert re.match(
            rf"trial [45]/5: pruned after 2 of {FOLDS_PER_TRIAL} folds "
            rf"\(best MASE {res.best_value:.4f}\)$",
            line,
        ), line
        assert "MASE" not in line.split("(")[0]


def test_a_failed_trial_is_labelled_failed_without_a_mase(
    tmp_path: Path,
    btc_daily: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A validation that answers NaN fails its trial: the line says failed, not a MASE."""
    data = tp.prepare_training_data(btc_daily.iloc[-800:], 300, 1)
    settings = load_config(
        overrides={"training": {"validation_size": 90, "validation_retrain_every": 30}}
    )
    monkeypatch.setattr(tuning, "walk_forward_mase", lambda *a, **k: float("nan"))
    with (
        caplog.at_level("INFO", logger=tuning.logger.name),
        pytest.raises(DataError, match="no Optuna trial of study 'f' completed"),
    ):
        tuning.tune_hyperparameters(
            data, "lightgbm", 2, settings, study_name="f", storage=f"sqlite:///{tmp_path / 'f.db'}"
        )
    lines = [r.getMessage() for r in caplog.records if r.name == tuning.logger.name]
    assert lines == [
        "trial 1/2: failed (no completed trial yet)",
        "trial 2/2: failed (no completed trial yet)",
    ]
