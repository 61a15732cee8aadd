"""A ``Predictor`` built in Python loads the configured plug-ins itself, the first time a
production record names one this process has not loaded: its model then serves (source "model")
without a call to ``load_plugins``. Without the setting the forecast still falls back with the
label that names the fix; nothing is read or imported for users without plug-ins."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models import model_types
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving import Predictor
from cryptoforecast.training import train_model
from tests.plugin_install import forget_plugins, install_cf_ridge

from .conftest import Trained

PLUGINS_ENV = "CRYPTOFORECAST_MODELS__PLUGINS"


pytestmark = pytest.mark.usefixtures("plugins_forgotten")


@pytest.fixture
def production_cf_ridge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """A production cf_ridge model (h=1) in the test's registry; afterwards no plug-in is loaded
    and the setting that names it is set."""
    install_cf_ridge(tmp_path / "site", monkeypatch)
    monkeypatch.setenv(PLUGINS_ENV, '["cf_ridge"]')
    model = train_model("bitcoin", "cf_ridge", days=400, horizon=1)
    rec = model.training_result_.record
    assert rec is not None
    with ModelRegistry() as reg:
        reg.promote(rec.model_id, reason="a user's model", force=True)
    forget_plugins()
    return int(rec.model_id)


def test_a_python_predictor_loads_the_configured_plugin_and_serves_its_model(
    production_cf_ridge: int,
) -> None:
    assert "cf_ridge" not in model_types() and "cf_ridge" not in sys.modules
    forecast = Predictor(record=False).predict("bitcoin", 1)
    assert (forecast.source, forecast.model_id, forecast.model_type) == (
        "model",
        production_cf_ridge,
        "cf_ridge",
    )
    assert forecast.fallback_reason is None
    assert "cf_ridge" in model_types()


def test_a_python_predictor_takes_a_loaded_plugins_model_type_by_name(
    production_cf_ridge: int,
) -> None:
    forecast = Predictor(record=False).predict("bitcoin", 1, model_type="cf_ridge")
    assert (forecast.source, forecast.model_id) == ("model", production_cf_ridge)


def test_settings_passed_in_name_the_plugins(
    production_cf_ridge: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_config()  # read while the environment names cf_ridge
    monkeypatch.delenv(PLUGINS_ENV)
    forecast = Predictor(record=False, settings=settings).predict("bitcoin", 1)
    assert (forecast.source, forecast.model_id) == ("model", production_cf_ridge)


def test_without_the_setting_the_forecast_falls_back_naming_the_fix(
    production_cf_ridge: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PLUGINS_ENV)
    forecast = Predictor(record=False).predict("bitcoin", 1)
    assert forecast.source == "technical_analysis_fallback"
    assert forecast.fallback_reason == (
        f"model {production_cf_ridge} needs plug-in cf_ridge 0.1.0, not loaded: add it to "
        "models.plugins and restart the service"
    )
    assert "cf_ridge" not in sys.modules  # a record never makes anything import


def test_off_the_main_thread_a_plugin_is_not_imported(production_cf_ridge: int) -> None:
    predictor = Predictor(record=False)
    answers = []
    worker = threading.Thread(target=lambda: answers.append(predictor.predict("bitcoin", 1)))
    worker.start()
    worker.join()
    (forecast,) = answers
    assert forecast.source == "technical_analysis_fallback"
    assert forecast.fallback_reason is not None and "needs plug-in cf_ridge" in (
        forecast.fallback_reason
    )
    assert "cf_ridge" not in sys.modules  # imports happen on the main thread only


def test_a_predictor_of_builtin_models_reads_no_config(
    btc_model: Trained, registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cryptoforecast.serving.predictor as predictor_module

    def refuse() -> None:
        pytest.fail("the config was read")

    monkeypatch.setattr(predictor_module, "load_config", refuse)
    predictor = Predictor(registry=registry, record=False)
    forecast = predictor.predict("bitcoin", 1)  # its production model is a built-in's
    assert (forecast.source, forecast.model_id) == ("model", btc_model.model_id)


def test_with_no_plugin_configured_an_unknown_model_type_is_refused(registry: Any) -> None:
    with pytest.raises(ConfigError, match="unknown model_type 'lightgbmm'; use one of naive"):
        Predictor(registry=registry, record=False).predict("bitcoin", 1, model_type="lightgbmm")


def test_the_service_predictor_reads_no_config_in_a_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import cryptoforecast.serving.predictor as predictor_module
    from cryptoforecast.serving.app import create_app

    from .conftest import SyncASGIClient

    client = SyncASGIClient(create_app(load_config(), admin_token=None, retrain=None))

    def refuse() -> None:
        pytest.fail("a request read the config")

    monkeypatch.setattr(predictor_module, "load_config", refuse)
    r = client.get("/v1/forecast/bitcoin", params={"horizon": 1, "model_type": "cf_ridge"})
    assert r.status_code == 422 and "unknown model_type 'cf_ridge'" in r.text, r.text
