"""What an anonymous client is told when the service fails: the kind of failure, never its text.

Error messages are written for whoever runs the code: they name files, database URLs and hosts
and repeat drivers' messages, which is what the owner of the machine needs (the command line
shows them whole). An HTTP client gets none of that. It is told the error's ``public`` text when
the error has one (``the binance 1d candles for bitcoin are unreadable``), else the part of the
service that failed and the error's type (``registry unavailable: RegistryUnavailable``). The message
itself goes to the service log, through :func:`cryptoforecast.redaction.redact`.
"""

from __future__ import annotations

from cryptoforecast.exceptions import (
    ArtifactError,
    CryptoForecastError,
    DataError,
    LedgerError,
    RegistryError,
    SourceError,
)

__all__ = ["public_reason", "unavailable"]

#: error kind -> the part of the service it comes from, most specific first
_PARTS: tuple[tuple[type[BaseException], str], ...] = (
    (LedgerError, "ledger"),
    (RegistryError, "registry"),
    (SourceError, "data source"),
    (ArtifactError, "model"),
    (DataError, "market data"),
)


def unavailable(part: str, exc: BaseException) -> str:
    """``<part> unavailable: <error type>``, e.g. ``registry unavailable: OperationalError``."""
    return f"{part} unavailable: {type(exc).__name__}"


def public_reason(exc: BaseException) -> str:
    """What anyone may be told about ``exc``: its ``public`` text, or the part that failed and
    the error's type. Never the message, which may name paths, URLs and hosts."""
    if isinstance(exc, CryptoForecastError) and exc.public:
        return exc.public
    part = next((name for kind, name in _PARTS if isinstance(exc, kind)), "service")
    return unavailable(part, exc)
