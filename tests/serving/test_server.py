"""One test against a real uvicorn server on 127.0.0.1 (random free port, stopped at the end)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app

from .conftest import Trained


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(registry: Any, btc_model: Trained) -> Iterator[str]:
    import uvicorn

    app = create_app(load_config(), registry=registry, admin_token="t0ken")
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


def test_real_uvicorn_server(server: str, btc_model: Trained) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        first = client.get("/v1/forecast/bitcoin")
        second = client.get("/v1/forecast/bitcoin")
        assert first.status_code == second.status_code == 200
        assert (first.json()["source"], first.json()["model_id"]) == ("model", btc_model.model_id)
        assert (first.json()["cached"], second.json()["cached"]) == (False, True)
        assert client.get("/v1/forecast/nope").status_code == 404
        assert (
            client.post("/v1/retrain", headers={"Authorization": "Bearer wrong"}).status_code == 401
        )
        health = client.get("/healthz").json()
        assert health["cache_entries"] == 1 and health["models"][0]["loaded"] is True
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "cryptoforecast_cache_hits_total 1.0" in metrics.text
