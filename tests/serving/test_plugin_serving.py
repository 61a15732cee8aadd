"""A user's own model end to end: a plug-in (an installed distribution's entry point, or a
``file.py:Class`` setting) trains through the gate, is registered and promoted (with force where
the gate refuses), and is served by ``forecast`` and by the service; without its plug-in loaded,
a forecast falls back with a label that names it, never a 500."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving.app import create_app
from tests.cli_runner import run
from tests.plugin_install import EXAMPLE, forget_plugins, install_cf_ridge

from .conftest import FakeClock, SyncASGIClient

pytestmark = pytest.mark.usefixtures("plugins_forgotten")


@pytest.fixture
def cf_ridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test plug-in installed, and named by the environment's setting."""
    install_cf_ridge(tmp_path / "site", monkeypatch)
    monkeypatch.setenv("CRYPTOFORECAST_MODELS__PLUGINS", '["cf_ridge"]')


def served(client: SyncASGIClient, horizon: int) -> dict[str, Any]:
    r = client.get("/v1/forecast/bitcoin", params={"horizon": horizon})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_an_entry_point_plugin_trains_is_promoted_and_served(
    cf_ridge: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        [
            "train",
            "bitcoin",
            "--model",
            "cf_ridge",
            "-H",
            "7",
            "--days",
            "400",
            "--no-distribution",
        ],
        capsys,
    )
    assert code == 0, out + err
    assert "cf_ridge" in out
    assert threading.main_thread().name == sys.modules["cf_ridge"].IMPORTED_ON
    with ModelRegistry() as reg:
        (rec,) = reg.list_models(crypto_id="bitcoin")
    assert (rec.model_type, rec.config["plugin"]) == (
        "cf_ridge",
        {"name": "cf_ridge", "version": "0.1.0"},
    )
    assert any(name.endswith(".json") and name != "manifest.json" for name in rec.artifact_files)
    code, out, err = run(["registry", "promote", str(rec.model_id), "--force"], capsys)
    assert code == 0 and "is now production" in out, out + err

    code, out, err = run(["forecast", "bitcoin", "-H", "7", "--json"], capsys)
    assert code == 0, out + err
    (f,) = json.loads(out)["forecasts"]
    assert (f["source"], f["model_id"], f["model_type"]) == ("model", rec.model_id, "cf_ridge")

    forget_plugins()  # the service loads it itself, at start-up
    app = create_app(load_config(), admin_token=None, clock=FakeClock(), retrain=None)
    assert "cf_ridge" in sys.modules
    client = SyncASGIClient(app)
    body = served(client, 7)
    assert (body["source"], body["model_id"], body["model_type"]) == (
        "model",
        rec.model_id,
        "cf_ridge",
    )
    assert body["predicted_price"] == pytest.approx(f["predicted_price"])
    named = client.get("/v1/forecast/bitcoin", params={"horizon": 7, "model_type": "cf_ridge"})
    assert named.status_code == 200 and named.json()["model_id"] == rec.model_id, named.text
    page = client.get("/")
    assert page.status_code == 200 and "cf_ridge" in page.text  # the dashboard's card


def test_a_file_plugin_trains_is_promoted_and_served(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptoforecast.training import train_model

    monkeypatch.setenv("CRYPTOFORECAST_MODELS__PLUGINS", json.dumps([EXAMPLE]))
    model = train_model("bitcoin", "ridge_momentum", days=400, horizon=1)
    result = model.training_result_
    rec = result.record
    assert rec is not None and rec.config["plugin"] == {
        "name": "ridge_momentum.py:RidgeMomentum",
        "version": None,
    }
    with ModelRegistry() as reg:
        reg.promote(rec.model_id, reason="a user's model", force=not result.gate.promote)
    code, out, err = run(["forecast", "bitcoin", "-H", "1", "--json"], capsys)
    assert code == 0, out + err
    (f,) = json.loads(out)["forecasts"]
    assert (f["source"], f["model_type"]) == ("model", "ridge_momentum")

    forget_plugins()
    client = SyncASGIClient(create_app(load_config(), admin_token=None, retrain=None))
    body = served(client, 1)
    assert (body["source"], body["model_id"]) == ("model", rec.model_id)


def test_without_its_plugin_a_model_falls_back_with_a_label(
    cf_ridge: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["train", "bitcoin", "--model", "cf_ridge", "--days", "400", "--no-distribution"], capsys
    )
    assert code == 0, out + err
    with ModelRegistry() as reg:
        (rec,) = reg.list_models(crypto_id="bitcoin")
        reg.promote(rec.model_id, reason="test", force=True)
    forget_plugins()
    monkeypatch.delenv("CRYPTOFORECAST_MODELS__PLUGINS")
    client = SyncASGIClient(create_app(load_config(), admin_token=None, retrain=None))
    body = served(client, 1)
    assert body["source"] != "model"
    assert body["fallback_reason"] == (
        f"model {rec.model_id} needs plug-in cf_ridge 0.1.0, not loaded: add it to "
        "models.plugins and restart the service"
    )
    assert "cf_ridge" not in sys.modules  # never imported lazily by a request


def test_serve_refuses_a_bad_plugin_before_the_server_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("class NotAModel:\n    model_type = 'x'\n", encoding="utf-8")
    monkeypatch.setenv("CRYPTOFORECAST_MODELS__PLUGINS", json.dumps([f"{bad}:NotAModel"]))
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("uvicorn started"))
    code, out, err = run(["serve"], capsys)
    assert code != 0
    assert "not a subclass of cryptoforecast.models.BaseForecaster" in out + err


def test_the_retrain_endpoint_takes_a_loaded_plugins_model_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CRYPTOFORECAST_MODELS__PLUGINS", EXAMPLE)
    calls: list[dict[str, Any]] = []

    def fake_retrain(**kw: Any) -> dict[str, int]:
        calls.append(kw)
        return {"retrained": 1}

    token = "a long enough admin token for the test"
    app = create_app(load_config(), admin_token=token, retrain=fake_retrain)
    c = SyncASGIClient(app)
    ok = {"Authorization": f"Bearer {token}"}
    body = {"crypto_id": "bitcoin", "model_type": "ridge_momentum", "horizon": 1}
    r = c.post("/v1/retrain", headers=ok, json=body)
    assert r.status_code == 202, r.text
    for _ in range(500):
        if calls:
            break
        threading.Event().wait(0.01)
    assert calls and calls[0]["model_type"] == "ridge_momentum"
    r = c.post("/v1/retrain", headers=ok, json={**body, "model_type": "not_loaded"})
    assert r.status_code == 422 and "unknown model_type 'not_loaded'" in r.text
