"""Every name in the public ``__all__`` lists resolves (lazy tables included)."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "cryptoforecast.evaluation",
    "cryptoforecast.evaluation.metrics",
    "cryptoforecast.evaluation.stats",
    "cryptoforecast.evaluation.scoring",
    "cryptoforecast.evaluation.distribution_summary",
    "cryptoforecast.evaluation.report_distribution",
    "cryptoforecast.evaluation.figures",
    "cryptoforecast.backtest.distribution_walk",
    "cryptoforecast.models.distribution",
    "cryptoforecast.evaluation.summary",
    "cryptoforecast.evaluation.scorecard",
    "cryptoforecast.evaluation.report",
    "cryptoforecast.models.splits",
    "cryptoforecast.backtest.engine",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_resolve(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__, name
    for attr in module.__all__:
        assert getattr(module, attr) is not None, f"{name}.{attr}"


def test_training_package_lazy_exports() -> None:
    import cryptoforecast.training as training

    assert {"train_model", "train_model_for_crypto", "TrainingResult"} <= set(training.__all__)
    assert training.train_model.__module__ == "cryptoforecast.training.pipeline"
    for attr in training.__all__:
        assert getattr(training, attr) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        training.nope  # noqa: B018


def test_importing_evaluation_does_not_load_matplotlib() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cryptoforecast.evaluation.summary, cryptoforecast.backtest.engine; "
        "print('matplotlib' in sys.modules, 'lightgbm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
