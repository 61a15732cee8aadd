"""No database password ever reaches a response, a log record or a /metrics line."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cryptoforecast.cli import main
from cryptoforecast.config import load_config
from cryptoforecast.exceptions import RegistryError
from cryptoforecast.redaction import describe_url, mask_url, password_of, redact
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving import create_app
from cryptoforecast.serving.ledger import Ledger

from .conftest import FakeClock, SyncASGIClient

PASSWORD = "pw-Zq81-unguessable"
UNREACHABLE = f"postgresql+psycopg://svc:{PASSWORD}@127.0.0.1:1/r"

#: passwords that are legal in a URL's user information and defeat a pattern that stops at the
#: first quote, space or '@' (the last one is read by drivers as password "Zq81" on the host
#: "unguess-able@127.0.0.1", so each part is a secret of its own)
HOSTILE_PASSWORDS = ["pa'ssQX-single", 'pa"ssQX-double', "pa ssQX-space", "Zq81@unguess-able"]


def secrets_in(password: str) -> list[str]:
    """The password and each of its '@'-separated parts long enough to be recognisable."""
    return [password, *(part for part in password.split("@") if len(part) >= 4)]


def test_mask_url_hides_passwords_and_secret_parameters() -> None:
    assert mask_url(UNREACHABLE) == "postgresql+psycopg://svc:***@127.0.0.1:1/r"
    assert mask_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
    assert mask_url("notaurl") == "notaurl"
    assert mask_url(None) == ""
    assert PASSWORD not in mask_url(f"postgresql://u@h/db?password={PASSWORD}&sslmode=require")
    assert password_of(UNREACHABLE) == (PASSWORD,)
    text = f"could not open {UNREACHABLE} (api_key={PASSWORD}) and again {PASSWORD}"
    assert PASSWORD not in redact(text, password_of(UNREACHABLE))


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_mask_url_parses_the_user_information_whatever_the_password_holds(password: str) -> None:
    url = f"postgresql+psycopg://svc:{password}@127.0.0.1:1/r"
    assert mask_url(url) == "postgresql+psycopg://svc:***@127.0.0.1:1/r"
    assert describe_url(url) == "postgresql+psycopg://127.0.0.1:1/r"
    assert set(secrets_in(password)) <= set(password_of(url))
    text = redact(f'cannot open {url!r} nor "{url}"; host {password.split("@")[-1]}@127.0.0.1')
    masked = redact(text, password_of(url))
    assert all(secret not in masked for secret in secrets_in(password)), masked


def test_describe_url_never_shows_a_user() -> None:
    assert describe_url("sqlite:////tmp/a@b/x.db") == "sqlite:////tmp/a@b/x.db"
    assert describe_url(UNREACHABLE) == "postgresql+psycopg://127.0.0.1:1/r"
    assert (
        describe_url("postgresql://u@h/db?password=pw-1&x=1")
        == "postgresql://h/db?password=***&x=1"
    )
    assert describe_url(None) == ""


def test_the_ledger_error_masks_the_password() -> None:
    with pytest.raises(RegistryError) as info:
        len(Ledger(UNREACHABLE))
    assert PASSWORD not in str(info.value) and "svc" not in str(info.value)
    assert "127.0.0.1:1/r" in str(info.value)  # the database is still named, for the operator
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert PASSWORD not in repr(Ledger(UNREACHABLE))


def test_the_registry_error_masks_the_password() -> None:
    registry = ModelRegistry(UNREACHABLE, max_attempts=1)
    with pytest.raises(RegistryError) as info:
        registry.list_models()
    assert PASSWORD not in str(info.value) and "svc" not in str(info.value)
    assert PASSWORD not in repr(registry)


@pytest.mark.parametrize("password", [PASSWORD, *HOSTILE_PASSWORDS])
def test_no_response_log_or_metric_shows_the_database_password(
    password: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The registry and the ledger on an unreachable PostgreSQL whose URL holds a password."""
    monkeypatch.setenv(
        "CRYPTOFORECAST_REGISTRY_URL", f"postgresql+psycopg://svc:{password}@127.0.0.1:1/r"
    )
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
        ("GET", "/v1/admin/models", {"headers": {"Authorization": "Bearer t0ken-admin"}}),
        ("GET", "/metrics", {}),
        ("GET", "/", {}),
        ("GET", "/models", {}),
        ("GET", "/accuracy", {}),
    ]
    statuses = {}
    for method, url, kwargs in calls:
        response = client.request(method, url, **kwargs)
        statuses[url] = response.status_code
        seen.append(response.text)
        seen.extend(f"{k}: {v}" for k, v in response.headers.items())
    assert statuses["/v1/accuracy"] == 503 and statuses["/v1/models"] == 503
    assert statuses["/healthz"] == 200
    seen.extend(record.getMessage() for record in caplog.records)
    seen.extend(str(record.exc_info) for record in caplog.records if record.exc_info)
    assert any("ledger" in record.getMessage() for record in caplog.records)
    leaks = [text for text in seen for secret in secrets_in(password) if secret in text]
    assert leaks == []


@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
@pytest.mark.parametrize("command", [["registry", "list"], ["ledger", "score"]])
def test_cli_errors_show_no_part_of_the_password(
    password: str,
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(
        "CRYPTOFORECAST_REGISTRY_URL", f"postgresql+psycopg://svc:{password}@127.0.0.1:1/r"
    )
    code = main(command)
    out, err = capsys.readouterr()
    assert code != 0 and "127.0.0.1" in err  # the failure is still explained
    assert [s for s in secrets_in(password) if s in out + err] == []
