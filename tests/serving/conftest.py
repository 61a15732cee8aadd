"""Fixtures for the serving tests: a temporary registry with a production model, a fake clock,
and a synchronous client that talks to the ASGI app through httpx (no network)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

#: models in these tests are trained on candles up to this day only
TRAIN_END = "2025-03-31"


class FakeClock:
    """A settable UTC clock for cache and age tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now = self.now + timedelta(seconds=seconds)


@dataclass
class Trained:
    """A model saved in the registry: its id, the fitted instance and the artifact directory."""

    model_id: int
    model: Any
    path: Path


def fit_model(
    crypto_id: str, model_type: str = "drift", horizon: int = 1, end: str = TRAIN_END, **params: Any
) -> Any:
    """Fit a small model on ``build_features`` output of the snapshot, up to ``end``."""
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features, make_target
    from cryptoforecast.models import make_forecaster

    candles = load_ohlcv(crypto_id, end=end)
    X = build_features(candles)
    y = make_target(candles, horizon)
    keep = X.notna().all(axis=1) & y.notna()
    return make_forecaster(model_type, horizon=horizon, **params).fit(X.loc[keep], y.loc[keep])


def register(
    registry: Any, model: Any, crypto_id: str, status: str = "production", val_mase: float = 0.95
) -> Trained:
    """Save ``model`` and register it by hand; as production, forced past the promotion gate (a
    model registered by hand has no gate decision; the history records the override)."""
    path = registry.new_artifact_dir(crypto_id, model.model_type, model.horizon)
    model.save_model(path)
    model_id = registry.register_model(
        model_type=model.model_type,
        crypto_id=crypto_id,
        horizon=model.horizon,
        model_path=path,
        metrics={"val_mase": val_mase},
        config={},
        status=status,
        force=status == "production",
    )
    return Trained(model_id, model, path)


@pytest.fixture
def registry(cf_home: Path) -> Iterator[Any]:
    from cryptoforecast.registry import ModelRegistry

    reg = ModelRegistry()
    yield reg
    reg.close()


@pytest.fixture(scope="session")
def drift_btc() -> Any:
    """A drift model for bitcoin h=1 fitted on features up to TRAIN_END (fitted once)."""
    return fit_model("bitcoin", "drift", 1)


@pytest.fixture
def btc_model(registry: Any, drift_btc: Any) -> Trained:
    """``drift_btc`` registered as bitcoin's production model in this test's registry."""
    return register(registry, drift_btc, "bitcoin")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class SyncASGIClient:
    """Calls an ASGI app through ``httpx.ASGITransport`` from synchronous tests."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        import httpx

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)


def last_close(crypto_id: str, end: str | None = None) -> tuple[pd.Timestamp, float]:
    from cryptoforecast.data import load_ohlcv

    df = load_ohlcv(crypto_id, end=end)
    return df.index[-1], float(df["close"].iloc[-1])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started as a subprocess: terminate, then kill after 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_server(app: Any) -> Iterator[str]:
    """``app`` on a real uvicorn server at a free port of 127.0.0.1; yields its base URL and
    stops it afterwards."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            srv.should_exit = True
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "uvicorn did not shut down"
