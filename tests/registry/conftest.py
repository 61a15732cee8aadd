"""Registry fixtures: every test runs on SQLite, and on PostgreSQL too when
``CRYPTOFORECAST_TEST_POSTGRES_URL`` is set (each test then gets its own schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cryptoforecast.registry import ModelRegistry

from ..postgres import BACKENDS, database_url


@pytest.fixture(params=BACKENDS)
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty registry database URL."""
    yield from database_url(request.param, tmp_path / "registry.db")


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
