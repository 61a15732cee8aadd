"""The public pages show no server internals (who registered a model, the reports folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app

from ..conftest import SyncASGIClient


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
