"""``cryptoforecast serve`` says at start-up where the admin token is read from, or that none is
set and the admin routes answer 403; it never prints the token."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli_runner import run

TOKEN = "0123456789abcdef-secret-admin-token"


def test_serve_names_where_the_token_is_read_from_and_never_prints_it(
    serve_started: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CRYPTOFORECAST_ADMIN_TOKEN", TOKEN)
    code, out, err = run(["serve", "--port", "8123"], capsys)
    assert code == 0, err
    assert len(serve_started) == 1
    text = " ".join((out + err).split())
    assert "CRYPTOFORECAST_ADMIN_TOKEN" in text and "Authorization: Bearer" in text
    assert TOKEN not in out + err
    assert TOKEN[:8] not in out + err


def test_serve_without_a_token_says_the_admin_routes_answer_403(
    serve_started: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CRYPTOFORECAST_ADMIN_TOKEN", raising=False)
    code, out, err = run(["serve"], capsys)
    assert code == 0, err
    assert len(serve_started) == 1
    text = " ".join((out + err).split())
    assert "no admin token" in text and "403" in text and "CRYPTOFORECAST_ADMIN_TOKEN" in text
