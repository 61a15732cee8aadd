"""Optuna tuning: seeded TPE, pruning, a resumable SQLite study, never on the gate's validation tail."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.redaction import mask_url
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.training import pipeline as tp
from cryptoforecast.training import tuning
from cryptoforecast.training.tuning import walk_forward_mase

FAST = {
    "lightgbm": {"n_estimators": 30, "early_stopping_rounds": 10},
    "training": {"validation_size": 60, "validation_retrain_every": 30},
}


def cfg(**training: object) -> object:
    over = {k: dict(v) for k, v in FAST.items()}
    over["training"].update(training)
    return load_config(overrides=over)


def test_walk_forward_mase_is_one_for_naive_and_reports_each_fold() -> None:
    from cryptoforecast.models import make_forecaster

    rng = np.random.default_rng(0)
    idx = pd.date_range("2024-01-01", periods=121, freq="D", tz="UTC")
    X = pd.DataFrame({"a": rng.normal(size=121)}, index=idx)
    candles = pd.DataFrame(
        {"close": np.exp(np.cumsum(rng.normal(0, 0.02, 121))) * 100}, index=idx
    )  # 120 labelled rows at h=1
    reports: list[tuple[float, int]] = []
    value = walk_forward_mase(
        lambda X_, y_: make_forecaster("naive").fit(X_, y_),
        candles,
        X,
        40,
        10,
        1,
        report=lambda v, k: reports.append((v, k)),
    )
    assert value == pytest.approx(1.0)
    assert [k for _, k in reports] == [0, 1, 2, 3]


def test_tune_stores_study_in_home_resumes_and_saves_best_params(
    cf_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}
    real = tuning.tune_hyperparameters

    def spy(data, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen["last_row"] = data.X.index[kwargs["rows"] - 1]
        seen["study"] = kwargs["study_name"]
        return real(data, *args, **kwargs)

    monkeypatch.setattr(tp, "tune_hyperparameters", spy)
    reg = ModelRegistry()
    model = asyncio.run(
        tp.train_model_for_crypto(
            "bitcoin", "lightgbm", days=400, tune=3, config=cfg(), registry=reg
        )
    )
    db = cf_home / "optuna.db"
    assert db.is_file()
    # tuning saw only rows before the validation tail the gate judges
    assert seen["last_row"] < pd.Timestamp(model.training_result_.metrics.validation_start)
    rec = reg.get(model.training_result_.model_id)
    assert rec.config["tuning"]["n_trials"] == 3
    best = rec.config["tuning"]["best_params"]
    assert rec.config["params"] == best == model.training_result_.params
    assert model.n_estimators == best["n_estimators"]
    # the same study resumes: three more trials make six
    study = optuna.load_study(study_name=str(seen["study"]), storage=f"sqlite:///{db}")
    assert len(study.trials) == 3
    again = asyncio.run(
        tp.train_model_for_crypto(
            "bitcoin", "lightgbm", days=400, tune=3, config=cfg(), save_model=False
        )
    )
    assert again.training_result_.tuning["n_trials"] == 6


def test_tuning_labels_end_before_the_first_validation_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At h=7 the last tuning row's target spans 7 days: it must end by the gate's first origin."""
    seen: dict[str, pd.Timestamp] = {}

    def spy(data, *args, rows, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        seen["last_row"] = data.X.index[rows - 1]
        raise optuna.TrialPruned("stop here: only the tuning rows are checked")

    monkeypatch.setattr(tp, "tune_hyperparameters", spy)
    h = 7
    with pytest.raises(optuna.TrialPruned):
        asyncio.run(
            tp.train_model_for_crypto(
                "bitcoin", "lightgbm", days=400, horizon=h, tune=1, config=cfg(), save_model=False
            )
        )
    model = asyncio.run(
        tp.train_model_for_crypto(
            "bitcoin", "lightgbm", days=400, horizon=h, config=cfg(), save_model=False
        )
    )
    first_origin = pd.Timestamp(model.training_result_.metrics.validation_start)
    # the label of row t is known at t + h: every tuning label is known at the first origin
    assert seen["last_row"] + pd.Timedelta(days=h) == first_origin


def test_seeded_tpe_samples_the_same_parameters(tmp_path: Path, btc_daily: pd.DataFrame) -> None:
    data = tp.prepare_training_data(btc_daily.iloc[-800:], 300, 1)
    runs = []
    for name in ("a", "b"):
        res = tuning.tune_hyperparameters(
            data,
            "lightgbm",
            3,
            cfg(),
            study_name="s",
            storage=f"sqlite:///{tmp_path / name}.db",
        )
        runs.append([h["params"] for h in res.history])
    assert runs[0] == runs[1]
    assert len({tuple(sorted(p.items())) for p in runs[0]}) == 3  # TPE did explore


def test_a_resumed_study_explores_new_parameters(tmp_path: Path, btc_daily: pd.DataFrame) -> None:
    data = tp.prepare_training_data(btc_daily.iloc[-800:], 300, 1)
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    for _ in range(2):
        res = tuning.tune_hyperparameters(data, "lightgbm", 2, cfg(), study_name="r", storage=url)
    params = [tuple(sorted(h["params"].items())) for h in res.history]
    assert len(params) == 4
    assert len(set(params)) == 4  # the second run did not replay the first run's samples


def test_storage_url_is_configurable(tmp_path: Path, btc_daily: pd.DataFrame) -> None:
    url = f"sqlite:///{tmp_path / 'shared-study.db'}"
    settings = cfg(optuna_storage=url)
    assert tuning.default_storage_url(settings) == url
    data = tp.prepare_training_data(btc_daily.iloc[-800:], 300, 1)
    res = tuning.tune_hyperparameters(data, "lightgbm", 1, settings, study_name="x")
    assert (tmp_path / "shared-study.db").is_file() and res.storage == url
    assert (
        mask_url("postgresql+psycopg://bob:secret@db:5432/optuna")
        == "postgresql+psycopg://bob:***@db:5432/optuna"
    )


#: validation origins, a refit every 30: three folds a trial
FOLDS_PER_TRIAL = 3


def tune_with_trials_that_turn_awful(
    tmp_path: Path, btc_daily: pd.DataFrame, monkeypatch: pytest.MonkeyPatch, n_trials: int
) -> tuple[Any, int]:
    """Tune LightGBM on bitcoin with ``n_trials`` trials, of which every model after the third
    trial forecasts +65%; return the tuning result and how many models were fitted."""
    data = tp.prepare_training_data(btc_daily.iloc[-800:], 300, 1)
    settings = load_config(
        overrides={
            "lightgbm": {"n_estimators": 20},
            "training": {"validation_size": 90, "validation_retrain_every": 30},
        }
    )
    fits = {"n": 0}
    real_fit = tuning.fit_forecaster

    class Awful:
        def __init__(self, inner) -> None:  # noqa: ANN001
            self.inner = inner

        def predict(self, X: pd.DataFrame) -> pd.Series:
            return self.inner.predict(X) + 0.5

        def __getattr__(self, name: str):  # noqa: ANN204 - a forecaster in every other respect
            return getattr(self.inner, name)

    def fit(model_type, horizon, X, y, params, seed=42, top_k=None):  # noqa: ANN001, ANN202
        fits["n"] += 1
        model = real_fit(model_type, horizon, X, y, params, seed, top_k)
        return Awful(model) if fits["n"] > 3 * FOLDS_PER_TRIAL else model

    monkeypatch.setattr(tuning, "fit_forecaster", fit)
    res = tuning.tune_hyperparameters(
        data,
        "lightgbm",
        n_trials,
        settings,
        study_name="p",
        storage=f"sqlite:///{tmp_path / 'p.db'}",
    )
    return res, fits["n"]


def test_pruner_stops_a_trial_that_is_worse_than_the_median(
    tmp_path: Path, btc_daily: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After three normal trials every model forecasts +65%: the median pruner must stop those trials."""
    res, fitted = tune_with_trials_that_turn_awful(tmp_path, btc_daily, monkeypatch, 6)
    states = [h["state"] for h in res.history]
    assert states[:3] == ["COMPLETE"] * 3
    assert states[3:] == ["PRUNED"] * 3
    assert res.n_pruned == 3 and fitted < 6 * FOLDS_PER_TRIAL  # pruned trials stopped early
    assert res.best_value < 1.5


def test_baselines_have_nothing_to_tune() -> None:
    with pytest.raises(ConfigError, match="nothing to tune"):
        asyncio.run(
            tp.train_model_for_crypto(
                "bitcoin", "naive", days=300, tune=2, config=cfg(), save_model=False
            )
        )


@pytest.mark.parametrize(
    "url", ["notaurl", "postgresql+psycopg://bob:pw-hidden-42@127.0.0.1:1/optuna"]
)
def test_an_unusable_storage_is_a_config_error_without_the_password(
    url: str, btc_daily: pd.DataFrame
) -> None:
    data = tp.prepare_training_data(btc_daily.iloc[-800:], 300, 1)
    with pytest.raises(ConfigError, match="cannot open the Optuna storage") as info:
        tuning.tune_hyperparameters(data, "lightgbm", 1, cfg(optuna_storage=url), study_name="x")
    assert "pw-hidden-42" not in str(info.value)


def test_each_trial_is_reported_as_it_finishes(
    tmp_path: Path, btc_daily: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    data = tp.prepare_training_data(btc_daily.iloc[-800:], 300, 1)
    storage = f"sqlite:///{tmp_path / 'p'}.db"
    with caplog.at_level("INFO", logger=tuning.logger.name):
        res = tuning.tune_hyperparameters(
            data, "lightgbm", 2, cfg(), study_name="p", storage=storage
        )
    lines = [r.getMessage() for r in caplog.records if r.name == tuning.logger.name]
    assert [line.split(":")[0] for line in lines] == ["trial 1/2", "trial 2/2"]
    assert f"best MASE {res.best_value:.4f}" in lines[-1]
