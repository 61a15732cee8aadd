"""``/healthz`` is "degraded" while a production model cannot load (every answer for its key is
then a fallback), names the model and the kind of failure, and is "ok" again once the model is
fixed or taken out of production. The probe says no path: the log has the details."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app

from .conftest import FakeClock, SyncASGIClient, register


def health(client: SyncASGIClient) -> dict[str, Any]:
    r = client.get("/healthz")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def app_client(registry: Any, clock: FakeClock) -> SyncASGIClient:
    return SyncASGIClient(create_app(load_config(), registry=registry, clock=clock, retrain=None))


def test_a_missing_artifact_degrades_health_until_it_is_restored(
    registry: Any, clock: FakeClock, drift_btc: Any, tmp_path: Path
) -> None:
    trained = register(registry, drift_btc, "bitcoin")
    aside = tmp_path / "aside"
    shutil.move(trained.path, aside)
    client = app_client(registry, clock)

    answer = health(client)  # before any forecast: the probe itself finds it
    assert answer["status"] == "degraded"
    assert answer["model_errors"] == [
        {
            "model_id": trained.model_id,
            "crypto_id": "bitcoin",
            "horizon": 1,
            "model_type": "drift",
            "kind": "point",
            "reason": "artifact missing",
        }
    ]
    (entry,) = answer["models"]
    assert entry["loaded"] is False and entry["load_error"] == "artifact missing"
    text = json.dumps(answer)
    assert str(trained.path) not in text and str(tmp_path) not in text
    forecast = client.get("/v1/forecast/bitcoin").json()
    assert forecast["fallback_reason"] == "artifact missing"  # what the probe warned of

    shutil.move(aside, trained.path)
    answer = health(client)
    assert answer["status"] == "ok" and "model_errors" not in answer
    assert answer["models"][0]["loaded"] is True


def test_a_tampered_artifact_degrades_health_until_the_model_is_demoted(
    registry: Any, clock: FakeClock, drift_btc: Any
) -> None:
    trained = register(registry, drift_btc, "bitcoin")
    manifest = trained.path / "manifest.json"
    manifest.write_bytes(manifest.read_bytes().replace(b'"horizon": 1', b'"horizon": 2', 1))
    client = app_client(registry, clock)

    answer = health(client)
    assert answer["status"] == "degraded"
    (error,) = answer["model_errors"]
    assert (error["model_id"], error["reason"]) == (trained.model_id, "integrity check failed")

    registry.demote(trained.model_id, "its artifact was changed")
    answer = health(client)
    assert answer["status"] == "ok" and answer["models"] == []


def test_a_loadable_model_keeps_health_ok_and_is_loaded_once(
    registry: Any, clock: FakeClock, drift_btc: Any, monkeypatch: Any
) -> None:
    from cryptoforecast.serving import predictor as predictor_module

    trained = register(registry, drift_btc, "bitcoin")
    loads: list[int] = []
    real = predictor_module.load_registered

    def counting(record: Any) -> Any:
        loads.append(record.model_id)
        return real(record)

    monkeypatch.setattr(predictor_module, "load_registered", counting)
    client = app_client(registry, clock)
    for _ in range(3):
        answer = health(client)
        assert answer["status"] == "ok" and answer["models"][0]["loaded"] is True
    client.get("/v1/forecast/bitcoin")
    assert loads == [trained.model_id]  # the probe warms the predictor's own cache, once
