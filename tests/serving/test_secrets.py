"""No database password ever reaches a response, a log record or a /metrics line."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.exceptions import RegistryError
from cryptoforecast.redaction import mask_url, password_of, redact
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving import create_app
from cryptoforecast.serving.ledger import Ledger

from .conftest import FakeClock, SyncASGIClient

PASSWORD = "pw-Zq81-unguessable"
UNREACHABLE = f"postgresql+psycopg://svc:{PASSWORD}@127.0.0.1:1/r"


def test_mask_url_hides_passwords_and_secret_parameters() -> None:
    assert mask_url(UNREACHABLE) == "postgresql+psycopg://svc:***@127.0.0.1:1/r"
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert mask_url("notaurl") == "notaurl"
    assert mask_url(None) == ""
    assert PASSWORD not in mask_url(f"postgresql://u@h/db?password={PASSWORD}&sslmode=require")
    assert password_of(UNREACHABLE) == (PASSWORD,)
    text = f"could not open {UNREACHABLE} (api_key={PASSWORD}) and again {PASSWORD}"
    assert PASSWORD not in redact(text, password_of(UNREACHABLE))


def test_the_ledger_error_masks_the_password() -> None:
    with pytest.raises(RegistryError) as info:
        len(Ledger(UNREACHABLE))
    assert PASSWORD not in str(info.value) and "svc:***@127.0.0.1" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert PASSWORD not in repr(Ledger(UNREACHABLE))


def test_the_registry_error_masks_the_password() -> None:
    registry = ModelRegistry(UNREACHABLE, max_attempts=1)
    with pytest.raises(RegistryError) as info:
        registry.list_models()
    assert PASSWORD not in str(info.value) and "***" in str(info.value)
    assert PASSWORD not in repr(registry)


def test_no_response_log_or_metric_shows_the_database_password(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The registry and the ledger on an unreachable PostgreSQL whose URL holds a password."""
    monkeypatch.setenv("CRYPTOFORECAST_REGISTRY_URL", UNREACHABLE)
    app = create_app(load_config(), admin_token="t0ken-admin", clock=FakeClock(), retrain=None)
    client = SyncASGIClient(app)
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/v1/accuracy", {}),
        ("GET", "/v1/forecast/bitcoin", {}),
        ("GET", "/v1/forecast", {"params": {"ids": "bitcoin,ethereum", "horizon": 3}}),
        ("GET", "/v1/models", {}),
        ("GET", "/healthz", {}),
        ("POST", "/v1/models/1/promote", {"headers": {"Authorization": "Bearer t0ken-admin"}}),
        ("GET", "/metrics", {}),
    ]
    statuses = {}
    for method, url, kwargs in calls:
        response = client.request(method, url, **kwargs)
        statuses[url] = response.status_code
        seen.append(response.text)
        seen.extend(f"{k}: {v}" for k, v in response.headers.items())
    assert statuses["/v1/accuracy"] == 503 and "svc:***@" in seen[0]
    assert statuses["/healthz"] == 200
    seen.extend(record.getMessage() for record in caplog.records)
    seen.extend(str(record.exc_info) for record in caplog.records if record.exc_info)
    assert any("ledger" in record.getMessage() for record in caplog.records)
    leaks = [text for text in seen if PASSWORD in text]
    assert leaks == []
