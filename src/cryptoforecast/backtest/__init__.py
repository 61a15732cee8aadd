"""The walk-forward engine: every origin forecast by a model that never saw its future.

* :mod:`~cryptoforecast.backtest.engine` - ``ForecastBacktester`` (splits, purge, refit schedule,
  block predictions, the results frame), ``backtester_from(settings, horizon)`` and
  ``trainer_for(model_type)``.
* :mod:`~cryptoforecast.backtest.adaptive_intervals` - adaptive conformal bands per origin.
* :mod:`~cryptoforecast.backtest.distribution_walk` - a predictive distribution walked over the
  same origins and scored (CRPS, PIT, coverage), and the combination of such walks.

A layer between the models and training: training validates through it, the served-forecast
replay and the command line backtest with it; it stores nothing. Names are imported lazily, so
``import cryptoforecast.backtest`` pulls in no model library.
"""

from __future__ import annotations

from cryptoforecast.compat import lazy_exports

__all__ = [
    "AdaptiveIntervals",
    "DistributionWalk",
    "FitCache",
    "ForecastBacktester",
    "ModelTrainer",
    "backtester_from",
    "trainer_for",
    "walk_combination",
    "walk_distribution",
    "level_tag",
]

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "AdaptiveIntervals": "cryptoforecast.backtest.adaptive_intervals",
    "DistributionWalk": "cryptoforecast.backtest.distribution_walk",
    "FitCache": "cryptoforecast.backtest.engine",
    "ForecastBacktester": "cryptoforecast.backtest.engine",
    "ModelTrainer": "cryptoforecast.backtest.engine",
    "backtester_from": "cryptoforecast.backtest.engine",
    "trainer_for": "cryptoforecast.backtest.engine",
    "walk_combination": "cryptoforecast.backtest.distribution_walk",
    "walk_distribution": "cryptoforecast.backtest.distribution_walk",
    "level_tag": "cryptoforecast.backtest.distribution_walk",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
