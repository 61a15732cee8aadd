"""Bad inputs to the HTTP API get a 4xx with the reason; public views show no server internals;
metric labels stay bounded; a damaged cached candle file degrades /healthz instead of a 500."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app

from .conftest import FakeClock, SyncASGIClient, Trained

TOKEN = "an admin token for the tests"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
HUGE = "1180591620717411303424"  # 2**70


@pytest.fixture
def client(registry: Any, clock: FakeClock) -> SyncASGIClient:
    calls: list[dict[str, Any]] = []
    app = create_app(
        load_config(),
        registry=registry,
        admin_token=TOKEN,
        clock=clock,
        retrain=lambda **kwargs: calls.append(kwargs),
    )
    return SyncASGIClient(app)


def test_a_huge_model_id_or_horizon_is_a_422_not_a_500(client: SyncASGIClient) -> None:
    r = client.post(f"/v1/models/{HUGE}/promote", headers=ADMIN)
    assert r.status_code == 422 and "model_id" in r.text
    for url in (
        f"/v1/forecast/bitcoin?horizon={HUGE}",
        f"/v1/forecast?ids=bitcoin&horizon={HUGE}",
        f"/v1/models?horizon={HUGE}",
        f"/v1/accuracy?horizon={HUGE}",
    ):
        r = client.get(url)
        assert r.status_code == 422 and "horizon" in r.text, url
    r = client.post("/v1/retrain", headers=ADMIN, json={"horizon": int(HUGE)})
    assert r.status_code == 422
    r = client.post("/v1/retrain", headers=ADMIN, json={"older_than_days": 1e308})
    assert r.status_code == 422


def test_retrain_refuses_an_unknown_model_type(client: SyncASGIClient) -> None:
    r = client.post("/v1/retrain", headers=ADMIN, json={"model_type": "evil"})
    assert r.status_code == 422
    assert "unknown model_type 'evil'" in r.text and "lightgbm" in r.text
    assert (
        client.post("/v1/retrain", headers=ADMIN, json={"model_type": "drift"}).status_code == 202
    )


def test_an_unknown_or_empty_model_type_filter_is_handled(client: SyncASGIClient) -> None:
    assert client.get("/v1/accuracy", params={"model_type": "evil"}).status_code == 422
    assert client.get("/v1/models", params={"model_type": ""}).status_code == 200
    assert client.get("/v1/accuracy", params={"model_type": ""}).status_code == 200


def test_invented_http_methods_do_not_create_metric_series(client: SyncASGIClient) -> None:
    for i in range(40):
        assert client.request(f"INVENTED{i}", "/v1/forecast/bitcoin").status_code == 405
    text = client.get("/metrics").text
    assert "INVENTED" not in text
    methods = {
        line.split('method="', 1)[1].split('"', 1)[0]
        for line in text.splitlines()
        if line.startswith("cryptoforecast_http_requests_total{")
    }
    assert methods == {"other"}  # this /metrics request is counted once it has answered


def test_public_model_listing_hides_paths_hosts_and_commits(
    client: SyncASGIClient, btc_model: Trained, registry: Any
) -> None:
    body = client.get("/v1/models").text
    record = registry.get(btc_model.model_id)
    for secret in (str(registry.artifact_root), record.created_by, socket.gethostname()):
        assert secret not in body
    assert "artifact" not in body and "lineage" not in body and "created_by" not in body
    (public,) = client.get("/v1/models").json()["models"]
    assert set(public) == {
        "model_id",
        "crypto_id",
        "model_type",
        "kind",
        "distribution",
        "horizon",
        "version",
        "status",
        "metrics",
        "created_at",
        "updated_at",
        "guard",  # the live guard's evidence (a reason text: no path, host or commit)
    }
    assert client.get("/v1/admin/models").status_code == 401
    (full,) = client.get("/v1/admin/models", headers=ADMIN).json()["models"]
    assert full["artifact_path"] == str(record.artifact_path)
    assert full["created_by"] == record.created_by and "lineage" in full


def test_fallback_reasons_show_no_server_paths(
    client: SyncASGIClient, btc_model: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise FileNotFoundError(f"[Errno 2] No such file: '{btc_model.path}/weights.bin'")

    monkeypatch.setattr("cryptoforecast.models.baselines.DriftForecaster.predict", broken)
    body = client.get("/v1/forecast/bitcoin").json()
    assert body["source"] == "technical_analysis_fallback"
    assert body["fallback_reason"] == "prediction failed: FileNotFoundError"

    def unloadable(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(f"cannot map {btc_model.path}/weights.bin")

    monkeypatch.setattr("cryptoforecast.serving.predictor.Predictor.load_model", unloadable)
    body = client.get("/v1/forecast/bitcoin", params={"horizon": 1, "model_type": "drift"}).json()
    assert (
        body["fallback_reason"]
        == f"prediction failed: cannot load model {btc_model.model_id}: OSError"
    )


def test_registry_failure_reason_shows_no_url_or_path(
    registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"cannot open {registry.artifact_root}/registry.db")

    monkeypatch.setattr(registry, "list_models", down)
    c = SyncASGIClient(create_app(load_config(), registry=registry, clock=clock, retrain=None))
    body = c.get("/v1/forecast/bitcoin").json()
    assert body["fallback_reason"] == "registry unavailable: RuntimeError"
    health = c.get("/healthz").json()
    assert health["status"] == "degraded"
    assert str(registry.artifact_root) not in str(health)


def test_healthz_reports_a_damaged_cached_series_as_degraded(
    registry: Any, clock: FakeClock, cf_home: Path
) -> None:
    from cryptoforecast.data import CandleCache, load_ohlcv

    cache = CandleCache()
    cache.write(load_ohlcv("ethereum", days=5), "binance", "ethereum", "1d")
    cache.path("binance", "bitcoin", "1d").write_bytes(b"PAR1 this is not parquet")
    c = SyncASGIClient(
        create_app(load_config(), registry=registry, clock=clock, source="binance", retrain=None)
    )
    r = c.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "degraded"
    assert "unreadable" in body["data"]["bitcoin"]["error"]
    assert str(cf_home) not in r.text
    assert body["data"]["ethereum"]["last_candle"].startswith("2025-09-30")


def test_overlong_ids_are_refused_before_any_matching(client: SyncASGIClient) -> None:
    long = "b" * 10_000
    for url, params in (
        (f"/v1/forecast/{long}", {}),
        ("/v1/forecast", {"ids": ",".join([long] * 3)}),
        ("/v1/models", {"crypto_id": long}),
        ("/v1/accuracy", {"crypto_id": long}),
    ):
        r = client.get(url, params=params)
        assert r.status_code == 422 and "at most" in r.text, url
