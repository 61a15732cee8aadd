"""``POST /v1/models/{model_id}/promote`` passes the promotion gate or says ``"force": true``:
a model without a gate pass is refused with a 409 that names the fix, a forced promotion is
recorded in the history, and the OpenAPI schema shows the field."""

from __future__ import annotations

from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app

from .conftest import FakeClock, SyncASGIClient, register

TOKEN = "correct horse battery staple"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(registry: Any, clock: FakeClock) -> SyncASGIClient:
    app = create_app(load_config(), registry=registry, admin_token=TOKEN, clock=clock, retrain=None)
    return SyncASGIClient(app)


def test_promote_without_a_gate_pass_is_a_409_naming_force(
    client: SyncASGIClient, registry: Any, drift_btc: Any
) -> None:
    staged = register(registry, drift_btc, "bitcoin", status="staging")
    url = f"/v1/models/{staged.model_id}/promote"
    r = client.post(url, headers=ADMIN, json={"reason": "looks fine"})
    assert r.status_code == 409
    detail = r.json()["detail"]
    assert "no promotion-gate decision" in detail and '"force": true' in detail
    assert str(registry.artifact_root) not in r.text  # the kind of failure, not where
    assert registry.get(staged.model_id).status == "staging"

    assert client.post(url, headers=ADMIN, json={"force": "yes"}).status_code == 422
    assert client.post(url, headers=ADMIN, json={"force": 1}).status_code == 422
    assert registry.get(staged.model_id).status == "staging"

    r = client.post(url, headers=ADMIN, json={"reason": "looks fine", "force": True})
    assert r.status_code == 200 and r.json()["promoted"]["status"] == "production"
    last = registry.history(model_id=staged.model_id)[-1]
    assert last.event == "promote" and last.reason.startswith("looks fine")
    assert "forced past the promotion gate: no promotion-gate decision" in last.reason


def test_promote_of_a_model_whose_gate_passed_needs_no_force(
    client: SyncASGIClient, registry: Any, drift_btc: Any
) -> None:
    staged = register(registry, drift_btc, "bitcoin", status="staging")
    registry.record_gate_decision(staged.model_id, passed=True, reason="beats naive")
    r = client.post(f"/v1/models/{staged.model_id}/promote", headers=ADMIN)
    assert r.status_code == 200 and r.json()["promoted"]["status"] == "production"
    assert "forced" not in registry.history(model_id=staged.model_id)[-1].reason


def test_promote_of_a_model_failed_by_a_later_decision_needs_force(
    client: SyncASGIClient, registry: Any, drift_btc: Any
) -> None:
    staged = register(registry, drift_btc, "bitcoin", status="staging")
    registry.record_gate_decision(staged.model_id, passed=True, reason="beats naive")
    registry.record_gate_decision(staged.model_id, False, "live guard: losing to naive")
    url = f"/v1/models/{staged.model_id}/promote"
    r = client.post(url, headers=ADMIN)
    assert r.status_code == 409 and "live guard" in r.json()["detail"]
    assert client.post(url, headers=ADMIN, json={"force": True}).status_code == 200


def test_the_openapi_schema_shows_force(client: SyncASGIClient) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["components"]["schemas"]["PromoteRequest"]
    assert body["properties"]["force"]["type"] == "boolean"
    assert body["properties"]["force"]["default"] is False
    op = schema["paths"]["/v1/models/{model_id}/promote"]["post"]
    assert "force" in op["responses"]["409"]["description"]
