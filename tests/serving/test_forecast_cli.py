"""``cryptoforecast forecast``: a production model's forecast, the labelled fallback, JSON out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from cryptoforecast.serving.schemas import Forecast
from tests.cli_runner import run

from ..live_servers import shared_candles, use_binance_server
from .conftest import Trained, last_close


def test_forecast_from_the_production_model(
    btc_model: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["forecast", "BTC", "-H", "1"], capsys)
    assert code == 0, out
    assert "bitcoin" in out and "drift" in out and "fallback*" not in out
    when, close = last_close("bitcoin")
    assert when.strftime("%Y-%m-%d") in out and f"{close:,.0f}" in out  # the naive beside it
    assert "median" in out and "P(up)" in out and "P±5%" in out  # the distribution
    code, out, _ = run(["forecast", "BTC", "--quantiles"], capsys)
    assert code == 0 and "price quantiles" in out and "97.5%" in out


def test_forecast_falls_back_with_its_reason(
    btc_model: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["forecast", "ethereum", "--horizon", "7"], capsys)
    assert code == 0, out
    assert "fallback*" in out and "because no production model" in out
    # the embedded snapshot is a fixed history: its forecasts are flagged as stale
    assert "yes*" in out and "stale* ethereum" in out and "fixed history" in out


def test_forecast_json_parses_back_into_forecasts(
    btc_model: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["forecast", "bitcoin", "eth", "-H", "1", "-H", "3", "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    forecasts = [Forecast.model_validate(f) for f in payload["forecasts"]]
    assert payload["errors"] == []
    assert [(f.crypto_id, f.horizon) for f in forecasts] == [
        ("bitcoin", 1),
        ("bitcoin", 3),
        ("ethereum", 1),
        ("ethereum", 3),
    ]
    by_key = {(f.crypto_id, f.horizon): f for f in forecasts}
    model = by_key[("bitcoin", 1)]
    assert (model.source, model.model_id, model.fallback_reason) == (
        "model",
        btc_model.model_id,
        None,
    )
    for key in (("bitcoin", 3), ("ethereum", 1), ("ethereum", 3)):
        f = by_key[key]
        assert f.source == "technical_analysis_fallback"
        assert f.fallback_reason == "no production model"
    when, close = last_close("bitcoin")
    assert model.as_of == when.to_pydatetime() and model.last_close == close
    lo, hi = model.intervals[0.8]
    assert lo < model.predicted_price < hi
    for f in forecasts:  # the predictive distribution travels with every forecast
        assert f.quantiles is not None and f.p_up is not None and f.p_move is not None
        levels = sorted(f.quantiles)
        assert [f.quantiles[q] for q in levels] == sorted(f.quantiles.values())
        assert 0 <= f.p_up <= 1
    assert all(f.stale and "fixed history" in (f.stale_reason or "") for f in forecasts)


def test_forecast_exits_1_when_nothing_can_forecast(
    registry: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptoforecast.serving.predictor import Predictor

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("fallback broken for this test")

    monkeypatch.setattr(Predictor, "_fallback", broken)
    code, out, err = run(["forecast", "bitcoin", "-H", "1"], capsys)
    assert code == 1
    assert "nothing could forecast bitcoin" in err and "fallback broken for this test" in err


def test_forecast_rejects_bad_input_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["forecast", "notacoin"], capsys)
    assert code == 1 and "notacoin" in err
    code, _, err = run(["forecast", "bitcoin", "-H", "15"], capsys)
    assert code == 1 and "horizon" in err and "15" in err


def test_forecast_from_a_live_source_fetches_new_candles_first(
    btc_model: Trained,
    capsys: pytest.CaptureFixture[str],
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = use_binance_server(httpserver, monkeypatch, symbols=["bitcoin"])
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-28"))
    code, out, _ = run(["forecast", "bitcoin", "--source", "binance", "--json"], capsys)
    assert code == 0
    assert json.loads(out)["forecasts"][0]["as_of"].startswith("2025-09-28")
    fake.set_candles("bitcoin", "1d", shared_candles("bitcoin", "1d", end="2025-09-30"))
    code, out, _ = run(["forecast", "bitcoin", "-s", "binance", "--no-refresh", "--json"], capsys)
    assert json.loads(out)["forecasts"][0]["as_of"].startswith("2025-09-28")  # the cache only
    code, out, _ = run(["forecast", "bitcoin", "-s", "binance", "--json"], capsys)
    (forecast,) = json.loads(out)["forecasts"]
    assert forecast["as_of"].startswith("2025-09-30") and forecast["source"] == "model"
