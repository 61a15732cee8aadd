"""No test reads what a demo leaves in the working directory: after ``make demo`` the checkout holds
``reports/bitcoin.html``, and the service a test builds must not list it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app

from ..conftest import SyncASGIClient


def test_a_report_left_in_the_working_directory_is_not_listed(
    registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    left = tmp_path / "checkout" / "reports"
    left.mkdir(parents=True)
    (left / "left-by-the-demo.html").write_text("<!doctype html><title>demo</title>", "utf-8")
    monkeypatch.chdir(left.parent)
    client = SyncASGIClient(create_app(load_config(), registry=registry))
    models = client.get("/models").text
    assert "No HTML report in" in models
    assert "left-by-the-demo" not in models
    assert client.get("/reports/left-by-the-demo.html").status_code == 404
