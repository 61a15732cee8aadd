"""The exception tree of cryptoforecast.

Every error the package raises on purpose derives from :class:`CryptoForecastError`::

    CryptoForecastError
    ├── DataError            bad, missing or inconsistent market data; unknown asset ids
    │   └── SourceError      a live data source failed (HTTP status, timeout, bad payload)
    ├── FeatureError         features cannot be built (too little history, bad columns)
    ├── ConfigError          a configuration value is missing or out of range
    ├── ArtifactError        a saved model is missing, corrupt, tampered or incompatible
    │   └── FeatureMismatchError  features at predict time differ from those the model was fitted on
    ├── RegistryError        the model registry refused an operation
    └── NotFittedError       a model was used before ``fit`` (also a ``ValueError``)

Messages say what went wrong, show the value received and say how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ArtifactError",
    "ConfigError",
    "CryptoForecastError",
    "DataError",
    "FeatureError",
    "FeatureMismatchError",
    "NotFittedError",
    "RegistryError",
    "SourceError",
]


class CryptoForecastError(Exception):
    """Base class of every error raised by cryptoforecast."""


class DataError(CryptoForecastError, ValueError):
    """Market data is missing, malformed or inconsistent, or an asset id is unknown."""


class SourceError(DataError):
    """A live data source failed: HTTP error, timeout, or a payload that does not validate."""


class FeatureError(DataError):
    """Features cannot be computed from the candles given."""


class ConfigError(CryptoForecastError, ValueError):
    """A configuration value is invalid."""


class ArtifactError(CryptoForecastError):
    """A saved model artifact is missing, corrupt, tampered with or incompatible."""


class FeatureMismatchError(ArtifactError, DataError):
    """The feature columns given differ from the ones the model was fitted on (or its manifest)."""


class RegistryError(CryptoForecastError):
    """The model registry refused an operation."""


class NotFittedError(CryptoForecastError, ValueError):
    """A model was used before being fitted (worded like scikit-learn's)."""
