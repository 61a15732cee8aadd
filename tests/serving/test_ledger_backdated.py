"""Back-dated forecasts never count as live: a forecast asked for with ``as_of`` (the API's
``?as_of=``, the CLI's ``--as-of``, ``Predictor.predict(as_of=...)``) is not recorded in the
ledger, whatever time it names, so no live score (``/v1/accuracy``, ``/accuracy``,
``ledger score``) can be made of it."""

from __future__ import annotations

from typing import Any

import pytest

from cryptoforecast.cli import main
from cryptoforecast.config import load_config
from cryptoforecast.serving import Ledger, Predictor
from cryptoforecast.serving.app import create_app
from tests.serving.conftest import FakeClock, SyncASGIClient, Trained


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


@pytest.fixture
def client(registry: Any, ledger: Ledger, clock: FakeClock) -> SyncASGIClient:
    app = create_app(load_config(), registry=registry, ledger=ledger, clock=clock, admin_token=None)
    return SyncASGIClient(app)


def test_back_dated_requests_leave_the_ledger_and_its_scores_empty(
    client: SyncASGIClient, ledger: Ledger, btc_model: Trained
) -> None:
    days = [f"2025-06-{d:02d}" for d in range(1, 21)]
    for as_of in days:
        assert client.get("/v1/forecast/bitcoin", params={"as_of": as_of}).status_code == 200
    batch = client.get("/v1/forecast", params={"ids": "bitcoin,eth", "as_of": "2025-05-01"})
    assert batch.status_code == 200
    assert len(ledger) == 0
    assert client.get("/v1/accuracy").json()["accuracy"] == []
    assert "The ledger is empty" in client.get("/accuracy").text
    # a live forecast is still recorded, once
    assert client.get("/v1/forecast/bitcoin").status_code == 200
    assert len(ledger) == 1


def test_an_as_of_at_or_after_the_latest_candle_is_still_back_dated(
    client: SyncASGIClient, ledger: Ledger, btc_model: Trained
) -> None:
    """``as_of`` given means back-dated, even when it selects the latest candle; and its cached
    answer does not stop the live forecast of the same candle from being recorded."""
    latest = client.get("/v1/forecast/bitcoin", params={"as_of": "2100-01-01"}).json()
    assert len(ledger) == 0
    live = client.get("/v1/forecast/bitcoin").json()
    assert live["as_of"] == latest["as_of"] and live["cached"] is False
    assert len(ledger) == 1
    again = client.get("/v1/forecast/bitcoin", params={"as_of": "2100-01-01"}).json()
    assert again["as_of"] == live["as_of"] and len(ledger) == 1


def test_predictor_as_of_is_not_recorded_but_end_is(
    registry: Any, ledger: Ledger, clock: FakeClock, btc_model: Trained
) -> None:
    pred = Predictor(registry=registry, ledger=ledger, clock=clock, cache_ttl=0)
    pred.predict("bitcoin", as_of="2025-06-01")
    pred.predict("bitcoin", as_of="2025-06-02T12:00")
    assert len(ledger) == 0
    # a predictor set to an earlier time on purpose (a replay, or a test of the ledger) records
    Predictor(registry=registry, ledger=ledger, clock=clock, end="2025-06-01").predict("bitcoin")
    assert len(ledger) == 1


def test_the_forecast_cli_records_only_live_forecasts(
    btc_model: Trained, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = Ledger()  # the CLI's default ledger, under this test's $CRYPTOFORECAST_HOME
    assert main(["forecast", "bitcoin", "--as-of", "2025-06-01", "--json"]) == 0
    assert len(ledger) == 0
    assert main(["forecast", "bitcoin", "--json"]) == 0
    assert len(ledger) == 1
    capsys.readouterr()
    assert main(["ledger", "score"]) == 0
