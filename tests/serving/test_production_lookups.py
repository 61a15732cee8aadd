"""The production lookups a predictor keeps: the registry's production point model and
production distribution version of a (coin, horizon) are read once per registry change (its
change stamp, one tiny query per request), so a forecast-cache miss on a seen candle does not
read the models table again; a promotion or demotion made through another registry object (as
the CLI does from another process) is seen at the very next request; the answers equal an
uncached predictor's."""

from __future__ import annotations

from typing import Any

import pytest

from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving import Predictor
from cryptoforecast.serving.state import ServingState

from .conftest import FakeClock, fit_model, register

END = "2025-06-01"


def predictor(registry: Any, clock: FakeClock) -> Predictor:
    return Predictor(
        registry=registry, cache_ttl=0, clock=clock, record=False, end=END, state=ServingState()
    )


def test_a_seen_candle_does_not_read_the_models_table_again(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(registry, fit_model("bitcoin", "drift", 7), "bitcoin")
    p = predictor(registry, clock)
    assert p.predict("bitcoin", 7).source == "model"
    reads: list[Any] = []
    real = ModelRegistry.list_models

    def list_models(self: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append((args, kwargs))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ModelRegistry, "list_models", list_models)
    again = p.predict("bitcoin", 7)  # cache_ttl=0: a forecast-cache miss
    assert again.source == "model" and again.cached is False
    assert reads == []


def test_a_promotion_and_a_demotion_through_another_registry_are_seen_at_the_next_predict(
    registry: Any, clock: FakeClock
) -> None:
    p = predictor(registry, clock)
    first = p.predict("bitcoin", 7)
    assert first.source == "technical_analysis_fallback"
    assert p.predict("bitcoin", 7).source == "technical_analysis_fallback"

    other = ModelRegistry()  # another object on the same database, as another process
    try:
        trained = register(other, fit_model("bitcoin", "drift", 7), "bitcoin")
        promoted = p.predict("bitcoin", 7)
        assert promoted.source == "model" and promoted.model_id == trained.model_id

        other.demote(trained.model_id, "pulled")
        demoted = p.predict("bitcoin", 7)
        assert demoted.source == "technical_analysis_fallback"
        assert demoted.fallback_reason == "no production model"
    finally:
        other.close()


def test_the_kept_lookups_give_the_forecast_json_of_an_uncached_predictor(
    registry: Any, clock: FakeClock
) -> None:
    register(registry, fit_model("bitcoin", "drift", 7), "bitcoin")
    p = predictor(registry, clock)
    p.predict("bitcoin", 7)
    p.predict("bitcoin", 3)
    again = p.predict("bitcoin", 7)  # the kept lookups
    fresh = predictor(registry, clock).predict("bitcoin", 7)
    assert again.model_dump_json() == fresh.model_dump_json()


def test_a_request_digests_its_candles_once(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The candles' digest (what keys their kept state) is computed once per request, not by
    every step that reads the state; a fresh predictor still gives the same answer."""
    from cryptoforecast.serving import state as state_module

    p = predictor(registry, clock)
    first = p.predict("bitcoin", 7)
    digests: list[str] = []
    real = state_module.candle_digest

    def digest(*args: Any, **kwargs: Any) -> str:
        digests.append(real(*args, **kwargs))
        return digests[-1]

    monkeypatch.setattr(state_module, "candle_digest", digest)
    again = p.predict("bitcoin", 7)
    assert len(digests) <= 1
    assert again.model_dump_json() == first.model_dump_json()
    assert predictor(registry, clock).predict("bitcoin", 7).model_dump_json() == (
        first.model_dump_json()
    )


def test_candles_equal_to_the_last_request_s_are_not_digested_again_and_any_change_is(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A seen candle compares its candles with the last request's of the series (every time,
    column and value, kept as a copy) instead of hashing them: equal candles reuse their state,
    and a change anywhere, even in the oldest row's volume, reads another state."""
    import pandas as pd

    from cryptoforecast.serving import state as state_module

    p = predictor(registry, clock)
    first = p.predict("bitcoin", 7)
    digests: list[str] = []
    real_digest = state_module.candle_digest

    def digest(*args: Any, **kwargs: Any) -> str:
        digests.append(real_digest(*args, **kwargs))
        return digests[-1]

    monkeypatch.setattr(state_module, "candle_digest", digest)
    assert p.predict("bitcoin", 7).model_dump_json() == first.model_dump_json()
    assert digests == []

    real = Predictor.candles_as_of
    kept = p.candle_state("bitcoin", real(p, "bitcoin", END))

    def revised(self: Predictor, crypto_id: str, as_of: Any) -> pd.DataFrame:
        out = real(self, crypto_id, as_of)
        out.iloc[0, out.columns.get_loc("volume")] += 1.0
        return out

    monkeypatch.setattr(Predictor, "candles_as_of", revised)
    p.predict("bitcoin", 7)
    assert len(digests) == 1
    assert p.candle_state("bitcoin", revised(p, "bitcoin", END)) is not kept
