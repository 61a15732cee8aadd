"""The prediction service: ``Predictor`` (cached, labelled forecasts), the forecast ``Ledger``
and the HTTP API built by ``create_app(settings)``. Imported lazily (no FastAPI on import)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AccuracyRow",
    "Forecast",
    "Ledger",
    "PredictionUnavailable",
    "Predictor",
    "TTLCache",
    "create_app",
]

_WHERE = {
    "AccuracyRow": "cryptoforecast.serving.schemas",
    "Forecast": "cryptoforecast.serving.schemas",
    "Ledger": "cryptoforecast.serving.ledger",
    "PredictionUnavailable": "cryptoforecast.serving.predictor",
    "Predictor": "cryptoforecast.serving.predictor",
    "TTLCache": "cryptoforecast.serving.cache",
    "create_app": "cryptoforecast.serving.app",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'cryptoforecast.serving' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
