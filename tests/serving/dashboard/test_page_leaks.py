"""The public pages show no server internals (who registered a model, the reports folder), and
the reports listing links only to reports the report route serves, each one answered."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app

from ..conftest import SyncASGIClient


def _links(html: str) -> list[str]:
    return re.findall(r'href="(/reports/[^"]*)"', html)


def test_the_models_page_shows_no_registering_user_or_host(
    dashboard_app: Any, registry: Any, filled_registry: dict[str, int]
) -> None:
    record = registry.get(filled_registry["production"])
    assert "@" in record.created_by  # user@host, as the registry records it
    text = SyncASGIClient(dashboard_app).get("/models").text
    assert f'data-model-id="{record.model_id}"' in text  # the model is on the page...
    assert record.created_by not in text  # ...but not who registered it, nor on which host
    # the admin API keeps it
    admin = create_app(load_config(), registry=registry, admin_token="t" * 32)
    full = SyncASGIClient(admin).get(
        "/v1/admin/models", headers={"Authorization": f"Bearer {'t' * 32}"}
    )
    assert record.created_by in full.text


@pytest.mark.parametrize("exists", [True, False])
def test_the_models_page_does_not_show_the_reports_folder(
    registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool
) -> None:
    folder = tmp_path / "private" / "reports"
    if exists:
        folder.mkdir(parents=True)
    monkeypatch.setenv("CRYPTOFORECAST_REPORTS_DIR", str(folder))
    text = SyncASGIClient(create_app(load_config(), registry=registry)).get("/models").text
    assert "No HTML report" in text
    assert str(tmp_path) not in text and "private" not in text


@pytest.fixture
def odd_reports(reports_dir: Path, tmp_path: Path) -> Path:
    """Beside a good report: one not in UTF-8, and files the report route must refuse."""
    (reports_dir / "bitcoin-latin1.html").write_bytes(
        b"<!doctype html><title>r</title><p>caf\xe9 \xff\xfe</p>"
    )
    (reports_dir / ".hidden.html").write_text("secret", encoding="utf-8")
    (reports_dir / "with space.html").write_text("secret", encoding="utf-8")
    (reports_dir / "folder.html").mkdir()
    outside = tmp_path / "outside.html"
    outside.write_text("secret", encoding="utf-8")
    (reports_dir / "link-out.html").symlink_to(outside)
    (reports_dir / "link-in.html").symlink_to(reports_dir / "bitcoin-drift-h1.html")
    return reports_dir


def test_a_report_not_in_utf8_is_answered_not_a_500(dashboard_app: Any, odd_reports: Path) -> None:
    r = SyncASGIClient(dashboard_app).get("/reports/bitcoin-latin1.html")
    assert r.status_code == 200
    assert "caf\ufffd \ufffd\ufffd" in r.text  # undecodable bytes shown as U+FFFD


def test_the_listing_links_exactly_the_reports_the_route_serves(
    dashboard_app: Any, odd_reports: Path
) -> None:
    client = SyncASGIClient(dashboard_app)
    links = sorted(set(_links(client.get("/models").text)))
    assert links == [
        "/reports/bitcoin-drift-h1.html",
        "/reports/bitcoin-latin1.html",
        "/reports/link-in.html",
    ]
    for href in links:
        r = client.get(href)
        assert r.status_code == 200, href
        assert "secret" not in r.text
    for name in (".hidden.html", "with%20space.html", "folder.html", "link-out.html"):
        assert client.get(f"/reports/{name}").status_code == 404, name
