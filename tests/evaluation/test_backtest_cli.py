"""``cryptoforecast backtest``: several models in one run and one offline report; clear errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cryptoforecast.cli import main


def test_backtest_two_models_writes_one_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "reports" / "bitcoin-naive-drift-h3.html"
    code = main(
        [
            "backtest",
            "bitcoin",
            "--model",
            "naive",
            "--model",
            "drift",
            "--horizon",
            "3",
            "--days",
            "60",
            "--retrain-frequency",
            "20",
            "--report",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "baseline: naive" in out and "Honesty scorecard: drift" in out
    assert "naive does NOT beat naive" not in out  # naive is the bar, never judged by itself
    assert "naive: the bar every model is measured against" in " ".join(out.split())
    assert re.search(r"60 origins", out)
    text = report.read_text(encoding="utf-8")
    assert "<h3>naive</h3>" in text and "<h3>drift</h3>" in text
    assert not re.search(r"https?://", text)
    for key in ("price", "errors", "rolling_mase", "strategy", "calibration"):
        assert f"id='plot-{key}'" in text


def test_backtest_unknown_model_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "bitcoin", "--model", "prophet"])
    err = capsys.readouterr().err
    assert code == 1 and "unknown model_type 'prophet'" in err


def test_backtest_too_few_rows_says_how_to_fix(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "bitcoin", "--model", "naive", "--initial-train-size", "100000"])
    err = capsys.readouterr().err
    assert code == 1 and "too few to backtest" in err and "lower --initial-train-size" in err


@pytest.mark.slow
def test_backtest_distribution_prints_skill_and_reports_fan_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "dist.html"
    args = ["backtest", "bitcoin", "--model", "naive", "--horizon", "7", "--days", "120"]
    code = main([*args, "--distribution", "ewma_t", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Distribution ewma_t" in out and "CRPS skill vs garch_ref" in out
    text = report.read_text(encoding="utf-8")
    assert "Predictive distribution: naive (ewma_t)" in text
    assert "id='plot-fan-naive'" in text and "id='plot-pit-naive'" in text
    assert "<td>rolling_gaussian</td>" in text and not re.search(r"https?://", text)


def test_backtest_unknown_distribution_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backtest", "bitcoin", "--model", "naive", "--distribution", "normal"])
    err = capsys.readouterr().err
    assert code != 0 and "--distribution must be one of" in err
