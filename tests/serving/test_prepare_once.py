"""A forecast request prepares once: its candles are loaded and the registry read once on a
cache miss (not once for the cache lookup and again for the computation), and a cache hit costs
no more than that. The registry is read once for the production model and once for the
production distribution version (both are in the cache key)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import Predictor, create_app
from cryptoforecast.serving import predictor as predictor_module

from .conftest import FakeClock, SyncASGIClient, Trained


@pytest.fixture
def reads(registry: Any, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the coin's daily candle loads and the registry's production-record reads (of a
    point model and of a distribution version apart)."""
    counts: Counter[str] = Counter()
    real_load = predictor_module.load_ohlcv
    real_read = registry.get_production_model
    real_distribution = registry.get_production_distribution

    def load(crypto_id: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("interval", "1d") == "1d":
            counts["candles"] += 1
        return real_load(crypto_id, *args, **kwargs)

    def read(*args: Any, **kwargs: Any) -> Any:
        counts["registry"] += 1
        return real_read(*args, **kwargs)

    def read_distribution(*args: Any, **kwargs: Any) -> Any:
        counts["distribution"] += 1
        return real_distribution(*args, **kwargs)

    monkeypatch.setattr(predictor_module, "load_ohlcv", load)
    monkeypatch.setattr(registry, "get_production_model", read)
    monkeypatch.setattr(registry, "get_production_distribution", read_distribution)
    return counts


def test_the_route_loads_candles_and_reads_the_registry_once_per_request(
    registry: Any, btc_model: Trained, clock: FakeClock, reads: Counter[str]
) -> None:
    app = create_app(load_config(), registry=registry, admin_token=None, clock=clock, retrain=None)
    client = SyncASGIClient(app)

    miss = client.get("/v1/forecast/bitcoin")
    assert miss.status_code == 200 and miss.json()["cached"] is False
    assert reads == {"candles": 1, "registry": 1, "distribution": 1}

    reads.clear()
    hit = client.get("/v1/forecast/bitcoin")
    assert hit.status_code == 200 and hit.json()["cached"] is True
    assert reads["candles"] <= 1 and reads["registry"] <= 1 and reads["distribution"] <= 1


def test_predict_loads_candles_and_reads_the_registry_once_per_call(
    registry: Any, btc_model: Trained, clock: FakeClock, reads: Counter[str]
) -> None:
    pred = Predictor(registry=registry, clock=clock, record=False)
    assert pred.predict("bitcoin").cached is False
    assert reads == {"candles": 1, "registry": 1, "distribution": 1}

    reads.clear()
    assert pred.predict("bitcoin").cached is True
    assert reads["candles"] <= 1 and reads["registry"] <= 1 and reads["distribution"] <= 1
