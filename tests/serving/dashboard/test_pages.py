"""The dashboard's pages and views without a browser (the ASGI app in process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app
from cryptoforecast.serving.dashboard.charts import (
    FanPoint,
    TimelineEvent,
    fan_chart,
    format_number,
    line_chart,
    timeline_chart,
)
from cryptoforecast.serving.dashboard.overview import forecast_bands, staleness
from cryptoforecast.serving.dashboard.router import PAGE_CSP
from cryptoforecast.serving.ledger import Ledger
from cryptoforecast.serving.schemas import Forecast

from ..conftest import SyncASGIClient
from .conftest import fill_ledger

AS_OF = datetime(2025, 9, 30, tzinfo=UTC)


def forecast(**extra: Any) -> Any:
    base = Forecast(
        crypto_id="bitcoin",
        horizon=1,
        as_of=AS_OF,
        target_time=AS_OF + timedelta(days=1),
        last_close=100.0,
        predicted_price=101.0,
        predicted_return=0.00995,
        direction="up",
        intervals={0.8: (95.0, 107.0), 0.95: (90.0, 112.0)},
        model_type="technical",
        source="technical_analysis_fallback",
        fallback_reason="no production model",
        generated_at=AS_OF,
    )
    if not extra:
        return base

    class WithExtra(Forecast):  # a schema with a staleness flag (a later field)
        stale: bool | None = None

    return WithExtra(**{**base.model_dump(), **extra})


def test_fan_draws_the_forecasts_intervals_which_are_its_distributions_quantiles() -> None:
    assert forecast_bands(forecast()) == (
        {0.8: (95.0, 107.0), 0.95: (90.0, 112.0)},
        "distribution",
    )
    # no distribution: no band (never one from somewhere else)
    assert forecast_bands(forecast(intervals={})) == ({}, "distribution")


def test_staleness_counts_from_the_close_of_the_newest_candle() -> None:
    # daily candle opened 2025-09-30, closed 2025-10-01 00:00; every forecast now carries its
    # own ``stale`` (judged by the predictor with its grace period), and the page shows it
    closed = AS_OF + timedelta(days=1)
    assert staleness(forecast(stale=False), closed + timedelta(hours=23)).stale is False
    late = staleness(forecast(stale=True), closed + timedelta(hours=25))
    assert late.stale is True and late.label == "stale: last candle closed 1 day 1 h ago"
    assert "3 days" in staleness(forecast(stale=True), closed + timedelta(days=3)).label
    # a forecast that says itself whether it is stale is believed
    assert staleness(forecast(stale=False), closed + timedelta(days=3)).stale is False


def test_charts_escape_text_and_refuse_empty_input() -> None:
    svg = fan_chart(
        [(AS_OF - timedelta(days=1), 99.0), (AS_OF, 100.0)],
        (AS_OF, 100.0),
        [FanPoint(AS_OF + timedelta(days=1), 101.0, {0.8: (95.0, 107.0)}, "h=1 <b>")],
        "a <script> title",
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "h=1 &lt;b&gt;" in svg
    assert 'class="band band80"' in svg and "80% 95.00 to 107.00" in svg
    with pytest.raises(ValueError, match="at least one finite point"):
        line_chart([], "empty")
    with pytest.raises(ValueError, match="at least one event"):
        timeline_chart([], "empty")
    many = [TimelineEvent(AS_OF + timedelta(hours=i), f"e{i}", "") for i in range(15)]
    assert "the last 10 of 15 events" in timeline_chart(many, "t")


def test_number_format() -> None:
    assert [format_number(v) for v in (114048.93, 4.567, 0.123456, None, float("nan"))] == [
        "114,049",
        "4.57",
        "0.1235",
        "-",
        "-",
    ]
    assert format_number(0.97, 4) == "0.9700"


def test_pages_answer_with_a_policy_that_allows_only_the_app(dashboard_app: Any) -> None:
    client = SyncASGIClient(dashboard_app)
    for path in ("/", "/accuracy", "/models"):
        r = client.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert r.headers["content-security-policy"] == PAGE_CSP
        assert "<h1>" in r.text and "<title>" in r.text
        assert "http://" not in r.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in r.text
    assert (
        client.get("/static/dashboard/dashboard.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )
    assert client.get("/static/dashboard/missing.js").status_code == 404
    # the dashboard is not part of the API schema
    assert "/accuracy" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    "name", ["../registry.db", "..%2Fregistry.db", ".hidden.html", "notes.txt", "nope.html"]
)
def test_reports_serve_only_html_files_of_the_reports_folder(
    dashboard_app: Any, reports_dir: Path, name: str
) -> None:
    (reports_dir / ".hidden.html").write_text("secret", encoding="utf-8")
    (reports_dir / "notes.txt").write_text("secret", encoding="utf-8")
    client = SyncASGIClient(dashboard_app)
    assert client.get("/reports/bitcoin-drift-h1.html").status_code == 200
    r = client.get(f"/reports/{name}")
    assert r.status_code == 404 and "secret" not in r.text


def test_a_report_link_escaping_the_folder_is_refused(
    dashboard_app: Any, reports_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.html"
    outside.write_text("secret", encoding="utf-8")
    (reports_dir / "link.html").symlink_to(outside)
    r = SyncASGIClient(dashboard_app).get("/reports/link.html")
    assert r.status_code == 404 and "secret" not in r.text


def test_accuracy_says_plainly_when_nothing_beats_naive(registry: Any, cf_home: Path) -> None:
    ledger = Ledger(f"sqlite:///{cf_home / 'worse.db'}")
    fill_ledger(ledger, [("bitcoin", "technical", 1, None, -0.5)])
    app = create_app(load_config(), registry=registry, ledger=ledger)
    text = SyncASGIClient(app).get("/accuracy").text
    assert 'id="nothing-beats-naive"' in text and "Nothing beats naive" in text
    assert "does not beat naive" in text
    ledger.dispose()


def test_empty_service_shows_every_snapshot_coin_from_the_fallback(registry: Any) -> None:
    app = create_app(load_config(), registry=registry)
    client = SyncASGIClient(app)
    text = client.get("/").text
    from cryptoforecast.assets import snapshot_assets

    for asset in snapshot_assets():
        assert f'data-crypto-id="{asset.id}"' in text
    assert "No model is in production yet" in text
    assert "The ledger is empty" not in text  # the overview's forecasts were just recorded
    assert "No forecast has been scored yet" in client.get("/accuracy").text
    models = client.get("/models").text
    assert "No model is in production" in models and "No HTML report in" in models


class BrokenRegistry:
    """A registry whose database cannot be reached."""

    url = None

    def __getattr__(self, name: str) -> Any:
        from cryptoforecast.exceptions import RegistryError

        def fail(*_a: Any, **_k: Any) -> Any:
            raise RegistryError("cannot reach the registry database (connection refused)")

        return fail


def test_overview_still_answers_when_the_registry_is_down(cf_home: Path) -> None:
    ledger = Ledger(f"sqlite:///{cf_home / 'ledger.db'}")
    app = create_app(load_config(), registry=BrokenRegistry(), ledger=ledger)
    r = SyncASGIClient(app).get("/")
    assert r.status_code == 200
    assert "The model registry is unavailable (RegistryError)." in r.text
    assert "connection refused" not in r.text  # the details are in the service log only
    assert "technical-analysis fallback, because: registry unavailable" in r.text
    ledger.dispose()
