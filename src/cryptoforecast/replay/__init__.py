"""The served-forecast replay: what users would have received, day by day, over the past.

:func:`~cryptoforecast.replay.served.backtest_served` retrains every candidate on schedule
(:mod:`~cryptoforecast.replay.candidates`: the real pipeline and promotion gate, one Holm family
per date), then replays the service's own ``Predictor`` at every origin, fallback included, and
scores what it served beside naive and the distribution baselines. It sits above serving (it
replays it) and training (it retrains through it).
"""

from __future__ import annotations

from cryptoforecast.compat import lazy_exports

__all__ = ["ServedBacktest", "backtest_served", "guard_lines", "report_runs", "train_candidates"]

#: public name -> module that defines it
_LAZY: dict[str, str] = {
    "ServedBacktest": "cryptoforecast.replay.served",
    "backtest_served": "cryptoforecast.replay.served",
    "guard_lines": "cryptoforecast.replay.served",
    "report_runs": "cryptoforecast.replay.served",
    "train_candidates": "cryptoforecast.replay.candidates",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
