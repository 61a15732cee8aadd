"""cryptoforecast: cryptocurrency price forecasts, measured against the naive forecast.

Importing the package is cheap: heavy libraries (torch, fastapi, dask, lightgbm) are imported
where they are used.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from cryptoforecast.exceptions import (
    ArtifactError,
    ConfigError,
    CryptoForecastError,
    DataError,
    FeatureError,
    NotFittedError,
    RegistryError,
    SourceError,
)

try:
    __version__ = version("cryptoforecast")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "ArtifactError",
    "ConfigError",
    "CryptoForecastError",
    "DataError",
    "FeatureError",
    "NotFittedError",
    "RegistryError",
    "SourceError",
    "__version__",
]
