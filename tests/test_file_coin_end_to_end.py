"""A coin the snapshot lacks, from a file, end to end: import, train, backtest, forecast (from
the import and from a file under any id) and serve, the dashboard card included."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.serving import Predictor, create_app
from cryptoforecast.training.distributions import load_distribution_data
from tests.cli_runner import run
from tests.serving.conftest import running_server

FAST_ENV = {
    "CRYPTOFORECAST_TRAINING__VALIDATION_SIZE": "60",
    "CRYPTOFORECAST_TRAINING__VALIDATION_RETRAIN_EVERY": "30",
}
END = "2025-06-30"


def write_csv(path: Path, interval: str = "1d", days: int = 1200) -> Path:
    """Litecoin's last candles up to ``END`` as a CSV of the shared file format."""
    frame = load_ohlcv("litecoin", interval=interval, end=END).iloc[-days:]
    out = frame[["open", "high", "low", "close", "volume"]].copy()
    out.index = out.index.strftime("%Y-%m-%dT%H:%M:%SZ").rename("open_time")
    out.to_csv(path)
    return path


@pytest.fixture
def mycoin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """``mycoin`` imported (daily and 4h candles); the daily file is returned."""
    daily = write_csv(tmp_path / "mycoin.csv")
    assert run(["data", "import", "mycoin", str(daily), "--name", "My Coin"], capsys)[0] == 0
    four = write_csv(tmp_path / "mycoin_4h.csv", "4h", 1200 * 6)
    code, _, err = run(["data", "import", "mycoin", str(four), "--interval", "4h"], capsys)
    assert code == 0, err
    return daily


@pytest.mark.slow
def test_a_coin_from_a_file_trains_backtests_forecasts_and_serves(
    mycoin: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    code, out, err = run(
        ["train", "mycoin", "--source", "csv", "-H", "7", "-m", "drift", "--days", "500"], capsys
    )
    assert code == 0, err
    records = ModelRegistry().list_models("mycoin")
    assert {r.model_type for r in records} >= {"drift"}
    assert all(r.crypto_id == "mycoin" for r in records)

    args = ["backtest", "mycoin", "--source", "csv", "-H", "7", "-m", "drift", "--days", "30"]
    code, out, err = run([*args, "--json"], capsys)
    assert code == 0, err
    assert "drift" in out

    code, out, err = run(["forecast", "mycoin", "--source", "csv", "-H", "7", "--json"], capsys)
    assert code == 0, err
    (forecast,) = json.loads(out)["forecasts"]
    assert forecast["crypto_id"] == "mycoin" and forecast["as_of"].startswith(END)
    assert forecast["last_close"] == pytest.approx(
        load_ohlcv("litecoin", end=END)["close"].iloc[-1]
    )
    assert forecast["stale"] and "from a file" in forecast["stale_reason"]

    # a file under an id never imported: read as it is, nothing catalogued
    other = write_csv(tmp_path / "other.csv", days=500)
    code, out, err = run(
        ["forecast", "othercoin", "--source", "csv", "--path", str(other), "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["forecasts"][0]["crypto_id"] == "othercoin"
    ledger = Predictor().ledger.forecasts()
    assert set(ledger["crypto_id"]) == {"mycoin"}  # a one-off file is not ledgered
    code, _, err = run(["forecast", "othercoin", "--source", "csv"], capsys)
    assert code != 0 and "data import othercoin" in " ".join(err.split())

    app = create_app(load_config(), source="csv", background=None)
    with running_server(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        answer = client.get("/v1/forecast/mycoin", params={"horizon": 7})
        assert answer.status_code == 200, answer.text
        assert answer.json()["crypto_id"] == "mycoin"
        page = client.get("/")
        assert page.status_code == 200
        assert 'id="coin-mycoin"' in page.text and "My Coin" in page.text
        assert "No forecast" not in page.text
        assert 'id="coin-bitcoin"' not in page.text  # the source has no bitcoin candles
        health = client.get("/healthz").json()
        assert "mycoin" in json.dumps(health)


def test_end_works_with_a_file_source(mycoin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pred = Predictor(source="csv", end="2025-03-31", record=False, cache_ttl=0)
    assert pred.candles("mycoin").index[-1].strftime("%Y-%m-%d") == "2025-03-31"
    code, _, err = run(["train", "mycoin", "--source", "csv", "--end", "2025-07-31"], capsys)
    assert code != 0 and "after the last candle" in " ".join(err.split())


def test_path_needs_source_csv_and_one_coin(
    mycoin: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args in (
        ["forecast", "mycoin", "--path", str(mycoin)],
        ["train", "mycoin", "--path", str(mycoin)],
        ["backtest", "mycoin", "--path", str(mycoin)],
    ):
        code, _, err = run(args, capsys)
        assert code != 0 and "add --source csv" in " ".join(err.split()), (args, err)
    code, _, err = run(
        ["forecast", "a-coin", "b-coin", "--source", "csv", "--path", str(mycoin)], capsys
    )
    assert code != 0 and "one coin's file" in " ".join(err.split())
    with pytest.raises(Exception, match=r"source='csv'"):
        Predictor(source="snapshot", path=mycoin)


def test_the_dashboard_lists_only_coins_its_source_has(mycoin: Path) -> None:
    from cryptoforecast.serving.dashboard.overview import tracked_coins

    registered = {"mycoin", "bitcoin", "ripple"}
    assert tracked_coins(Predictor(source="csv"), registered) == ["mycoin"]
    assert tracked_coins(Predictor(source="snapshot"), registered) == ["bitcoin"]
    assert tracked_coins(Predictor(source="binance"), registered) == ["bitcoin", "ripple"]
    assert tracked_coins(Predictor(source="csv"), set()) == ["mycoin"]


def test_train_all_from_csv_trains_the_imported_coins(
    train_many_calls: list, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["train", "--all", "--source", "csv"], capsys)
    assert code != 0 and "none is imported" in " ".join(err.split())


def test_train_all_from_csv_after_an_import(
    mycoin: Path, train_many_calls: list, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["train", "--all", "--source", "csv", "-m", "drift"], capsys)
    assert code == 0, err
    assert train_many_calls[0][0] == ["mycoin"]


def test_a_distribution_of_an_imported_coin_reads_its_imported_4h_candles(
    mycoin: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The realised measures of an imported coin come from the 4h candles imported for it, up
    to the window's end; a file read once (path=) has none and says how to get them."""
    data = load_distribution_data("mycoin", 300, 7, source="csv", end="2025-05-31")
    assert data.intraday is not None and data.intraday_note is None
    expected = load_ohlcv("litecoin", interval="4h", end="2025-05-31")
    assert data.intraday.index[-1] == expected.index[-1]
    pd.testing.assert_series_equal(
        data.intraday["close"].iloc[-50:], expected["close"].iloc[-50:], check_freq=False
    )
    once = load_distribution_data("othercoin", 300, 7, source="csv", path=mycoin)
    assert once.intraday is None
    assert "data import othercoin FILE --interval 4h" in (once.intraday_note or "")
    # an imported coin without 4h candles trains on daily candles and says which import is missing
    write_csv(tmp_path / "daily.csv")
    assert run(["data", "import", "dailycoin", str(tmp_path / "daily.csv")], capsys)[0] == 0
    daily_only = load_distribution_data("dailycoin", 300, 7, source="csv")
    assert daily_only.intraday is None
    assert "dailycoin" in (daily_only.intraday_note or "") and "4h" in daily_only.intraday_note
