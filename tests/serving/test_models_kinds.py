"""``GET /v1/models`` names each version's kind, and a distribution's scale model; ``?kind=``
lists one kind (a bad one is the client's error, naming the kinds); ``/healthz`` names the kind
of each production version."""

from __future__ import annotations

from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.registry import DISTRIBUTION
from cryptoforecast.serving import create_app

from .conftest import SyncASGIClient, Trained

TOKEN = "t0ken-admin"


def register_distribution(registry: Any, scale: str, horizon: int = 1) -> int:
    """A production distribution version of bitcoin whose scale model is ``scale``."""
    path = registry.new_artifact_dir("bitcoin", DISTRIBUTION, horizon)
    (path / "manifest.json").write_text('{"model_type": "distribution"}')
    return int(
        registry.register_model(
            model_type=DISTRIBUTION,
            crypto_id="bitcoin",
            horizon=horizon,
            model_path=path,
            metrics={"val_crps": 0.012},
            config={"distribution": scale},
            status="production",
            force=True,
        )
    )


@pytest.fixture
def client(registry: Any) -> SyncASGIClient:
    return SyncASGIClient(create_app(load_config(), registry=registry, admin_token=TOKEN))


def test_models_carry_their_kind_and_scale_model(
    client: SyncASGIClient, registry: Any, btc_model: Trained
) -> None:
    dist = register_distribution(registry, "har_rv", horizon=7)
    r = client.get("/v1/models")
    assert r.status_code == 200
    got = {
        m["model_id"]: (m["model_type"], m["kind"], m["distribution"]) for m in r.json()["models"]
    }
    assert got == {
        btc_model.model_id: ("drift", "point", None),
        dist: (DISTRIBUTION, "distribution", "har_rv"),
    }


@pytest.mark.parametrize("kind", ["point", "distribution"])
def test_kind_filters_the_listing(
    client: SyncASGIClient, registry: Any, btc_model: Trained, kind: str
) -> None:
    dist = register_distribution(registry, "garch_t")
    wanted = btc_model.model_id if kind == "point" else dist
    listed = client.get("/v1/models", params={"kind": kind}).json()["models"]
    assert [(m["model_id"], m["kind"]) for m in listed] == [(wanted, kind)]
    admin = client.get(
        "/v1/admin/models", params={"kind": kind}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert [(m["model_id"], m["kind"]) for m in admin.json()["models"]] == [(wanted, kind)]


def test_a_bad_kind_is_the_clients_error(client: SyncASGIClient, btc_model: Trained) -> None:
    r = client.get("/v1/models", params={"kind": "scale"})
    assert r.status_code == 422
    (detail,) = r.json()["detail"]
    assert detail["loc"] == ["query", "kind"] and "point, distribution" in detail["msg"]


def test_the_published_schema_names_the_kinds(client: SyncASGIClient) -> None:
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/models"]["get"]["parameters"]}
    assert params["kind"]["schema"]["enum"] == ["point", "distribution"]
    public = spec["components"]["schemas"]["PublicModel"]
    assert {"kind", "distribution"} <= set(public["properties"]) and "kind" in public["required"]


def test_the_health_check_names_each_production_models_kind(
    client: SyncASGIClient, registry: Any, btc_model: Trained
) -> None:
    dist = register_distribution(registry, "har_rv")
    health = client.get("/healthz").json()
    kinds = {m["model_id"]: m["kind"] for m in health["models"]}
    assert kinds == {btc_model.model_id: "point", dist: "distribution"}
