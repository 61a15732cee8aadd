"""Predictive distributions: volatility models, calibration, and the composed forecaster.

* :mod:`~.volatility` - ``rolling_gaussian``, ``ewma_t``, ``har_rv`` and the realised measures;
  :mod:`~.garch` - ``garch_t`` (``arch``, imported lazily); :mod:`~.reference` - ``garch_ref``,
  the textbook GARCH(1,1)-t every distribution is scored against; :mod:`~.lightgbm_vol`.
* :mod:`~.shapes` - standardised shapes and :class:`PredictiveDistribution` (quantiles, p_up,
  p_move, CRPS, PIT).
* :mod:`~.calibration` - normalised conformal scores with per-level ACI.
* :mod:`~.forecaster` - :class:`DistributionForecaster` (fit, predict, save/load).
* :mod:`~.combination` - :class:`CombinedDistribution`, the weighted quantile average of
  members with weights from their past CRPS (:func:`combination_weights`), and
  :func:`load_distribution`, which loads either kind.
"""

from __future__ import annotations

from cryptoforecast.models.distribution.attached import load_attached, save_attached
from cryptoforecast.models.distribution.calibration import (
    CONFORMAL_WINDOW,
    Calibration,
    ScoreCalibrator,
    calibrated_shape,
    check_calibration,
    make_calibrator,
)
from cryptoforecast.models.distribution.combination import (
    COMBINATION,
    COMBINATION_LEVELS,
    COMBINATION_MIN_SCORED,
    COMBINATION_SHARPNESS,
    COMBINATION_WINDOW,
    CombinedDistribution,
    StoredDistribution,
    combination_weights,
    fitted_weights,
    load_distribution,
)
from cryptoforecast.models.distribution.forecaster import (
    BASELINES,
    VOLATILITY_MODELS,
    DistributionForecaster,
    make_volatility_model,
)
from cryptoforecast.models.distribution.reference import (
    REFERENCE_MIN_RETURNS,
    REFERENCE_WINDOW,
    GarchRef,
)
from cryptoforecast.models.distribution.shapes import (
    QUANTILES,
    PredictiveDistribution,
    StandardShape,
    check_levels,
    coverage_levels,
)
from cryptoforecast.models.distribution.volatility import MarketData, realized_measures

__all__ = [
    "BASELINES",
    "COMBINATION",
    "COMBINATION_LEVELS",
    "COMBINATION_MIN_SCORED",
    "COMBINATION_SHARPNESS",
    "COMBINATION_WINDOW",
    "QUANTILES",
    "REFERENCE_MIN_RETURNS",
    "REFERENCE_WINDOW",
    "VOLATILITY_MODELS",
    "CombinedDistribution",
    "DistributionForecaster",
    "GarchRef",
    "MarketData",
    "PredictiveDistribution",
    "ScoreCalibrator",
    "StandardShape",
    "StoredDistribution",
    "combination_weights",
    "fitted_weights",
    "load_distribution",
    "make_volatility_model",
    "realized_measures",
    "CONFORMAL_WINDOW",
    "Calibration",
    "calibrated_shape",
    "check_calibration",
    "check_levels",
    "coverage_levels",
    "load_attached",
    "make_calibrator",
    "save_attached",
]
