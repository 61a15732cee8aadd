"""The CLI speaks the user's language: -h is help and -H the horizon, --json for scripts, no
silent clipping of --end or --days, flags (not Python parameters) in errors, what --all covers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.cli import main


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return " ".join((captured.err + captured.out).split())


def test_h_is_help_and_capital_h_the_horizon(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "bitcoin", "-h"]) == 0
    assert "--horizon" in capsys.readouterr().out
    assert main(["backtest", "bitcoin", "-m", "naive", "-H", "7", "--days", "5", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["horizon"] == 7 and result["runs"][0]["metrics"]["n_forecasts"] == 5
    assert result["runs"][0]["metrics"]["model"]["mase"] == pytest.approx(1.0)


def test_horizon_beyond_14_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "bitcoin", "--horizon", "30"]) == 2
    assert "'--horizon' / '-H'" in _err(capsys)
    assert main(["train", "bitcoin", "-H", "15"]) == 2
    assert "'--horizon' / '-H'" in _err(capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["backtest", "bitcoin", "-m", "naive", "--end", "2025-12-01"],
        ["data", "show", "bitcoin", "--end", "2025-12-01"],
        ["train", "bitcoin", "--end", "2025-12-01", "--no-save"],
    ],
    ids=["backtest", "data show", "train"],
)
def test_end_after_the_last_candle_is_an_error_not_a_clip(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    err = _err(capsys)
    assert "--end 2025-12-01 is after the last candle of --source snapshot (2025-09-30)" in err


def test_days_beyond_the_available_origins_is_stated(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["backtest", "bitcoin", "-m", "naive", "--initial-train-size", "2000", "--days", "5000"]
    assert main(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: --days 5000 asks for more origins than the data have" in out
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    n = result["runs"][0]["metrics"]["n_forecasts"]
    assert 0 < n < 5000 and f"backtested the {n} available" in result["notes"][0]


def test_errors_name_the_flags_not_python_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "bitcoin", "-m", "naive", "--initial-train-size", "100000"]) == 1
    err = _err(capsys)
    assert "lower --initial-train-size" in err and "initial_train_size" not in err
    assert main(["data", "show", "bitcoin", "--source", "csv"]) == 1
    err = _err(capsys)
    assert "only from a CSV file: give it as --path" in err and "path=" not in err


def test_data_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "list", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    rows = {r["id"]: r for r in result["snapshot"]}
    assert rows["bitcoin"]["last"].startswith("2025-09-30") and rows["bitcoin"]["rows"] > 2000
    assert "ripple" in result["live_only"]


def test_train_all_covers_every_asset_and_the_configured_horizons(
    train_many_calls: list[tuple[Any, ...]], capsys: pytest.CaptureFixture[str]
) -> None:
    calls = train_many_calls
    assert main(["train", "--all"]) == 0
    ids, models, horizons = calls[0]
    assert len(ids) == 8 and "bitcoin" in ids and models == ["lightgbm", "distribution"]
    assert horizons == [1, 3, 7, 14]
    assert main(["train", "--all", "-m", "xgboost", "-H", "7"]) == 0
    assert calls[1][1:] == (["xgboost", "distribution"], [7])
    assert main(["train", "-h"]) == 0
    help_text = " ".join(capsys.readouterr().out.replace("│", " ").split())
    assert (
        "Every embedded asset (with --source csv: every imported coin) x every horizon" in help_text
    )


def test_feature_module_found_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mymodule.py").write_text(
        "def my_features(ohlcv):\n    return ohlcv[['close']].pct_change()\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    argv = ["check-leakage", "--features", "mymodule:my_features", "--asset", "bitcoin"]
    assert main([*argv, "--cuts", "2"]) == 0
    assert "No look-ahead found" in capsys.readouterr().out
