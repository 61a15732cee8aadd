"""Registry fixtures: every test runs on SQLite, and on PostgreSQL too when
``CRYPTOFORECAST_TEST_POSTGRES_URL`` is set (each test then gets its own schema)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cryptoforecast.registry import ModelRegistry

from ..postgres import POSTGRES_ENV, fresh_schema_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty registry database URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (.ci/run sets it after starting PostgreSQL)")
    with fresh_schema_url(base) as url:
        yield url


@pytest.fixture
def artifact_root(tmp_path: Path) -> Path:
    root = tmp_path / "artifacts"
    root.mkdir()
    return root


@pytest.fixture
def registry(registry_url: str, artifact_root: Path) -> Iterator[ModelRegistry]:
    reg = ModelRegistry(registry_url, artifact_root=artifact_root, actor="tester")
    yield reg
    reg.close()
