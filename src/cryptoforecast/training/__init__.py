"""Training: walk-forward splits, the backtester and the training pipeline.

Names are imported lazily on first use, so ``import cryptoforecast.training`` pulls in no model
library. To export a new name, add one line to ``_LAZY`` (name -> module) and to ``__all__``.
"""

from __future__ import annotations

from cryptoforecast.compat import lazy_exports

__all__ = [
    "ForecastBacktester",
    "ServedBacktest",
    "Split",
    "backtest_served",
    "TrainingResult",
    "TrainingSummary",
    "ValidationMetrics",
    "train_many",
    "train_global_model",
    "train_model_for_crypto",
    "train_rows",
    "trainer_for",
    "walk_forward_splits",
]

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "ForecastBacktester": "cryptoforecast.training.backtester",
    "trainer_for": "cryptoforecast.training.fitting",
    "Split": "cryptoforecast.models.splits",
    "train_rows": "cryptoforecast.models.splits",
    "walk_forward_splits": "cryptoforecast.models.splits",
    "train_model_for_crypto": "cryptoforecast.training.train_pipeline",
    "backtest_served": "cryptoforecast.training.served",
    "train_global_model": "cryptoforecast.training.global_training",
    "ServedBacktest": "cryptoforecast.training.served",
    "TrainingResult": "cryptoforecast.training.results",
    "TrainingSummary": "cryptoforecast.training.results",
    "ValidationMetrics": "cryptoforecast.training.metrics",
    "train_many": "cryptoforecast.training.distributed",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
