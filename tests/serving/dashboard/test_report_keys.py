"""The models page lists each backtest report under the key it belongs to, read from its file
name: ``<coin>-<model type>-h<horizon>.html`` under that key only, ``<coin>.html`` (the demo's)
under each of that coin's keys, and never under another coin whose id starts the same."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..conftest import SyncASGIClient

CARD = re.compile(r'<section class="card model-card" data-model-id="(\d+)"(.*?)</section>', re.S)


def reports_by_card(html: str) -> dict[int, set[str]]:
    return {
        int(model_id): set(re.findall(r'href="/reports/([^"]+)"', body))
        for model_id, body in CARD.findall(html)
    }


def test_each_report_is_listed_under_its_own_key_only(
    dashboard_app: Any, reports_dir: Path, filled_registry: dict[str, int]
) -> None:
    for name in (
        "bitcoin.html",
        "bitcoin-drift-h7.html",  # another horizon
        "bitcoin-lightgbm-h1.html",  # another model type
        "ethereum.html",
        "ethereum-drift-h7.html",
        "avalanche-2-drift-h1.html",  # a coin id with a hyphen
        "bitcoincash-drift-h1.html",  # not bitcoin, though it starts like it
    ):
        (reports_dir / name).write_text("<!doctype html><title>r</title>", encoding="utf-8")
    html = SyncASGIClient(dashboard_app).get("/models").text
    cards = reports_by_card(html)
    assert cards[filled_registry["production"]] == {"bitcoin-drift-h1.html", "bitcoin.html"}
    assert cards[filled_registry["refused"]] == {"ethereum-drift-h7.html", "ethereum.html"}
    # the page's own list still has every report
    listed = re.search(r'<ul class="reports">(.*?)</ul>', html, re.S)
    assert listed is not None
    assert len(re.findall(r'href="/reports/', listed.group(1))) == 8
