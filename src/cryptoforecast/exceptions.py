"""The exception tree of cryptoforecast.

Every error the package raises on purpose derives from :class:`CryptoForecastError`::

    CryptoForecastError
    ├── DataError            bad, missing or inconsistent market data; unknown asset ids
    │   ├── SourceError      a live data source failed (HTTP status, timeout, bad payload)
    │   └── CacheError       the candle cache cannot be used: a damaged file, a lock held or denied
    ├── FeatureError         features cannot be built (too little history, bad columns)
    ├── ConfigError          a configuration value is missing or out of range
    ├── ArtifactError        a saved model is missing, corrupt, tampered or incompatible
    │   └── FeatureMismatchError  features at predict time differ from those the model was fitted on
    ├── RegistryError        the model registry refused an operation
    │   └── RegistryUnavailable  its database cannot be reached or failed (not the request's fault)
    │       └── LedgerError  the forecast ledger cannot be opened or read
    └── NotFittedError       a model was used before ``fit`` (also a ``ValueError``)

Messages say what went wrong, show the value received and say how to fix it. They are written for
whoever runs the code and may name files and databases; ``public``, when an error has one, says
the same without them (what the service tells an anonymous client).
"""

from __future__ import annotations

__all__ = [
    "ArtifactError",
    "CacheError",
    "ConfigError",
    "CryptoForecastError",
    "DataError",
    "FeatureError",
    "FeatureMismatchError",
    "LedgerError",
    "NotFittedError",
    "RegistryError",
    "RegistryUnavailable",
    "SourceError",
]


class CryptoForecastError(Exception):
    """Base class of every error raised by cryptoforecast."""

    #: the failure told without any path, URL or driver message (``None``: only its kind may be
    #: told); the service answers this instead of the message
    public: str | None = None


class DataError(CryptoForecastError, ValueError):
    """Market data is missing, malformed or inconsistent, or an asset id is unknown."""


class SourceError(DataError):
    """A live data source failed: HTTP error, timeout, or a payload that does not validate."""


class CacheError(DataError):
    """The candle cache cannot be used: a cached file is damaged, truncated or not written by
    cryptoforecast, or a series' lock is held too long or not permitted to this user.

    A fault of the server's state, not of the request (a service answers 503). The message names
    the file and the fix; ``public`` names only the series, e.g. ``the binance 1d candles for
    bitcoin are unreadable``.
    """

    def __init__(self, message: str, public: str = "the cached candles are unreadable") -> None:
        super().__init__(message)
        self.public = public


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


class RegistryUnavailable(RegistryError):
    """The registry's database cannot be reached, opened or written: the server's state, not the
    request (a service answers 503, where a refused operation is a 404 or a 409)."""


class LedgerError(RegistryUnavailable):
    """The forecast ledger's database cannot be opened or read."""


class NotFittedError(CryptoForecastError, ValueError):
    """A model was used before being fitted (worded like scikit-learn's)."""
