"""Shared fixtures. Every test gets its own ``$CRYPTOFORECAST_HOME``; nothing touches the network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "binance"


@pytest.fixture(autouse=True)
def cf_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """An empty cryptoforecast home per test, and no config or registry from the environment.

    The service's reports folder is in that home too: the default, ``./reports``, is where
    ``make demo`` writes its report in the checkout the tests run from."""
    home = tmp_path_factory.mktemp("cfhome")
    monkeypatch.setenv("CRYPTOFORECAST_HOME", str(home))
    monkeypatch.setenv("CRYPTOFORECAST_REPORTS_DIR", str(home / "reports"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    for var in (
        "CRYPTOFORECAST_CONFIG",
        "CRYPTOFORECAST_REGISTRY_URL",
        "CRYPTOFORECAST_ADMIN_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)
    yield home


@pytest.fixture
def plugins_forgotten() -> Iterator[None]:
    """No plug-in loaded before the test, and none left loaded after it."""
    from tests.plugin_install import forget_plugins

    forget_plugins()
    yield
    forget_plugins()


@pytest.fixture
def serve_started(monkeypatch: pytest.MonkeyPatch, cf_home: Path) -> list[dict[str, Any]]:
    """``cryptoforecast serve`` without a server: uvicorn is a stand-in that records the
    keyword arguments of each ``run`` (an empty list: the server was not started)."""
    from types import SimpleNamespace

    calls: list[dict[str, Any]] = []
    fake = SimpleNamespace(run=lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setattr("cryptoforecast.cli.serving.import_optional", lambda *a, **k: fake)
    return calls


@pytest.fixture(scope="session")
def btc_daily() -> pd.DataFrame:
    """Bitcoin daily candles from the embedded snapshot (2018-03-17 .. 2025-09-30)."""
    from cryptoforecast.data import load_ohlcv

    return load_ohlcv("bitcoin")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data/binance`` (tests only; the package never reads it)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def train_many_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """``train_many`` as the command line calls it, faked: each call's ``(ids, models,
    horizons)`` is recorded and nothing is trained."""
    from cryptoforecast.cli import training as training_cli

    calls: list[tuple[Any, ...]] = []

    def fake_train_many(ids: list[str], models: list[str], horizons: list[int], **kw: Any) -> list:
        calls.append((ids, models, horizons))
        return []

    monkeypatch.setattr(training_cli, "train_many", fake_train_many)
    return calls
