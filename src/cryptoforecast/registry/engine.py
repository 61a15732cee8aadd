"""One way to open a database from a URL, for the registry and the ledger.

A malformed URL, an unknown database kind or a driver that is not installed becomes a
:class:`RegistryError` that names the expected URL form and what to install; the URL is always
named without its credentials (:func:`cryptoforecast.redaction.describe_url`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.redaction import describe_url

__all__ = ["URL_FORMS", "make_engine", "parse_url"]

URL_FORMS = (
    "'sqlite:////absolute/path/registry.db' or "
    "'postgresql+psycopg://user:password@host:5432/database'"
)
_EXTRAS = {"postgresql": "pip install 'cryptoforecast[postgres]' (psycopg)"}


def parse_url(url: str, what: str, env: str) -> URL:
    """``url`` parsed, or :class:`RegistryError` saying which URL forms are expected."""
    try:
        return sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError, TypeError):
        raise RegistryError(
            f"the {what} URL {describe_url(url)!r} is not a database URL; expected {URL_FORMS}. "
            f"Fix {env} or the url= argument."
        ) from None


def make_engine(url: str, what: str, env: str, **kwargs: Any) -> Engine:
    """A SQLAlchemy engine for ``url`` (nothing connects yet), or a :class:`RegistryError`."""
    parsed = parse_url(url, what, env)
    backend = parsed.get_backend_name()
    try:
        return sa.create_engine(parsed, **kwargs)
    except sa.exc.NoSuchModuleError:
        raise RegistryError(
            f"the {what} URL {describe_url(url)!r} names the database kind {parsed.drivername!r}, "
            f"which SQLAlchemy does not know; expected {URL_FORMS}. Fix {env}."
        ) from None
    except ImportError as exc:
        install = _EXTRAS.get(backend, f"install the Python driver {exc.name or backend!r}")
        raise RegistryError(
            f"the database driver for the {what} URL {describe_url(url)!r} is not installed "
            f"({type(exc).__name__}: {exc}); {install}, or use {URL_FORMS}."
        ) from None
