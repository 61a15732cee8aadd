"""The serving package's public API is what ``__all__`` lists, and every name resolves."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "cryptoforecast.serving",
    "cryptoforecast.serving.app",
    "cryptoforecast.serving.cache",
    "cryptoforecast.serving.ledger",
    "cryptoforecast.serving.model_checks",
    "cryptoforecast.serving.point_forecast",
    "cryptoforecast.serving.predictor",
    "cryptoforecast.serving.response",
    "cryptoforecast.serving.schemas",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_names_resolve(name: str) -> None:
    module = importlib.import_module(name)
    assert len(set(module.__all__)) == len(module.__all__) > 0
    for attr in module.__all__:
        assert getattr(module, attr) is not None, f"{name}.{attr}"


def test_ttl_cache_expiry_eviction_and_disable() -> None:
    from cryptoforecast.serving import TTLCache

    now = [0.0]
    cache: TTLCache[str, int] = TTLCache(10, maxsize=2, clock=lambda: now[0])
    cache.set("a", 1)
    now[0] = 9.999
    assert cache.get("a") == 1
    now[0] = 10.0
    assert cache.get("a") is None and len(cache) == 0
    for i, k in enumerate("xyz"):
        cache.set(k, i)
    assert (cache.get("x"), cache.get("y"), cache.get("z"), len(cache)) == (None, 1, 2, 2)
    off: TTLCache[str, int] = TTLCache(0)
    off.set("a", 1)
    assert off.get("a") is None
    with pytest.raises(ValueError, match="ttl"):
        TTLCache(-1)
