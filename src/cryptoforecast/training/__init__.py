"""Training: walk-forward splits, the backtester and the training pipeline.

Names are imported lazily on first use, so ``import cryptoforecast.training`` pulls in no model
library. To export a new name, add one line to ``_LAZY`` (name -> module) and to ``__all__``.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ForecastBacktester",
    "ServedBacktest",
    "Split",
    "backtest_served",
    "train_global_model",
    "train_model_for_crypto",
    "train_rows",
    "trainer_for",
    "walk_forward_splits",
]

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "ForecastBacktester": "cryptoforecast.training.backtester",
    "trainer_for": "cryptoforecast.training.backtester",
    "Split": "cryptoforecast.training.splits",
    "train_rows": "cryptoforecast.training.splits",
    "walk_forward_splits": "cryptoforecast.training.splits",
    "train_model_for_crypto": "cryptoforecast.training.train_pipeline",
    "backtest_served": "cryptoforecast.training.served",
    "train_global_model": "cryptoforecast.training.global_training",
    "ServedBacktest": "cryptoforecast.training.served",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cryptoforecast.training' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
