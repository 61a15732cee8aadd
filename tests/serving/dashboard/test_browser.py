"""The dashboard in a real headless Chromium against the service on 127.0.0.1.

Each page: no console error, no request to any host but the server, every chart drawn, the
numbers on the page equal the JSON API's, and a screenshot in the test's temporary directory.
They need Debian's ``chromium`` and the ``playwright`` package (its driver only: the browser is
the system's, ``playwright install`` is never needed). Without them they skip on a developer
machine and fail under CI (``CI=true``), where ``.ci/run`` installs Chromium.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from cryptoforecast.serving.dashboard.charts import format_number
from tests.chromium import require_chromium

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True)
        yield b
        b.close()


class Visit:
    """One page load with everything the browser logged and requested."""

    def __init__(self, browser: Any, base: str, path: str, shots: Path, width: int = 1280) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        response = self.page.goto(base + path, wait_until="networkidle")
        assert response is not None and response.status == 200
        self.base = base
        name = (path.strip("/") or "overview") + ("" if width >= 800 else "-phone")
        self.shot = shots / f"{name}.png"
        self.page.screenshot(path=str(self.shot), full_page=True)

    def check_clean(self) -> None:
        assert self.errors == []
        host = urlsplit(self.base).netloc
        foreign = [
            u for u in self.requests if not u.startswith("data:") and urlsplit(u).netloc != host
        ]
        assert foreign == [], f"requests to other hosts: {foreign}"
        assert any(u.endswith("/static/dashboard/dashboard.js") for u in self.requests)
        assert self.shot.is_file() and self.shot.stat().st_size > 10_000

    def charts(self) -> list[dict[str, float]]:
        """Size and number of drawn shapes of every chart on the page."""
        return self.page.eval_on_selector_all(
            "svg.chart",
            """els => els.map(s => ({
                width: s.getBoundingClientRect().width,
                height: s.getBoundingClientRect().height,
                shapes: s.querySelectorAll('polyline, polygon, circle, path, rect').length,
                drawn: Array.from(s.querySelectorAll('polyline, polygon, circle, path, rect'))
                    .filter(e => e.getBBox().width > 0 && e.getBBox().height > 0).length,
            }))""",
        )

    def headings(self) -> tuple[str, int]:
        return self.page.title(), self.page.locator("h1").count()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Any, server: str, tmp_path: Path) -> Iterator[Any]:
    opened: list[Visit] = []

    def go(path: str, width: int = 1280) -> Visit:
        v = Visit(browser, server, path, tmp_path, width)
        opened.append(v)
        return v

    yield go
    for v in opened:
        v.close()


def assert_charts(v: Visit, expected: int) -> None:
    charts = v.charts()
    assert len(charts) == expected
    for c in charts:
        assert c["width"] > 100 and c["height"] > 30, c
        assert c["shapes"] > 0 and c["drawn"] > 0, c


def test_overview_in_chromium(visit: Any, server: str) -> None:
    v = visit("/")
    v.check_clean()
    title, h1 = v.headings()
    assert "Forecasts" in title and h1 == 1
    cards = v.page.locator("section.card")
    coins = cards.evaluate_all("els => els.map(e => e.dataset.cryptoId)")
    assert coins == ["bitcoin", "ethereum"]  # the coins of the registry and the ledger
    assert_charts(v, 2)
    rows = v.page.locator("tr.forecast-row")
    assert rows.count() == 2 * 4  # horizons 1, 3, 7, 14 of the default config
    seen_sources = set()
    with httpx.Client(base_url=server, timeout=30) as api:
        for cid in coins:
            card = v.page.locator(f"#coin-{cid}")
            assert card.locator(".badge").get_attribute("data-stale") in ("true", "false")
            for row in card.locator("tr.forecast-row").all():
                h = int(row.get_attribute("data-horizon"))
                got = api.get(f"/v1/forecast/{cid}", params={"horizon": h}).json()
                assert float(row.get_attribute("data-price")) == got["predicted_price"]
                assert row.locator("td").nth(2).inner_text() == format_number(
                    got["predicted_price"]
                )
                # the served distribution's quantiles draw the bands
                assert got["quantiles"], got
                for cell in row.locator("td.band").all():
                    low, high = CENTRAL[cell.get_attribute("data-coverage")]
                    lo, hi = got["quantiles"][low], got["quantiles"][high]
                    assert float(cell.get_attribute("data-lower")) == lo
                    assert float(cell.get_attribute("data-upper")) == hi
                    assert cell.inner_text() == f"{format_number(lo)} \u2013 {format_number(hi)}"
                p_up = f"{got['p_up'] * 100:.1f}%"
                if got["p_up_is_base_rate"]:  # said beside it
                    p_up += " (base rate)"
                assert row.locator("td.p-up").inner_text() == p_up
                assert row.locator("td.direction").inner_text() == got["direction"]
                # the bands are the forecast's intervals: its distribution's quantiles
                for c, (lo, hi) in got["intervals"].items():
                    assert row.locator(f'td.band[data-coverage="{c}"]').count() == 1
                    assert (lo, hi) == (
                        got["quantiles"][CENTRAL[c][0]],
                        got["quantiles"][CENTRAL[c][1]],
                    )
                source = card.locator(f'ul.sources li[data-horizons~="{h}"]').inner_text()
                if got["source"] == "model":
                    assert f"model #{got['model_id']}, version {got['model_version']}" in source
                else:
                    assert f"fallback, because: {got['fallback_reason']}" in source
                seen_sources.add(got["source"])
                # the fan's diamond for this horizon shows the same price on hover
                hover = card.locator("svg path.point title").all_text_contents()
                assert any(
                    t.startswith(f"h={h}: {format_number(got['predicted_price'])}") for t in hover
                ), hover
    assert seen_sources == {"model", "technical_analysis_fallback"}
    assert (
        "from one predictive distribution per forecast (scale: "
        in card.locator(".band-source").inner_text()
    )


#: the quantile levels that bound each central band
CENTRAL = {"0.8": ("0.1", "0.9"), "0.95": ("0.025", "0.975")}


def _same(page_value: str | None, api_value: float | None) -> bool:
    if api_value is None:
        return page_value == "None"
    return math.isclose(float(page_value or "nan"), api_value, rel_tol=0, abs_tol=0)


def test_accuracy_in_chromium(visit: Any, server: str) -> None:
    v = visit("/accuracy")
    v.check_clean()
    title, h1 = v.headings()
    assert "Live accuracy" in title and h1 == 1
    with httpx.Client(base_url=server, timeout=30) as api:
        rows = api.get("/v1/accuracy").json()["accuracy"]
    assert len(rows) == 3
    assert_charts(v, 3)
    for r in rows:
        tr = v.page.locator(
            f'tr.accuracy-row[data-key="{r["crypto_id"]}|{r["model_type"]}|{r["horizon"]}"]'
        )
        for attr, key in [
            ("data-mae", "mae"),
            ("data-naive-mae", "naive_mae"),
            ("data-mape", "mape"),
            ("data-naive-mape", "naive_mape"),
            ("data-mase", "mase"),
        ]:
            assert _same(tr.get_attribute(attr), r[key]), (attr, r)
        assert tr.locator("td.mase").inner_text() == format_number(r["mase"], 3)
        assert tr.locator("td").all_inner_texts()[3:7] == [
            format_number(r["mae"]),
            format_number(r["naive_mae"]),
            format_number(r["mape"], 2),
            format_number(r["naive_mape"], 2),
        ]
        assert int(tr.locator("td.n-scored").inner_text()) == r["n_scored"] > 0
        verdict = tr.locator(".verdict").inner_text()
        assert verdict == ("beats naive" if r["mase"] < 1 else "does not beat naive")
    # one key beats naive, so the page must not claim that nothing does
    assert v.page.locator("#nothing-beats-naive").count() == 0


def test_models_in_chromium(
    visit: Any, server: str, registry: Any, filled_registry: dict[str, int]
) -> None:
    v = visit("/models")
    v.check_clean()
    title, h1 = v.headings()
    assert "Models" in title and h1 == 1
    with httpx.Client(base_url=server, timeout=30) as api:
        records = {m["model_id"]: m for m in api.get("/v1/models").json()["models"]}
    # a production card (with a timeline) and the gate-refused key, each with its timeline
    assert_charts(v, 2)
    for model_id in (filled_registry["production"], filled_registry["refused"]):
        card = v.page.locator(f'section.model-card[data-model-id="{model_id}"]')
        rec = records[model_id]
        assert card.locator(".status").inner_text() == rec["status"]
        for name, key, digits in [
            ("MAE", "mae", None),
            ("RMSE", "rmse", None),
            ("MAPE %", "mape", 2),
        ]:
            row = card.locator(f'tr.metric[data-metric="{name}"]')
            assert float(row.get_attribute("data-model")) == rec["metrics"][key]
            assert float(row.get_attribute("data-naive")) == rec["metrics"][f"naive_{key}"]
            shown = row.locator("td").all_inner_texts()[:2]
            assert shown == [
                format_number(rec["metrics"][key], digits),
                format_number(rec["metrics"][f"naive_{key}"], digits),
            ]
        mase = card.locator('tr.metric[data-metric="MASE"] td').nth(0).inner_text()
        assert mase == format_number(rec["metrics"]["mase"], 4)
    prod = v.page.locator(f'section.model-card[data-model-id="{filled_registry["production"]}"]')
    assert "gate passed: validation MASE 0.9700 < 1" in prod.locator(".gate-reason").inner_text()
    events = prod.locator("ol.history li strong").all_inner_texts()
    assert events == [e.event for e in registry.history("bitcoin", "drift", 1)]
    assert {"register", "gate", "promote"} <= set(events) and len(events) == 6
    refused = v.page.locator(f'section.model-card[data-model-id="{filled_registry["refused"]}"]')
    assert (
        "gate failed: validation MASE 1.0400 is not below 1"
        in refused.locator(".gate-reason").inner_text()
    )
    # the report link works and stays on the server
    v.page.locator('a[href="/reports/bitcoin-drift-h1.html"]').first.click()
    v.page.wait_for_load_state()
    assert v.page.locator("h1").inner_text() == "bitcoin, h=1"
    v.check_clean()


def test_phone_width_and_zoom(visit: Any) -> None:
    v = visit("/", width=390)
    v.check_clean()
    overflow = v.page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390, f"the overview is {overflow}px wide on a 390px screen"
    svg = v.page.locator("svg.chart").first
    before = svg.get_attribute("viewBox")
    v.page.locator("figure.chart-box").first.locator('button[data-zoom-step="0.5"]').click()
    zoomed = svg.get_attribute("viewBox")
    assert zoomed != before and float(zoomed.split()[2]) < float(before.split()[2])
    svg.dblclick()
    assert svg.get_attribute("viewBox") == before
