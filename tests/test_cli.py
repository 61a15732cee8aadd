"""The command line: exit codes, one-line errors, the foundation commands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cryptoforecast.cli import main
from tests.cli_runner import run


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    import cryptoforecast

    code, out, _ = run(["version"], capsys)
    assert code == 0 and cryptoforecast.__version__ in out


def test_data_list_shows_all_assets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["data", "list"], capsys)
    assert code == 0
    for asset in (
        "bitcoin",
        "ethereum",
        "binancecoin",
        "solana",
        "cardano",
        "dogecoin",
        "avalanche-2",
        "litecoin",
    ):
        assert asset in out
    assert "2025-09-30" in out


def test_data_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["data", "show", "bitcoin", "--days", "3", "--end", "2024-01-31"], capsys)
    assert code == 0
    assert "2024-01-31" in out and "2024-01-29" in out and "2024-01-28" not in out


def test_config_show_prints_effective_values(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRYPTOFORECAST_LSTM__EPOCHS", "3")
    code, out, _ = run(["config", "show"], capsys)
    assert code == 0 and "epochs: 3" in out and "lightgbm:" in out


def test_failure_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["data", "show", "bitcoinn"], capsys)
    assert code == 1
    assert "unknown asset id 'bitcoinn'" in err and "Traceback" not in err


def test_a_long_error_stays_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["data", "show", "dogecoinx"], capsys)  # message well over 80 columns
    assert code == 1 and len(err.strip()) > 120
    assert err.strip().count("\n") == 0, err


def test_debug_shows_traceback() -> None:
    from cryptoforecast.exceptions import DataError

    with pytest.raises(DataError):
        main(["--debug", "data", "show", "bitcoinn"])


@pytest.mark.parametrize(
    "args", [["nosuchcommand"], ["data", "show"], ["data", "show", "btc", "--days", "x"]]
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(args, capsys)
    assert code == 2
    assert "Traceback" not in err


def test_console_script_installed() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cryptoforecast.cli", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "data" in proc.stdout


def test_backtest_served_prints_the_track_record_and_writes_the_report(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # noqa: ANN001
    for key, value in {
        "LIGHTGBM__N_ESTIMATORS": "30",
        "TRAINING__DAYS": "300",
        "TRAINING__VALIDATION_SIZE": "60",
    }.items():
        monkeypatch.setenv(f"CRYPTOFORECAST_{key}", value)
    report = tmp_path / "served.html"
    code, out, err = run(
        ["backtest", "bitcoin", "--served", "-H", "1", "--days", "8", "--retrain-frequency", "4",
         "-m", "lightgbm", "--report", str(report)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "served forecasts at 8 origins" in out and "baseline: naive" in out
    assert "served: lightgbm" in out and "fallback" in out
    assert "live guard: 0 trip(s), 0 origin(s) moved to the fallback; served MASE" in out
    html = report.read_text()
    assert "served-forecast backtest" in html and "technical fallback" in html
