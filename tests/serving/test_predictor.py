"""Predictor: production model, features from the training code, cache, labelled fallbacks."""

from __future__ import annotations

import math
import shutil
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import ConfigError, DataError
from cryptoforecast.serving import Forecast, Predictor
from cryptoforecast.serving.ledger import Ledger

from .conftest import FakeClock, Trained, fit_model, last_close, register


def make_predictor(registry: Any, clock: FakeClock, **kwargs: Any) -> Predictor:
    return Predictor(registry=registry, clock=clock, **kwargs)


def test_forecast_from_production_model(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features

    pred = make_predictor(registry, clock)
    f = pred.predict("bitcoin", horizon=1)
    assert isinstance(f, Forecast)
    assert (f.source, f.fallback_reason, f.cached) == ("model", None, False)
    assert (f.model_id, f.model_type, f.model_version) == (btc_model.model_id, "drift", "1.0.0")
    as_of, close = last_close("bitcoin")
    assert f.as_of == as_of.to_pydatetime() and f.last_close == close
    assert f.target_time == (as_of + pd.Timedelta(days=1)).to_pydatetime()
    # the number is the model's prediction on features built by the training code
    candles = load_ohlcv("bitcoin")
    X = build_features(candles)[btc_model.model.feature_names_].iloc[[-1]]
    expected = float(btc_model.model.predict(X).iloc[0])
    assert f.predicted_return == pytest.approx(expected, rel=1e-12)
    assert f.predicted_price == pytest.approx(close * math.exp(expected), rel=1e-12)
    assert f.p_up is not None and f.p_up_base_rate is not None
    if abs(f.p_up - f.p_up_base_rate) < 0.02:
        assert f.direction == "flat"
    else:
        assert f.direction == ("up" if expected > 0 else "down")
    lo80, hi80 = f.intervals[0.8]
    lo95, hi95 = f.intervals[0.95]
    assert lo95 <= lo80 <= f.predicted_price <= hi80 <= hi95
    # the intervals are the served distribution's quantiles, not the point model's own bands
    assert f.quantiles is not None
    assert (lo80, hi80) == (f.quantiles[0.1], f.quantiles[0.9])
    iv = btc_model.model.predict_interval(X, coverage=0.8)
    assert lo80 != pytest.approx(close * math.exp(float(iv["lower"].iloc[0])), rel=1e-6)
    # model age from the registry's creation time and the injected clock
    record = registry.get(btc_model.model_id)
    assert f.model_age_days == pytest.approx(
        (clock.now - record.created_at).total_seconds() / 86400, abs=1e-3
    )
    assert f.generated_at == clock.now


def test_second_call_is_cached_until_ttl(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    ledger = Ledger()
    pred = make_predictor(registry, clock, cache_ttl=300, ledger=ledger)
    first = pred.predict("bitcoin")
    second = pred.predict("BTC")  # same asset by symbol: same key
    assert not first.cached and second.cached
    assert second.model_dump(exclude={"cached"}) == first.model_dump(exclude={"cached"})
    clock.advance(299)
    assert pred.predict("bitcoin").cached
    clock.advance(2)  # 301 s after the first call: expired
    third = pred.predict("bitcoin")
    assert not third.cached and third.generated_at == clock.now
    assert len(ledger) == 2  # only non-cached forecasts are ledgered


def test_model_loaded_once_and_reused(
    registry: Any, btc_model: Trained, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cryptoforecast.serving import predictor as predictor_module

    calls = []
    original = predictor_module.load_registered

    def spy(record: Any) -> Any:
        calls.append(record.model_id)
        return original(record)

    monkeypatch.setattr(predictor_module, "load_registered", spy)
    pred = make_predictor(registry, clock, cache_ttl=0)  # no cache: every call computes
    for h in (1, 1, 1):
        assert pred.predict("bitcoin", horizon=h).source == "model"
    assert calls == [btc_model.model_id]
    assert set(pred.loaded_models) == {btc_model.model_id}


def test_promotion_and_new_candle_invalidate_the_cache(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    pred = make_predictor(registry, clock, end="2025-09-29")
    a = pred.predict("bitcoin")
    assert pred.predict("bitcoin").cached
    # a new candle arrives: the last candle time in the key changes
    pred.end = "2025-09-30"
    b = pred.predict("bitcoin")
    assert not b.cached and b.as_of > a.as_of
    # a promotion: the model_id in the key changes
    newer = register(
        registry, fit_model("bitcoin", "drift", 1, end="2025-05-31"), "bitcoin", status="staging"
    )
    assert pred.predict("bitcoin").cached
    registry.promote(newer.model_id, reason="test", force=True)
    c = pred.predict("bitcoin")
    assert not c.cached and c.model_id == newer.model_id and c.model_version == "1.1.0"


def test_fallback_when_no_production_model(registry: Any, clock: FakeClock) -> None:
    f = make_predictor(registry, clock).predict("ethereum", horizon=3)
    assert f.source == "technical_analysis_fallback"
    assert f.fallback_reason == "no production model"
    assert (f.model_type, f.model_id, f.model_version, f.model_age_days) == (
        "technical",
        None,
        None,
        None,
    )
    assert f.predicted_price == pytest.approx(f.last_close * math.exp(f.predicted_return))
    assert (
        f.intervals[0.95][0] <= f.intervals[0.8][0] <= f.intervals[0.8][1] <= f.intervals[0.95][1]
    )
    assert f.target_time - f.as_of == pd.Timedelta(days=3)


def test_fallback_when_artifact_deleted(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    shutil.rmtree(btc_model.path)
    f = make_predictor(registry, clock).predict("bitcoin")
    assert (f.source, f.fallback_reason) == ("technical_analysis_fallback", "artifact missing")
    assert f.model_id is None and f.model_type == "technical"


def test_fallback_when_artifact_tampered(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    manifest = btc_model.path / "manifest.json"
    data = bytearray(manifest.read_bytes())
    i = data.index(b'"drift"')
    data[i + 1] = ord("D")  # one changed byte
    manifest.write_bytes(bytes(data))
    f = make_predictor(registry, clock).predict("bitcoin")
    assert (f.source, f.fallback_reason) == (
        "technical_analysis_fallback",
        "integrity check failed",
    )


def test_no_in_sample_forecast_from_a_model_trained_after_the_origin(
    registry: Any, drift_btc: Any, clock: FakeClock
) -> None:
    """Forecasting "as of" a date before the model's last training candle would score the model
    on closes it was fitted on: the fallback answers instead, labelled, and the ledger keeps the
    model's own row clean."""
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.registry import compute_lineage

    path = registry.new_artifact_dir("bitcoin", "drift", 1)
    drift_btc.save_model(path)
    model_id = registry.register_model(
        model_type="drift",
        crypto_id="bitcoin",
        model_path=path,
        lineage=compute_lineage(load_ohlcv("bitcoin", end="2025-03-31")),
        status="production",
        force=True,
    )
    ledger = Ledger()
    early = make_predictor(registry, clock, end="2025-03-01", ledger=ledger).predict("bitcoin")
    assert early.source == "technical_analysis_fallback" and early.model_id is None
    assert early.fallback_reason.startswith(
        f"model trained after the forecast origin: model {model_id} was trained on candles up "
        "to 2025-03-31"
    )
    at_end = make_predictor(registry, clock, end="2025-03-31").predict("bitcoin")
    later = make_predictor(registry, clock, end="2025-06-01").predict("bitcoin")
    assert (at_end.source, at_end.model_id) == (later.source, later.model_id) == ("model", model_id)
    rows = ledger.forecasts()  # the default ledger: all three forecasts are in it
    assert rows["model_type"].tolist() == ["technical", "drift", "drift"]
    assert (rows.loc[rows["model_type"] == "drift", "as_of"] >= "2025-03-31").all()


def test_fallback_when_prediction_raises(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    pred = make_predictor(registry, clock)
    model = pred.load_model(registry.get(btc_model.model_id))

    def boom(X: pd.DataFrame) -> pd.Series:
        raise RuntimeError("weights exploded")

    model.predict = boom  # type: ignore[method-assign]
    f = pred.predict("bitcoin")
    assert f.source == "technical_analysis_fallback"
    assert f.fallback_reason == "prediction failed: RuntimeError"  # the log has the message


def test_bad_inputs_raise_clear_errors(registry: Any, clock: FakeClock) -> None:
    pred = make_predictor(registry, clock)
    with pytest.raises(DataError, match="Did you mean"):
        pred.predict("bitcoinn")
    for bad in (0, 15, 1.5, True):
        with pytest.raises(DataError, match="horizon"):
            pred.predict("bitcoin", horizon=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown model_type"):
        pred.predict("bitcoin", model_type="prophet")


def test_explicit_model_type_and_best_available(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    naive = register(registry, fit_model("bitcoin", "naive", 1), "bitcoin", val_mase=1.0)
    pred = make_predictor(registry, clock)
    assert pred.predict("bitcoin", model_type="naive").model_id == naive.model_id
    assert pred.predict("bitcoin", model_type="naive").predicted_return == 0.0
    # no model_type: the production model with the lowest validation MASE (drift, 0.95)
    assert pred.predict("bitcoin").model_id == btc_model.model_id
    assert pred.predict("bitcoin", model_type="lightgbm").fallback_reason == "no production model"


def test_ledger_failure_does_not_lose_the_forecast(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    class BrokenLedger(Ledger):
        def record(self, forecast: Forecast, data_source: str) -> int:
            raise OSError("disk full")

    pred = make_predictor(registry, clock, ledger=BrokenLedger("sqlite://"))
    assert pred.predict("bitcoin").source == "model"
    assert pred.ledger_errors == 1


def test_lightgbm_production_model(registry: Any, clock: FakeClock) -> None:
    model = fit_model(
        "solana", "lightgbm", 7, n_estimators=20, num_leaves=7, early_stopping_rounds=5
    )
    trained = register(registry, model, "solana")
    f = make_predictor(registry, clock).predict("SOL", horizon=7)
    assert (f.source, f.model_id, f.model_type, f.horizon) == (
        "model",
        trained.model_id,
        "lightgbm",
        7,
    )
    assert np.isfinite(f.predicted_price) and f.predicted_price > 0


@pytest.mark.parametrize(
    ("model_type", "params"),
    [
        ("lstm", {"lookback": 10, "epochs": 2, "hidden_size": 8}),
        (
            "ensemble",
            {
                "base_models": ["drift", "lstm"],
                "inner_folds": 3,
                "base_params": {"lstm": {"lookback": 12, "epochs": 2, "hidden_size": 8}},
            },
        ),
    ],
)
def test_windowed_production_models_answer_from_the_model(
    registry: Any, clock: FakeClock, model_type: str, params: dict[str, Any]
) -> None:
    """A model that reads `lookback` rows (LSTM, an ensemble holding one) gets its window, so it
    serves instead of silently falling back."""
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features

    model = fit_model("bitcoin", model_type, 1, **params)
    trained = register(registry, model, "bitcoin")
    f = make_predictor(registry, clock).predict("bitcoin", horizon=1)
    assert (f.source, f.fallback_reason, f.model_id) == ("model", None, trained.model_id)
    X = build_features(load_ohlcv("bitcoin"))[model.feature_names_].iloc[-60:]
    assert f.predicted_return == pytest.approx(float(model.predict(X).iloc[-1]), rel=1e-9)


def test_close_volume_model_serves_from_its_feature_set(registry: Any, clock: FakeClock) -> None:
    """A model trained on close/volume candles (CoinGecko's columns) answers from the model with
    the numbers its own feature set gives; a full-set model on close/volume candles falls back
    with a reason naming both feature sets."""
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.features import build_features, make_target
    from cryptoforecast.models import make_forecaster

    cv = load_ohlcv("bitcoin", end="2025-03-31")[["close", "volume"]]
    X, y = build_features(cv), make_target(cv, 1)
    keep = X.notna().all(axis=1) & y.notna()
    model = make_forecaster("lightgbm", horizon=1, n_estimators=20).fit(X[keep], y[keep])
    assert model.feature_set_ == "close_volume"
    trained = register(registry, model, "bitcoin")
    f = make_predictor(registry, clock).predict("bitcoin")
    assert (f.source, f.model_id) == ("model", trained.model_id)
    own = build_features(load_ohlcv("bitcoin")[["close", "volume"]])[model.feature_names_]
    assert f.predicted_return == pytest.approx(float(model.predict(own.iloc[[-1]]).iloc[0]))

    full = fit_model("bitcoin", "lightgbm", 1, n_estimators=20)
    register(registry, full, "bitcoin")

    class CloseVolumePredictor(Predictor):
        def candles(self, crypto_id: str) -> pd.DataFrame:
            return super().candles(crypto_id)[["close", "volume"]]

    g = CloseVolumePredictor(registry=registry, clock=clock).predict("bitcoin")
    assert g.source == "technical_analysis_fallback"
    assert "trained on the 'ohlcv_trades' feature set" in g.fallback_reason
    assert "the candles allow 'close_volume'" in g.fallback_reason


def test_forecast_carries_a_labelled_distribution(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    from cryptoforecast.data import load_ohlcv
    from cryptoforecast.models.distribution import QUANTILES
    from cryptoforecast.serving.distribution import FALLBACK_SCALE, served_distribution

    f = make_predictor(registry, clock, move_thresholds=(0.05, 0.10)).predict("bitcoin", 7)
    assert f.distribution is not None and f.distribution.source == FALLBACK_SCALE
    assert (
        f.distribution_source == "garch_ref (fallback: no production distribution for bitcoin h=7)"
    )
    assert f.quantiles is not None and list(f.quantiles) == list(QUANTILES)
    prices = list(f.quantiles.values())
    assert prices == sorted(prices) and prices[0] < f.last_close < prices[-1]
    assert f.p_up is not None and 0 < f.p_up < 1
    assert f.p_move is not None and set(f.p_move) == {0.05, 0.10}
    assert 0 < f.p_move[0.10] < f.p_move[0.05] < 1
    # the numbers are the garch_ref distribution on the same candles around the served point
    candles = load_ohlcv("bitcoin").iloc[-len(make_predictor(registry, clock).candles("bitcoin")) :]
    again = served_distribution(candles, 7, f.predicted_return)
    assert again.p_up == pytest.approx(f.p_up)
    assert again.quantiles[0.5] == pytest.approx(f.quantiles[0.5])
    body = f.model_dump(mode="json")
    assert body["distribution"]["source"] == FALLBACK_SCALE and "0.975" in body["quantiles"]
