"""Staleness: ``as_of`` and ``stale`` in every forecast, in /healthz, and in the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from cryptoforecast.config import load_config
from cryptoforecast.serving import create_app
from cryptoforecast.serving.freshness import staleness
from cryptoforecast.serving.ledger import Ledger

from ..postgres import BACKENDS, database_url
from .conftest import FakeClock, SyncASGIClient, Trained

LAST = pd.Timestamp("2025-09-30", tz="UTC")  # last daily candle of the embedded snapshot


def test_stale_once_the_next_candle_closed_longer_ago_than_the_grace() -> None:
    # the candle of 09-30 closes 10-01 00:00; the next one closes 10-02 00:00
    limit = datetime(2025, 10, 2, 1, 0, tzinfo=UTC)  # + 1 h grace
    fresh = staleness(LAST, "1d", limit, 3600, "binance")
    assert (fresh.stale, fresh.reason) == (False, None)
    late = staleness(LAST, "1d", limit + pd.Timedelta(seconds=1), 3600, "binance")
    assert late.stale and late.age_hours == pytest.approx(49.0, abs=0.01)
    assert "2025-10-02T00:00:00+00:00" in (late.reason or "") and "refresher" in (late.reason or "")
    four_hourly = staleness(LAST, "4h", datetime(2025, 9, 30, 9, 1, tzinfo=UTC), 3600, "binance")
    assert four_hourly.stale  # 4h candles: 8 h + 1 h grace
    assert not staleness(LAST, "4h", datetime(2025, 9, 30, 8, 59, tzinfo=UTC), 3600, "x").stale


def _binance_app(registry: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A service on the binance source whose cache holds bitcoin up to LAST (no network)."""
    from cryptoforecast.data import CandleCache, load_ohlcv

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("this test must not fetch candles")

    monkeypatch.setattr("cryptoforecast.data.live.refresh_series", no_network)
    CandleCache().write(load_ohlcv("bitcoin"), "binance", "bitcoin", "1d")
    settings = load_config(overrides={"cache": {"ttl_seconds": 86_400}})
    return create_app(settings, registry=registry, clock=clock, source="binance", admin_token=None)


def test_stale_series_is_flagged_in_the_forecast_healthz_and_ledger(
    registry: Any, btc_model: Trained, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(datetime(2025, 10, 1, 12, 0, tzinfo=UTC))
    client = SyncASGIClient(_binance_app(registry, clock, monkeypatch))

    fresh = client.get("/v1/forecast/bitcoin").json()
    assert fresh["as_of"].startswith("2025-09-30") and fresh["source"] == "model"
    assert (fresh["stale"], fresh["stale_reason"]) == (False, None)
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["data"]["bitcoin"]["stale"] is False
    assert health["data"]["bitcoin"]["age_hours"] == pytest.approx(36.0)

    clock.advance(14 * 3600 + 60)  # 10-02 02:01: the 10-01 candle closed 2 h ago, not fetched
    cached = client.get("/v1/forecast/bitcoin").json()
    assert cached["cached"] is True and cached["stale"] is True  # re-judged on a cache hit
    assert "2025-10-02T00:00:00+00:00" in cached["stale_reason"]
    health = client.get("/healthz").json()
    assert health["status"] == "degraded"
    assert health["data"]["bitcoin"]["stale"] is True
    assert "refresher" in health["data"]["bitcoin"]["stale_reason"]

    late = client.get("/v1/forecast/bitcoin", params={"horizon": 3}).json()  # not cached
    assert late["stale"] is True and late["cached"] is False
    rows = Ledger().forecasts()
    assert list(rows["stale"]) == [False, True]
    assert (
        pd.isna(rows["stale_reason"].iloc[0]) and "not in the data" in rows["stale_reason"].iloc[1]
    )


def test_snapshot_service_reports_stale_series_but_stays_ok(
    registry: Any, btc_model: Trained, clock: FakeClock
) -> None:
    """The embedded snapshot is a fixed history: stale by nature, not a failure of the service."""
    client = SyncASGIClient(create_app(load_config(), registry=registry, clock=clock))
    health = client.get("/healthz").json()
    assert health["status"] == "ok"
    assert health["data"]["bitcoin"]["stale"] is True
    assert "fixed history" in health["data"]["bitcoin"]["stale_reason"]
    assert client.get("/v1/forecast/bitcoin").json()["stale"] is True


@pytest.fixture(params=BACKENDS)
def ledger_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    yield from database_url(request.param, tmp_path / "old-ledger.db", prefix="cf_ledger")


def test_a_ledger_from_before_staleness_gains_the_columns_and_keeps_its_rows(
    ledger_url: str, btc_model: Trained, clock: FakeClock
) -> None:
    from cryptoforecast.serving.ledger import forecasts_table
    from cryptoforecast.serving.predictor import Predictor

    # the table as the first release created it: without the staleness columns
    old = sa.Table(
        "forecasts",
        sa.MetaData(),
        *[c._copy() for c in forecasts_table.columns if not c.name.startswith("stale")],
    )
    engine = sa.create_engine(ledger_url)
    old.create(engine)
    with engine.begin() as conn:
        conn.execute(
            old.insert().values(
                crypto_id="bitcoin", horizon=1, interval="1d", data_source="snapshot",
                as_of=datetime(2025, 9, 29, tzinfo=UTC), target_time=datetime(2025, 9, 30, tzinfo=UTC),
                last_close=1.0, predicted_price=1.0, predicted_return=0.0, model_type="naive",
                source="model", generated_at=datetime(2025, 9, 29, 1, tzinfo=UTC),
            )
        )  # fmt: skip
    engine.dispose()
    for _ in range(2):  # opening it twice is harmless
        ledger = Ledger(ledger_url)
        assert len(ledger) == 1
        ledger.dispose()
    ledger = Ledger(ledger_url)
    forecast = Predictor(clock=clock, ledger=ledger).predict("bitcoin")
    ledger.record(forecast, "snapshot")
    rows = ledger.forecasts()
    assert len(rows) == 3 and pd.isna(rows["stale"].iloc[0])  # unknown for the old row
    assert bool(rows["stale"].iloc[2]) is True
    assert {r.crypto_id for r in ledger.score(now=clock())} == {"bitcoin"}
    ledger.dispose()
