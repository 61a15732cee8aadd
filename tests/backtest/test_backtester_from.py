"""``backtester_from``: every walk built from settings gets what its own construction gave.

Each site runs with a config whose ``backtest`` section differs from the defaults; the walk is
stopped at its start and the backtester it was about to run is compared, attribute by
attribute, with the construction the site used to spell out itself.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
from rich.console import Console

from cryptoforecast.backtest.engine import ForecastBacktester, backtester_from, trainer_for
from cryptoforecast.cli import demo as demo_cli
from cryptoforecast.cli import main
from cryptoforecast.config import Settings
from cryptoforecast.data import load_ohlcv
from cryptoforecast.features import build_features
from cryptoforecast.training.tuning import walk_forward_mase
from cryptoforecast.training.validation import validate_walk_forward
from cryptoforecast.training.window import prepare_training_data

SETTINGS = Settings.model_validate(
    {
        "backtest": {
            "initial_train_size": 120,
            "test_size": 7,
            "step_size": 9,
            "retrain_frequency": 11,
            "window": "sliding",
            "interval_coverage": [0.5, 0.9],
        },
        "training": {"days": 200, "validation_size": 40, "validation_retrain_every": 10},
        "distribution": {"model": "ewma_t", "calibration": "aci"},
        "demo": {
            "backtest_days": 50,
            "retrain_frequency": 13,
            "models": ["naive"],
            "horizons": [2],
        },
    }
)


class _Started(BaseException):
    """Stops a walk at its start (a BaseException: no site's error handling catches it)."""


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[ForecastBacktester]:
    seen: list[ForecastBacktester] = []

    def stop(self: ForecastBacktester, *args: Any, **kwargs: Any) -> pd.DataFrame:
        seen.append(self)
        raise _Started

    monkeypatch.setattr(ForecastBacktester, "run_walk_forward_validation", stop)
    return seen


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return load_ohlcv("bitcoin").iloc[-800:]


def _same(got: ForecastBacktester, expected: ForecastBacktester) -> None:
    assert vars(got) == vars(expected)


def test_the_settings_give_the_backtest_section_and_overrides_win() -> None:
    cfg = SETTINGS.backtest
    _same(
        backtester_from(SETTINGS, 4),
        ForecastBacktester(
            initial_train_size=cfg.initial_train_size,
            test_size=cfg.test_size,
            step_size=cfg.step_size,
            retrain_frequency=cfg.retrain_frequency,
            horizon=4,
            window=cfg.window,
            interval_coverage=tuple(cfg.interval_coverage),
        ),
    )
    bt = backtester_from(SETTINGS, 4, window="expanding", fee_bps=3.0, test_origins=5)
    assert (bt.window, bt.fee_bps, bt.test_origins, bt.test_size) == ("expanding", 3.0, 5, 7)


def test_validation(started: list[ForecastBacktester], candles: pd.DataFrame) -> None:
    data = prepare_training_data(candles, days=200, horizon=3)
    with pytest.raises(_Started):
        validate_walk_forward(data, SETTINGS, fit=trainer_for("naive", 3))
    (bt,) = started
    step = SETTINGS.training.validation_retrain_every
    _same(
        bt,
        ForecastBacktester(
            initial_train_size=bt.initial_train_size,  # computed from the window
            test_size=step,
            step_size=step,
            retrain_frequency=step,
            horizon=3,
            window="sliding",
            interval_coverage=tuple(SETTINGS.backtest.interval_coverage),
            test_origins=bt.test_origins,  # computed from the window
            distribution=SETTINGS.distribution.model,
            distribution_calibration=SETTINGS.distribution.calibration,
        ),
    )


@pytest.mark.parametrize("settings", [None, SETTINGS])
def test_tuning(
    started: list[ForecastBacktester], candles: pd.DataFrame, settings: Settings | None
) -> None:
    features = build_features(candles)
    with pytest.raises(_Started):
        walk_forward_mase(trainer_for("naive", 2), candles, features, 60, 10, 2, settings=settings)
    n_rows = len(candles) - 2
    _same(
        started[0],
        ForecastBacktester(
            initial_train_size=n_rows - 60 - 2 + 1,
            test_size=10,
            step_size=10,
            retrain_frequency=10,
            horizon=2,
            interval_coverage=(),
            test_origins=60,
        ),
    )


def test_backtest_command(
    started: list[ForecastBacktester], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cryptoforecast.cli.backtest.load_config", lambda: SETTINGS)
    with pytest.raises(_Started):
        main(
            [
                "backtest",
                "bitcoin",
                "--model",
                "naive",
                "--horizon",
                "3",
                "--days",
                "60",
                "--retrain-frequency",
                "20",
                "--fee-bps",
                "4",
                "--distribution",
                "garch_t",
            ]
        )
    cfg = SETTINGS.backtest
    _same(
        started[0],
        ForecastBacktester(
            initial_train_size=cfg.initial_train_size,
            test_size=cfg.test_size,
            step_size=cfg.step_size,
            retrain_frequency=20,
            horizon=3,
            window=cfg.window,
            interval_coverage=tuple(cfg.interval_coverage),
            test_origins=60,
            fee_bps=4.0,
            interval_method="split",
            distribution="garch_t",
        ),
    )


def test_demo(started: list[ForecastBacktester], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_training(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("not trained in this test")

    monkeypatch.setattr(demo_cli, "train_model", no_training)
    with pytest.raises(_Started):
        demo_cli.run_demo(Console(file=io.StringIO()), config=SETTINGS, registry=object())
    demo = SETTINGS.demo
    _same(
        started[0],
        ForecastBacktester(
            initial_train_size=SETTINGS.training.days,
            test_size=demo.retrain_frequency,
            step_size=demo.retrain_frequency,
            retrain_frequency=demo.retrain_frequency,
            horizon=2,
            window="sliding",
            interval_coverage=tuple(SETTINGS.backtest.interval_coverage),
            test_origins=demo.backtest_days,
        ),
    )
