"""The report reads in order (verdict per model and horizon, the forecast picture, the evidence,
the tables) and prints a sub-dollar coin's prices with their digits."""

from __future__ import annotations

import re

import pytest

from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.backtest_run import BacktestRun
from cryptoforecast.evaluation.formatting import format_price
from cryptoforecast.evaluation.report import SECTIONS, render_report


@pytest.fixture(scope="module")
def doge_runs() -> list[BacktestRun]:
    candles = load_ohlcv("dogecoin", end="2025-06-30")
    assert candles["close"].iloc[-1] < 1.0  # a sub-dollar coin
    runs = []
    for h in (1, 3):
        for name in ("drift", "naive"):
            bt = ForecastBacktester(
                initial_train_size=300, retrain_frequency=30, horizon=h, test_origins=60
            )
            bt.run_walk_forward_validation(candles, trainer_for(name, h))
            runs.append(BacktestRun.from_backtester(f"{name} h={h}", bt))
    return runs


def test_format_price_keeps_significant_digits() -> None:
    assert format_price(68421.3) == "68,421"
    assert format_price(12.3456) == "12.35"
    assert format_price(0.21434) == "0.2143"
    assert format_price(0.00045123) == "0.0004512"
    assert (format_price(None), format_price(float("nan")), format_price(0.0)) == ("-", "-", "0")


def test_sections_in_reading_order_with_one_verdict_per_model_and_horizon(
    doge_runs: list[BacktestRun],
) -> None:
    text = render_report(doge_runs, title="dogecoin")
    h2 = re.findall(r"<h2>([^<]+)</h2>", text)
    assert h2 == list(SECTIONS) == ["Verdict", "Forecasts", "Evidence", "Tables"]
    verdict_block = text[text.index("<h2>Verdict</h2>") : text.index("<h2>Forecasts</h2>")]
    verdicts = re.findall(r"<li class='verdict'>([^<]+)</li>", verdict_block)
    assert [v.split(":")[0].split(" does")[0].split(" edges")[0] for v in verdicts[:4]] == [
        "drift h=1",
        "drift h=3",
        "naive h=1",
        "naive h=3",
    ]
    assert verdicts[2] == "naive h=1: the baseline every model here is measured against."
    assert "naive does NOT beat naive" not in text
    order = [text.index(s) for s in ("id='plot-price'", "id='plot-errors'", "<h3>Metrics</h3>")]
    assert order == sorted(order) and text.index("<h2>Evidence</h2>") < order[1]
    assert text.index("<h2>Tables</h2>") < order[2] < text.index("<h3>Per-fold results</h3>")
    assert "horizons: 1, 3" in text and "horizon: 1<" not in text


def test_sub_dollar_prices_keep_their_digits(doge_runs: list[BacktestRun]) -> None:
    text = render_report(doge_runs, title="dogecoin")
    headers = re.findall(r"<th>([^<]+)</th>", text[text.index("<h3>Metrics</h3>") :])
    assert headers[:7] == [
        "Metric",
        "drift h=1",
        "naive h=1 (same origins)",
        "buy and hold h=1",
        "drift h=3",
        "naive h=3 (same origins)",
        "buy and hold h=3",
    ]  # the naive runs are the baseline columns, not a second copy of them
    row = re.search(r"<tr><td>MAE \(price\)</td>((?:<td>[^<]*</td>)+)</tr>", text)
    assert row is not None
    cells = re.findall(r"<td>([^<]*)</td>", row.group(1))
    drift_mae = doge_runs[0].metrics["model"]["mae"]
    assert drift_mae < 0.1 and cells[0] == format_price(drift_mae)
    assert len(cells[0].lstrip("0.")) >= 4, f"{cells[0]} lost its significant digits"
