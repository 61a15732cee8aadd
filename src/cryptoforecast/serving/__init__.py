"""The prediction service: ``Predictor`` (cached, labelled forecasts), the forecast ``Ledger``
and the HTTP API built by ``create_app(settings)``. Imported lazily (no FastAPI on import)."""

from __future__ import annotations

from cryptoforecast.compat import lazy_exports

__all__ = [
    "AccuracyRow",
    "Forecast",
    "ForecastDistribution",
    "Ledger",
    "PredictionUnavailable",
    "Predictor",
    "TTLCache",
    "create_app",
    "COVERAGES",
    "as_predictive",
    "create_service",
    "plot_forecast_path",
]

_WHERE = {
    "AccuracyRow": "cryptoforecast.serving.schemas",
    "Forecast": "cryptoforecast.serving.schemas",
    "ForecastDistribution": "cryptoforecast.serving.schemas",
    "Ledger": "cryptoforecast.serving.ledger",
    "PredictionUnavailable": "cryptoforecast.serving.predictor",
    "Predictor": "cryptoforecast.serving.predictor",
    "TTLCache": "cryptoforecast.serving.cache",
    "create_app": "cryptoforecast.serving.app",
    "COVERAGES": "cryptoforecast.serving.point_forecast",
    "as_predictive": "cryptoforecast.serving.distribution",
    "create_service": "cryptoforecast.serving.service",
    "plot_forecast_path": "cryptoforecast.serving.plotting",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
