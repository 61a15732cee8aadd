"""``serve --source csv --path [ID=]FILE`` imports each file as ``data import`` does before the
server starts, so the service (and its dashboard) knows the coin; a bad file or a missing
``--source csv`` stores nothing and starts nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cryptoforecast.catalogue import read_catalogue
from cryptoforecast.data import load_ohlcv
from tests.cli_runner import run
from tests.data.test_user_coins import stored_files, write_candles


def test_each_file_is_imported_under_its_id_before_the_server_starts(
    serve_started: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write_candles(tmp_path / "a.csv", "litecoin", days=300)
    second = write_candles(tmp_path / "othercoin.csv", "dogecoin", days=200)
    args = ["serve", "--source", "csv", "--path", f"mycoin={first}", "--path", str(second)]
    code, _, err = run(args, capsys)
    assert code == 0, err
    assert len(serve_started) == 1
    assert set(read_catalogue().coins) == {"mycoin", "othercoin"}
    for coin, snapshot_coin, rows in (("mycoin", "litecoin", 300), ("othercoin", "dogecoin", 200)):
        served = load_ohlcv(coin, source="csv")
        expected = load_ohlcv(snapshot_coin).iloc[-rows:]
        pd.testing.assert_series_equal(served["close"], expected["close"], check_freq=False)
    text = " ".join(err.split())
    assert "imported mycoin: 300 daily candles from a.csv" in text
    assert "imported othercoin: 200 daily candles from othercoin.csv" in text
    assert str(tmp_path) not in err  # file names, not where they are


def test_path_needs_the_csv_source_and_stores_nothing_without_it(
    serve_started: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write_candles(tmp_path / "mycoin.csv", days=100)
    code, _, err = run(["serve", "--path", str(csv)], capsys)
    assert code == 2
    assert "--source csv" in " ".join(err.split())
    assert serve_started == [] and read_catalogue().coins == {}


def test_one_bad_file_imports_none_and_the_server_does_not_start(
    serve_started: list[dict[str, Any]],
    cf_home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = write_candles(tmp_path / "good.csv", days=100)
    assert run(["data", "import", "keep", str(good)], capsys)[0] == 0
    before = stored_files(cf_home)
    bad = tmp_path / "bad.csv"
    frame = pd.read_csv(good)
    frame.loc[10, "high"] = frame.loc[10, "low"] / 2  # a high below its low
    frame.to_csv(bad, index=False)
    args = ["serve", "--source", "csv", "--path", f"fresh={good}", "--path", f"broken={bad}"]
    code, _, err = run(args, capsys)
    assert code == 2
    assert "high" in err and "bad.csv" in err  # the validator's words, naming the file
    assert serve_started == []
    assert stored_files(cf_home) == before
    assert set(read_catalogue().coins) == {"keep"}


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("missing.csv", "is not a file"),
        ("bitcoin={good}", "built-in asset"),
        ("Not An Id={good}", "not a valid id"),
        ("same={good}|same={good}", "two files for one coin id"),
    ],
)
def test_bad_path_specs_are_named_with_the_fix(
    serve_started: list[dict[str, Any]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    spec: str,
    words: str,
) -> None:
    good = write_candles(tmp_path / "good.csv", days=100)
    args = ["serve", "--source", "csv"]
    for part in spec.format(good=good).split("|"):
        args += ["--path", part]
    code, _, err = run(args, capsys)
    assert code == 2
    assert words in " ".join(err.split())
    assert serve_started == [] and read_catalogue().coins == {}
