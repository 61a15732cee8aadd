"""An app's published schema names the model types it accepts: the built-ins and the plug-ins
loaded at its start-up, in every model-type enum (queries and the retrain request), and their
descriptions; the cross-asset rule keeps its built-in cross-asset types only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.models import CROSS_ASSET_MODEL_TYPES, MODEL_TYPES
from cryptoforecast.serving.app import create_app
from tests.plugin_install import EXAMPLE

from .conftest import SyncASGIClient

QUERY_PATHS = ("/v1/forecast/{crypto_id}", "/v1/forecast", "/v1/models", "/v1/accuracy")


pytestmark = pytest.mark.usefixtures("plugins_forgotten")


def published(monkeypatch: pytest.MonkeyPatch, plugins: list[str]) -> dict[str, Any]:
    monkeypatch.setenv("CRYPTOFORECAST_MODELS__PLUGINS", json.dumps(plugins))
    app = create_app(load_config(), admin_token=None, retrain=None)
    schema: dict[str, Any] = SyncASGIClient(app).get("/openapi.json").json()
    return schema


def model_type_query(schema: dict[str, Any], path: str) -> dict[str, Any]:
    (param,) = [p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "model_type"]
    return param  # type: ignore[no-any-return]


def test_the_schema_lists_the_loaded_plugins_model_types(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema = published(monkeypatch, [EXAMPLE])
    for path in QUERY_PATHS:
        param = model_type_query(schema, path)
        assert param["schema"]["enum"] == ["", *MODEL_TYPES, "ridge_momentum"], path
        assert "global_lightgbm, ridge_momentum;" in param["description"], path
    retrain = schema["components"]["schemas"]["RetrainRequest"]
    (named,) = [s for s in retrain["properties"]["model_type"]["anyOf"] if "enum" in s]
    assert named["enum"] == [*MODEL_TYPES, "distribution", "ridge_momentum"]
    assert "ridge_momentum" in retrain["properties"]["model_type"]["description"]
    rule = retrain["not"]["properties"]["model_type"]["enum"]
    assert rule == list(CROSS_ASSET_MODEL_TYPES)  # a plug-in is not a cross-asset type
    # the schema is built once per app: asked again, nothing is added twice
    client = SyncASGIClient(create_app(load_config(), admin_token=None, retrain=None))
    for _ in range(2):
        again = client.get("/openapi.json").json()
        param = model_type_query(again, "/v1/forecast")
        assert param["schema"]["enum"].count("ridge_momentum") == 1


def test_without_plugins_the_schema_lists_the_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    schema = published(monkeypatch, [])
    for path in QUERY_PATHS:
        assert model_type_query(schema, path)["schema"]["enum"] == ["", *MODEL_TYPES]
