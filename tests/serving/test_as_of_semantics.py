"""What ``as_of`` means, the same in the API (one and batch), the CLI and ``Predictor``.

A date means that day's close (the daily candle dated that day); a date-time means the last candle
that had closed at or before it (a 1d candle dated D closes at D+1 00:00 UTC, a 4h candle four
hours after it opens); anything else is a 422 naming ``as_of``, the value and the accepted forms.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import DataError
from cryptoforecast.serving import Predictor
from cryptoforecast.serving.app import create_app
from tests.cli_runner import run
from tests.serving.conftest import SyncASGIClient

BAD = [
    "",
    "nan",
    "NaN",
    "NaT",
    "-1",
    "now",
    "yesterdayish",
    "1e5",
    "2025-13-01",
    "2025-02-30",
    "99999-01-01",
    "1700000000",
    "2025-01-01T00:00:00 02:00",
]


@pytest.fixture
def client(registry: Any) -> SyncASGIClient:
    return SyncASGIClient(create_app(load_config(), registry=registry, admin_token=None))


def day(ts: str) -> str:
    return ts[:19]


@pytest.mark.parametrize("value", BAD)
def test_a_bad_as_of_is_a_422_naming_it(client: SyncASGIClient, value: str) -> None:
    for url, params in (
        ("/v1/forecast/bitcoin", {"as_of": value}),
        ("/v1/forecast", {"ids": "bitcoin,ethereum", "as_of": value}),
    ):
        answer = client.get(url, params=params)
        assert answer.status_code == 422, (url, value, answer.text)
        (detail,) = answer.json()["detail"]
        assert detail["loc"] == ["query", "as_of"]
        assert detail["msg"].startswith(f"as_of={value!r} is not a date or date-time")
        assert "2025-01-01T12:00" in detail["msg"] and "2025-01-01" in detail["msg"]


@pytest.mark.parametrize(
    ("as_of", "last_candle"),
    [
        ("2025-01-01", "2025-01-01T00:00:00"),  # a date: that day's close
        ("2025-01-01T00:00:01", "2024-12-31T00:00:00"),  # 2025-01-01 closes only on 01-02
        ("2025-01-01T23:59:59", "2024-12-31T00:00:00"),
        ("2025-01-02T00:00:00", "2025-01-01T00:00:00"),  # closed exactly then: known
        ("2025-01-02T00:00:00Z", "2025-01-01T00:00:00"),
        ("2025-01-02T01:00:00+02:00", "2024-12-31T00:00:00"),  # 2025-01-01T23:00Z
        ("2025-01-01T22:00:00-02:00", "2025-01-01T00:00:00"),  # 2025-01-02T00:00Z
    ],
)
def test_a_date_time_uses_the_last_candle_closed_by_then(
    client: SyncASGIClient, as_of: str, last_candle: str
) -> None:
    closes = load_ohlcv("bitcoin")["close"]
    one = client.get("/v1/forecast/bitcoin", params={"as_of": as_of})
    assert one.status_code == 200, one.text
    body = one.json()
    assert day(body["as_of"]) == last_candle
    assert body["last_close"] == closes[pd.Timestamp(last_candle, tz="UTC")]
    batch = client.get("/v1/forecast", params={"ids": "bitcoin,eth", "as_of": as_of}).json()
    assert [day(f["as_of"]) for f in batch["forecasts"]] == [last_candle, last_candle]


@pytest.mark.parametrize(
    ("as_of", "last_candle"),
    [
        ("2025-01-01", "2025-01-01T20:00:00"),  # the day's last 4h candle closes at midnight
        ("2025-01-01T07:59:59", "2025-01-01T00:00:00"),  # the 04:00 candle closes at 08:00
        ("2025-01-01T08:00:00", "2025-01-01T04:00:00"),
    ],
)
def test_four_hour_candles_count_once_closed(registry: Any, as_of: str, last_candle: str) -> None:
    pred = Predictor(registry=registry, interval="4h", record=False, cache_ttl=0)
    assert day(pred.predict("bitcoin", as_of=as_of).as_of.isoformat()) == last_candle
    ended = Predictor(registry=registry, interval="4h", record=False, cache_ttl=0, end=as_of)
    assert day(ended.predict("bitcoin").as_of.isoformat()) == last_candle


@pytest.mark.parametrize("value", ["nan", "NaT", "", "-1", pd.NaT, float("nan")])
def test_the_predictor_refuses_the_same_values(registry: Any, value: Any) -> None:
    pred = Predictor(registry=registry, record=False, cache_ttl=0)
    with pytest.raises(DataError, match=r"^as_of=.* is not a date or date-time"):
        pred.predict("bitcoin", as_of=value)
    with pytest.raises(DataError, match=r"^end=.* is not a date or date-time"):
        Predictor(registry=registry, end=value)


def test_an_as_of_forecast_is_judged_at_its_own_time(client: SyncASGIClient, registry: Any) -> None:
    """The snapshot ends on 2025-09-30: today its forecasts are stale, but not as of 2025-01-01
    (the same answer ``Predictor(end=...)`` gives)."""
    body = client.get("/v1/forecast/bitcoin", params={"as_of": "2025-01-01"}).json()
    assert body["stale"] is False and body["stale_reason"] is None
    assert client.get("/v1/forecast/bitcoin").json()["stale"] is True
    ended = Predictor(registry=registry, record=False, end="2025-01-01").predict("bitcoin")
    assert ended.stale is False and ended.predicted_price == body["predicted_price"]


def test_the_forecast_cli_takes_the_same_as_of(
    registry: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["forecast", "bitcoin", "--as-of", "2025-01-01T00:00:01", "--json"], capsys
    )
    assert code == 0, err
    (fc,) = json.loads(out)["forecasts"]
    assert day(fc["as_of"]) == "2024-12-31T00:00:00"
    code, out, _ = run(["forecast", "bitcoin", "--as-of", "2025-01-01", "--json"], capsys)
    assert code == 0 and day(json.loads(out)["forecasts"][0]["as_of"]) == "2025-01-01T00:00:00"
    for value in ("nan", "", "-1"):
        code, out, err = run(["forecast", "bitcoin", "--as-of", value], capsys)
        assert code == 1 and out == ""
        assert f"--as-of {value!r} is not a date or date-time" in " ".join(err.split())


def test_the_help_and_the_api_say_what_as_of_means(
    client: SyncASGIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    params = client.get("/openapi.json").json()["paths"]["/v1/forecast/{crypto_id}"]["get"]
    (as_of,) = [p for p in params["parameters"] if p["name"] == "as_of"]
    for words in ("that day's close", "closed at or before", "422", "ledger"):
        assert words in as_of["description"]
    assert "closed at or before" in (Predictor.predict.__doc__ or "")
    code, out, _ = run(["forecast", "--help"], capsys)
    assert code == 0 and "closed at or before" in " ".join(re.sub(r"[│╭╮╰╯─]", " ", out).split())
