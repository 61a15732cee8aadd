"""A fresh PostgreSQL schema for a test, on the server ``CRYPTOFORECAST_TEST_POSTGRES_URL`` names."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_ENV = "CRYPTOFORECAST_TEST_POSTGRES_URL"


@contextlib.contextmanager
def fresh_schema_url(base: str, prefix: str = "cf_test") -> Iterator[str]:
    """A URL of ``base`` whose search path is a new, empty schema (dropped afterwards)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


#: parametrize a database fixture with these: SQLite always, PostgreSQL when the CI provides it
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def database_url(backend: str, sqlite_file: Path, prefix: str = "cf_test") -> Iterator[str]:
    """For a fixture: a SQLite URL at ``sqlite_file``, or a fresh PostgreSQL schema (skipped
    when ``CRYPTOFORECAST_TEST_POSTGRES_URL`` is not set)."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_file}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run sets it after starting PostgreSQL)")
    with fresh_schema_url(base, prefix) as url:
        yield url
