"""The HTTP API through the real ASGI app (httpx ASGITransport): forecasts, cache, fallbacks,
admin auth, validation, metrics, accuracy."""

from __future__ import annotations

import shutil
import time
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app
from cryptoforecast.training.jobs import retrain_job

from .conftest import FakeClock, SyncASGIClient, Trained, fit_model, register

TOKEN = "correct horse battery staple"


def metric(client: SyncASGIClient, name: str, **labels: str) -> float:
    """The value of one sample in /metrics (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


@pytest.fixture
def client(registry: Any, clock: FakeClock) -> SyncASGIClient:
    app = create_app(load_config(), registry=registry, admin_token=TOKEN, clock=clock, retrain=None)
    return SyncASGIClient(app)


def test_forecast_with_production_model_then_cached(
    client: SyncASGIClient, btc_model: Trained
) -> None:
    r1 = client.get("/v1/forecast/bitcoin", params={"horizon": 1})
    assert r1.status_code == 200
    body = r1.json()
    assert (body["source"], body["model_id"], body["cached"]) == (
        "model",
        btc_model.model_id,
        False,
    )
    assert set(body["intervals"]) == {"0.8", "0.95"}
    # the predictive distribution, its scale labelled as the fallback it is
    assert body["distribution_source"] == (
        "garch_ref (fallback: no production distribution for bitcoin h=1)"
    )
    assert body["distribution_model_id"] is None and body["distribution_version"] is None
    assert body["distribution_reason"] == "no production distribution for bitcoin h=1"
    assert set(body["quantiles"]) >= {"0.025", "0.5", "0.975"} and 0 < body["p_up"] < 1
    assert set(body["p_move"]) == {"0.05", "0.1"}
    r2 = client.get("/v1/forecast/bitcoin")
    assert r2.status_code == 200 and r2.json()["cached"] is True
    assert r2.json()["predicted_price"] == body["predicted_price"]
    assert metric(client, "cryptoforecast_cache_hits_total") == 1
    assert metric(client, "cryptoforecast_cache_misses_total") == 1
    assert (
        metric(
            client,
            "cryptoforecast_http_requests_total",
            route="/v1/forecast/{crypto_id}",
            status="200",
        )
        == 2
    )
    assert (
        metric(
            client,
            "cryptoforecast_http_request_duration_seconds_count",
            route="/v1/forecast/{crypto_id}",
        )
        == 2
    )


@pytest.mark.parametrize("case", ["no model", "deleted", "tampered"])
def test_fallbacks_are_labelled(
    case: str, client: SyncASGIClient, registry: Any, drift_btc: Any
) -> None:
    reason = {
        "no model": "no production model",
        "deleted": "artifact missing",
        "tampered": "integrity check failed",
    }[case]
    if case != "no model":
        trained = register(registry, drift_btc, "bitcoin")
        if case == "deleted":
            shutil.rmtree(trained.path)
        else:
            manifest = trained.path / "manifest.json"
            manifest.write_bytes(manifest.read_bytes().replace(b'"horizon": 1', b'"horizon": 2', 1))
    r = client.get("/v1/forecast/bitcoin")
    assert r.status_code == 200
    body = r.json()
    assert body["source"] == "technical_analysis_fallback"
    assert body["fallback_reason"] == reason
    assert body["model_type"] == "technical" and body["model_id"] is None
    assert metric(client, "cryptoforecast_fallbacks_total", reason=reason) == 1
    assert (
        metric(client, "cryptoforecast_forecasts_total", source="technical_analysis_fallback") == 1
    )


def test_admin_endpoints_need_the_token(registry: Any, clock: FakeClock, drift_btc: Any) -> None:
    staged = register(registry, drift_btc, "bitcoin", status="staging")
    calls: list[dict[str, Any]] = []

    def fake_retrain(**kwargs: Any) -> dict[str, Any]:
        calls.append(kwargs)
        return {"retrained": 1}

    no_token = SyncASGIClient(
        create_app(load_config(), registry=registry, admin_token=None, clock=clock)
    )
    assert no_token.post(f"/v1/models/{staged.model_id}/promote").status_code == 403
    assert (
        no_token.post("/v1/retrain", headers={"Authorization": "Bearer anything"}).status_code
        == 403
    )

    app = create_app(
        load_config(), registry=registry, admin_token=TOKEN, clock=clock, retrain=fake_retrain
    )
    c = SyncASGIClient(app)
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        r = c.post(f"/v1/models/{staged.model_id}/promote", headers=headers)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert c.post("/v1/retrain", headers=headers).status_code == 401
    assert registry.get(staged.model_id).status == "staging"  # nothing happened

    ok = {"Authorization": f"Bearer {TOKEN}"}
    registry.record_gate_decision(staged.model_id, True, "beats naive")  # else a 409 asks force
    r = c.post(f"/v1/models/{staged.model_id}/promote", headers=ok, json={"reason": "api test"})
    assert r.status_code == 200 and r.json()["promoted"]["status"] == "production"
    assert registry.get(staged.model_id).status == "production"
    assert c.post("/v1/models/9999/promote", headers=ok).status_code == 404
    assert (
        c.post(f"/v1/models/{staged.model_id}/promote", headers=ok).status_code == 409
    )  # already production

    r = c.post(
        "/v1/retrain", headers=ok, json={"crypto_id": "BTC", "model_type": "drift", "horizon": 1}
    )
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    for _ in range(200):
        job = c.get(f"/v1/retrain/{job_id}", headers=ok).json()
        if job["status"] in ("done", "failed"):
            break
        time.sleep(0.01)
    assert job["status"] == "done" and job["result"] == {"retrained": 1}
    assert calls[0]["crypto_id"] == "bitcoin" and calls[0]["model_type"] == "drift"
    assert c.get(f"/v1/retrain/{job_id}").status_code == 401


def test_retrain_unavailable_is_a_clear_501(client: SyncASGIClient) -> None:
    r = client.post("/v1/retrain", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 501 and "retrain" in r.json()["detail"]


def test_admin_token_read_from_environment(
    registry: Any, monkeypatch: pytest.MonkeyPatch, drift_btc: Any
) -> None:
    staged = register(registry, drift_btc, "bitcoin", status="staging")
    registry.record_gate_decision(staged.model_id, True, "beats naive")
    monkeypatch.setenv("CRYPTOFORECAST_ADMIN_TOKEN", "from-env")
    c = SyncASGIClient(create_app(load_config(), registry=registry))
    assert (
        c.post(
            f"/v1/models/{staged.model_id}/promote", headers={"Authorization": "Bearer nope"}
        ).status_code
        == 401
    )
    r = c.post(
        f"/v1/models/{staged.model_id}/promote", headers={"Authorization": "Bearer from-env"}
    )
    assert r.status_code == 200


def test_validation_errors(client: SyncASGIClient) -> None:
    r = client.get("/v1/forecast/bitcoinn")
    assert r.status_code == 404
    assert "bitcoin" in r.json()["detail"]["suggestions"]
    for h in (0, 15, "x"):
        assert client.get("/v1/forecast/bitcoin", params={"horizon": h}).status_code == 422
    assert client.get("/v1/forecast/bitcoin", params={"model_type": "prophet"}).status_code == 422
    too_many = ",".join(["bitcoin"] * 21)
    r = client.get("/v1/forecast", params={"ids": too_many})
    assert r.status_code == 422 and "at most 20" in r.json()["detail"][0]["msg"]
    assert client.get("/v1/forecast", params={"ids": "bitcoin,etherium"}).status_code == 404
    assert client.get("/v1/forecast", params={"ids": " , "}).status_code == 422
    assert client.get("/v1/forecast", params={"ids": "bitcoin", "horizon": 99}).status_code == 422
    assert (
        metric(
            client,
            "cryptoforecast_http_requests_total",
            route="/v1/forecast/{crypto_id}",
            status="404",
        )
        == 1
    )


def test_batch_forecast(client: SyncASGIClient, btc_model: Trained) -> None:
    r = client.get("/v1/forecast", params={"ids": "bitcoin,ethereum", "horizon": 7})
    assert r.status_code == 200
    a, b = r.json()["forecasts"]
    assert (a["crypto_id"], b["crypto_id"]) == ("bitcoin", "ethereum")
    assert a["horizon"] == b["horizon"] == 7
    # bitcoin has a production model for h=1 only: h=7 falls back, labelled
    assert a["fallback_reason"] == b["fallback_reason"] == "no production model"


def test_models_accuracy_health_docs(
    client: SyncASGIClient, registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    staged = register(registry, fit_model("bitcoin", "naive"), "bitcoin", status="staging")
    models = client.get("/v1/models").json()["models"]
    assert [(m["model_id"], m["status"]) for m in models] == [
        (btc_model.model_id, "production"),
        (staged.model_id, "staging"),
    ]
    assert (
        client.get("/v1/models", params={"status": "staging"}).json()["models"][0]["model_id"]
        == staged.model_id
    )
    # a bad filter is the client's error (422 naming the choices), not "service unavailable"
    bad_status = client.get("/v1/models", params={"status": "live"})
    assert bad_status.status_code == 422 and "staging, production, archived" in bad_status.text
    bad_type = client.get("/v1/models", params={"model_type": "Bad Type"})
    assert bad_type.status_code == 422 and "lightgbm" in bad_type.text

    client.get("/v1/forecast/bitcoin")
    acc = client.get("/v1/accuracy").json()
    (row,) = acc["accuracy"]
    assert (row["model_type"], row["n_forecasts"], row["n_pending"]) == (
        "drift",
        1,
        1,
    )  # target not in data yet
    assert "naive" in acc["note"]

    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["cache_entries"] == 1
    (m,) = health["models"]
    assert m["model_id"] == btc_model.model_id and m["loaded"] is True and m["age_days"] >= 0
    assert health["data"]["bitcoin"]["last_candle"].startswith("2025-09-30")
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/v1/forecast/{crypto_id}",
        "/v1/forecast",
        "/v1/models",
        "/v1/accuracy",
        "/healthz",
        "/v1/models/{model_id}/promote",
        "/v1/retrain",
    } <= set(paths)


def test_accuracy_endpoint_equals_ledger_score(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    from cryptoforecast.serving import Ledger, Predictor

    ledger = Ledger()
    for day in ("2025-06-01", "2025-06-02", "2025-06-03"):
        Predictor(registry=registry, end=day, ledger=ledger, clock=clock).predict("bitcoin")
    c = SyncASGIClient(
        create_app(load_config(), registry=registry, ledger=ledger, clock=clock, admin_token=None)
    )
    (row,) = c.get("/v1/accuracy", params={"crypto_id": "btc"}).json()["accuracy"]
    (expected,) = ledger.score(now=clock.now)
    assert row["n_scored"] == 3 and row["mase"] == pytest.approx(expected.mase, rel=1e-12)


def test_two_apps_have_separate_state_and_metrics(
    registry: Any, clock: FakeClock, btc_model: Trained
) -> None:
    a = create_app(load_config(), registry=registry, clock=clock, admin_token=None)
    b = create_app(load_config(), registry=registry, clock=clock, admin_token=None)
    assert a is not b and a.state.predictor is not b.state.predictor
    ca, cb = SyncASGIClient(a), SyncASGIClient(b)
    ca.get("/v1/forecast/bitcoin")
    ca.get("/v1/forecast/bitcoin")
    assert metric(ca, "cryptoforecast_cache_hits_total") == 1
    assert metric(cb, "cryptoforecast_cache_hits_total") == 0
    assert cb.get("/v1/forecast/bitcoin").json()["cached"] is False  # its own cache


def test_cache_ttl_from_settings(registry: Any, clock: FakeClock, btc_model: Trained) -> None:
    settings = load_config(overrides={"cache": {"ttl_seconds": 60}})
    c = SyncASGIClient(create_app(settings, registry=registry, clock=clock, admin_token=None))
    assert c.get("/v1/forecast/bitcoin").json()["cached"] is False
    clock.advance(59)
    assert c.get("/v1/forecast/bitcoin").json()["cached"] is True
    clock.advance(2)
    assert c.get("/v1/forecast/bitcoin").json()["cached"] is False


def test_importing_the_service_has_no_side_effects() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cryptoforecast.serving, cryptoforecast.serving.app, "
        "cryptoforecast.serving.predictor; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'lightgbm', 'torch') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_retrain_runs_the_training_pipeline(registry: Any, clock: FakeClock) -> None:
    c = SyncASGIClient(
        create_app(
            load_config(), registry=registry, admin_token=TOKEN, clock=clock, retrain=retrain_job
        )
    )
    ok = {"Authorization": f"Bearer {TOKEN}"}
    r = c.post(
        "/v1/retrain",
        headers=ok,
        json={"crypto_id": "bitcoin", "model_type": "drift", "horizon": 1},
    )
    assert r.status_code == 202
    job_id = r.json()["job_id"]
    deadline = time.monotonic() + 120
    while (job := c.get(f"/v1/retrain/{job_id}", headers=ok).json())["status"] not in (
        "done",
        "failed",
    ):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["status"] == "done", job["error"]
    model_id = job["result"]["model_id"]
    record = registry.get(model_id)
    assert (record.crypto_id, record.model_type, record.horizon) == ("bitcoin", "drift", 1)
    # the gate decided the stage; the job reports the same one
    assert job["result"]["status"] == record.status


def test_healthz_never_fetches_from_a_live_source(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A health probe reads the candle cache only: with an empty cache it reports no data
    instead of downloading full histories; a cached series shows its last candle."""
    from cryptoforecast.data import CandleCache, load_ohlcv

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a health probe tried to fetch candles")

    monkeypatch.setattr("cryptoforecast.data.live.refresh_series", no_network)
    c = SyncASGIClient(
        create_app(
            load_config(), registry=registry, clock=clock, source="binance", admin_token=None
        )
    )
    assert c.get("/healthz").json()["data"] == {}
    CandleCache().write(load_ohlcv("ethereum", days=5), "binance", "ethereum", "1d")
    data = c.get("/healthz").json()["data"]
    assert list(data) == ["ethereum"]
    assert data["ethereum"]["last_candle"].startswith("2025-09-30")
