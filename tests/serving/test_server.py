"""One test against a real uvicorn server on 127.0.0.1 (random free port, stopped at the end)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app

from .conftest import Trained, running_server


@pytest.fixture
def server(registry: Any, btc_model: Trained) -> Iterator[str]:
    with running_server(create_app(load_config(), registry=registry, admin_token="t0ken")) as url:
        yield url


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
