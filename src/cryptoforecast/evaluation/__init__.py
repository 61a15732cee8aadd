"""Evaluation: forecast metrics, the Diebold-Mariano test, the honesty scorecard and the report.

* :mod:`~cryptoforecast.evaluation.metrics` - pure metric functions of arrays.
* :mod:`~cryptoforecast.evaluation.stats` - ``diebold_mariano`` (HLN-corrected).
* :mod:`~cryptoforecast.evaluation.summary` - ``summarise_results`` (model beside naive).
* :mod:`~cryptoforecast.evaluation.scorecard` - the design targets, pass/fail, naive beside.
* :mod:`~cryptoforecast.evaluation.report` - one self-contained offline HTML report.
* :mod:`~cryptoforecast.evaluation.guard` - the live guard's sequential test against naive.

Names are imported lazily (matplotlib only loads when a report is rendered).
"""

from __future__ import annotations

from cryptoforecast.compat import lazy_exports

__all__ = [
    "BacktestRun",
    "DMResult",
    "diebold_mariano",
    "render_report",
    "scorecard",
    "scorecard_table",
    "summarise_results",
    "write_report",
    "crps_ensemble",
    "crps_from_quantiles",
    "crps_gaussian",
    "crps_student_t",
    "dm_crps",
    "format_price",
    "mase",
    "pit_histogram",
    "summarise_distribution",
    "verdict",
    "ARL0",
    "CALIBRATED_THRESHOLDS",
    "DETECTION_DELAY_P95",
    "GUARD_REASON",
    "GuardParams",
    "GuardTrip",
    "GuardWalk",
    "LossGuard",
    "calibrate_threshold",
    "cusum_run",
    "detection_delays",
    "guard_params",
    "guard_walk",
    "simulate_differentials",
]

_LAZY: dict[str, str] = {
    "DMResult": "cryptoforecast.evaluation.stats",
    "diebold_mariano": "cryptoforecast.evaluation.stats",
    "summarise_results": "cryptoforecast.evaluation.summary",
    "scorecard": "cryptoforecast.evaluation.scorecard",
    "scorecard_table": "cryptoforecast.evaluation.scorecard",
    "BacktestRun": "cryptoforecast.evaluation.report",
    "render_report": "cryptoforecast.evaluation.report",
    "write_report": "cryptoforecast.evaluation.report",
    "crps_ensemble": "cryptoforecast.evaluation.scoring",
    "crps_from_quantiles": "cryptoforecast.evaluation.scoring",
    "crps_gaussian": "cryptoforecast.evaluation.scoring",
    "crps_student_t": "cryptoforecast.evaluation.scoring",
    "dm_crps": "cryptoforecast.evaluation.scoring",
    "format_price": "cryptoforecast.evaluation.formatting",
    "mase": "cryptoforecast.evaluation.metrics",
    "pit_histogram": "cryptoforecast.evaluation.scoring",
    "summarise_distribution": "cryptoforecast.evaluation.distribution_summary",
    "verdict": "cryptoforecast.evaluation.scorecard",
    "ARL0": "cryptoforecast.evaluation.guard",
    "CALIBRATED_THRESHOLDS": "cryptoforecast.evaluation.guard",
    "DETECTION_DELAY_P95": "cryptoforecast.evaluation.guard",
    "GUARD_REASON": "cryptoforecast.evaluation.guard",
    "GuardParams": "cryptoforecast.evaluation.guard",
    "GuardTrip": "cryptoforecast.evaluation.guard",
    "GuardWalk": "cryptoforecast.evaluation.guard",
    "LossGuard": "cryptoforecast.evaluation.guard",
    "calibrate_threshold": "cryptoforecast.evaluation.guard",
    "cusum_run": "cryptoforecast.evaluation.guard",
    "detection_delays": "cryptoforecast.evaluation.guard",
    "guard_params": "cryptoforecast.evaluation.guard",
    "guard_walk": "cryptoforecast.evaluation.guard",
    "simulate_differentials": "cryptoforecast.evaluation.guard",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
