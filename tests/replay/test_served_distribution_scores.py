"""The served replay scores the distribution each forecast carried (exact CRPS, PIT, 80/95%
hits) beside garch_ref, ewma_t and the 30-day Gaussian on the same origins, the baselines from
the replay's candles up to each origin only, and the CLI table and the report show them side by
side.

A ``Forecast`` carries its distribution in ``Forecast.distribution``; where the schema of this
release does not have the field yet, :func:`with_distribution` adds it in a subclass, so these
tests build the same forecast either way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cryptoforecast.backtest.distribution_walk import walk_distribution
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.evaluation.report import render_report
from cryptoforecast.models.distribution import BASELINES, MarketData
from cryptoforecast.replay import served as served_module
from cryptoforecast.replay.served import (
    ReplayPredictor,
    backtest_served,
    baseline_columns,
    replay_period,
    report_runs,
    served_table,
)
from cryptoforecast.serving.schemas import DistributionShape, Forecast, ForecastDistribution

H = 7
SCALE = 0.05


def with_distribution(forecast: Forecast, dist: ForecastDistribution) -> Forecast:
    """``forecast`` carrying ``dist`` as its served distribution."""
    return forecast.model_copy(update={"distribution": dist})


def served_normal(forecast: Forecast) -> ForecastDistribution:
    return ForecastDistribution(
        source="test",
        location=forecast.predicted_return,
        scale=SCALE,
        shape=DistributionShape(kind="normal"),
    )


class CarryingPredictor(ReplayPredictor):
    """The replay's predictor, each forecast carrying a normal distribution at its point."""

    def predict(self, *args: Any, **kwargs: Any) -> Forecast:  # type: ignore[override]
        forecast = super().predict(*args, **kwargs)
        return with_distribution(forecast, served_normal(forecast))


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retraining promotes nothing: the technical fallback serves every origin (fast)."""
    monkeypatch.setattr(served_module, "train_candidates", lambda *a, **k: [])


def test_each_replayed_row_scores_the_distribution_its_forecast_carried(
    tmp_path: Any, no_training: None
) -> None:
    from cryptoforecast.registry import ModelRegistry

    candles = load_ohlcv("bitcoin")
    origins = list(candles.index[-H - 5 : -H])
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")
    rows, _ = replay_period(
        candles, "bitcoin", H, origins[0], origins, ("lightgbm",), load_config(), reg,
        CarryingPredictor(candles, reg),
    )  # fmt: skip
    close = candles["close"]
    for row in rows:
        i = close.index.get_loc(row["origin"])
        y = math.log(close.iloc[i + H] / close.iloc[i])
        mu = math.log(row["y_pred"] / row["close_at_origin"])
        z = (y - mu) / SCALE
        by_hand = SCALE * (
            z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi)
        )
        assert row["crps"] == pytest.approx(by_hand, rel=1e-9)
        assert row["pit"] == pytest.approx(stats.norm.cdf(z), rel=1e-9)
        for tag, cov in (("80", 0.8), ("95", 0.95)):
            half = SCALE * stats.norm.ppf((1 + cov) / 2)
            assert row[f"hit_{tag}"] == float(mu - half <= y <= mu + half)
        assert row["q_0.5"] == pytest.approx(mu, abs=1e-12)
        assert row["price_q_0.9"] == pytest.approx(
            row["close_at_origin"] * math.exp(mu + SCALE * stats.norm.ppf(0.9)), rel=1e-12
        )
    reg.close()


def test_a_forecast_without_a_distribution_leaves_the_row_unscored_and_counted(
    tmp_path: Any, no_training: None
) -> None:
    from cryptoforecast.registry import ModelRegistry

    candles = load_ohlcv("bitcoin")
    origins = list(candles.index[-H - 2 : -H])
    reg = ModelRegistry(f"sqlite:///{tmp_path / 'r.db'}", tmp_path / "art")

    class Bare(ReplayPredictor):
        def predict(self, *args: Any, **kwargs: Any) -> Forecast:  # type: ignore[override]
            forecast = super().predict(*args, **kwargs)
            return Forecast(**forecast.model_dump(exclude={"distribution"}))

    rows, _ = replay_period(
        candles, "bitcoin", H, origins[0], origins, ("lightgbm",), load_config(), reg,
        Bare(candles, reg),
    )  # fmt: skip
    assert all("crps" not in row for row in rows)
    summary = served_module.served_distribution_summary(pd.DataFrame(rows), H)
    assert summary["n"] == 0 and summary["n_without_distribution"] == 2
    assert summary["reason"] == "no served forecast carried a distribution"
    reg.close()


@pytest.fixture(scope="module")
def replay() -> Any:
    """40 origins of bitcoin h=7 served by the fallback, each with a distribution."""
    mp = pytest.MonkeyPatch()
    mp.setattr(served_module, "train_candidates", lambda *a, **k: [])
    mp.setattr(served_module, "ReplayPredictor", CarryingPredictor)
    try:
        yield backtest_served(
            "bitcoin", H, days=40, candidates=("lightgbm",), retrain_every=40,
            config=load_config(),
        )  # fmt: skip
    finally:
        mp.undo()


def test_the_summary_puts_the_served_distribution_beside_every_baseline_on_the_same_origins(
    replay: Any,
) -> None:
    res = replay.results
    block = replay.metrics["distribution"]
    assert block["n"] == 40 and block["n_without_distribution"] == 0
    assert block["crps"] == pytest.approx(res["crps"].mean(), rel=1e-12)
    assert block["coverage"]["80"] == pytest.approx(res["hit_80"].mean())
    assert block["pit_mean"] == pytest.approx(res["pit"].mean())
    for base in BASELINES:
        b = block["baselines"][base]
        assert b["n"] == 40
        assert b["crps"] == pytest.approx(res[f"crps_{base}"].mean(), rel=1e-12)
        assert b["coverage"]["80"] == pytest.approx(res[f"hit_80_{base}"].mean())
        assert b["coverage"]["95"] == pytest.approx(res[f"hit_95_{base}"].mean())
        assert b["pit_mean"] == pytest.approx(res[f"pit_{base}"].mean())
        assert len(b["pit_histogram"]) == 10
        skill = block["skill"][base]
        assert skill["crps_skill_pct"] == pytest.approx(
            100 * (1 - res["crps"].mean() / res[f"crps_{base}"].mean()), rel=1e-9
        )
        assert 0 <= skill["dm_pvalue"] <= 1
    flat = served_table(replay)
    assert flat["served_crps"] == block["crps"]
    assert flat["garch_ref_crps"] == block["baselines"]["garch_ref"]["crps"]
    assert (
        flat["rolling_gaussian_coverage_80"]
        == block["baselines"]["rolling_gaussian"]["coverage"]["80"]
    )


def test_the_baselines_are_the_one_walk_forward_engine_on_the_replayed_candles(
    replay: Any,
) -> None:
    candles = load_ohlcv("bitcoin")
    res = replay.results
    origins = pd.DatetimeIndex(res["origin"])
    close = candles["close"]
    y = np.log(close.shift(-H) / close)
    for base in ("garch_ref", "rolling_gaussian"):
        walk = walk_distribution(
            MarketData(candles), origins, y, base, H, retrain_frequency=30,
            calibration="none", wait_for_history=True,
        )  # fmt: skip
        np.testing.assert_allclose(res[f"crps_{base}"].to_numpy(), walk.crps.to_numpy())
        np.testing.assert_allclose(res[f"{base}_q_0.1"].to_numpy(), walk.quantiles[0.1].to_numpy())


def test_the_baselines_read_no_candle_after_the_origin() -> None:
    candles = load_ohlcv("bitcoin").iloc[-700:]
    origins = list(candles.index[-H - 60 : -H])
    before = baseline_columns(candles, origins, H)
    k = 30  # change every candle after origins[k]
    cut = origins[k]
    changed = candles.copy()
    after = changed.index > cut
    rng = np.random.default_rng(7)
    factor = np.exp(np.cumsum(rng.normal(0, 0.08, after.sum())))
    for col in ("open", "high", "low", "close"):
        changed.loc[after, col] = changed.loc[after, col] * factor
    changed.loc[after, "volume"] = changed.loc[after, "volume"] * 3
    moved = baseline_columns(changed, origins, H)
    quantile_cols = [c for c in before.columns if "_q_" in c or c.startswith("p_up_")]
    assert before.loc[:cut, quantile_cols].notna().all().all()
    pd.testing.assert_frame_equal(before.loc[:cut, quantile_cols], moved.loc[:cut, quantile_cols])
    # a score also reads the realised return: unchanged wherever the target is at or before cut
    scored = origins[: k - H + 1]
    score_cols = [c for c in before.columns if c.startswith(("crps_", "pit_", "hit_"))]
    pd.testing.assert_frame_equal(before.loc[scored, score_cols], moved.loc[scored, score_cols])
    # and the change is seen after the cut (the test can fail)
    assert not np.allclose(
        before.loc[origins[-1], quantile_cols], moved.loc[origins[-1], quantile_cols]
    )


def test_the_cli_table_and_the_report_show_the_baselines_beside_the_served_figures(
    replay: Any,
) -> None:
    from rich.console import Console

    from cryptoforecast.cli.backtest import served_distribution_table

    block = replay.metrics["distribution"]
    con = Console(width=160, record=True)
    con.print(served_distribution_table(block, "served"))
    text = con.export_text()
    crps_line = next(s for s in text.splitlines() if "│ CRPS" in s)
    assert f"{block['crps']:.5f}" in crps_line
    for base in BASELINES:
        assert f"baseline: {base}" in text
        assert f"{block['baselines'][base]['crps']:.5f}" in crps_line
    cov_line = next(s for s in text.splitlines() if "80% coverage" in s)
    assert f"{block['coverage']['80']:.1%}" in cov_line
    assert f"{block['baselines']['garch_ref']['coverage']['80']:.1%}" in cov_line
    pit_line = next(s for s in text.splitlines() if "PIT mean" in s)
    assert f"{block['baselines']['rolling_gaussian']['pit_mean']:.3f}" in pit_line

    page = render_report(report_runs(replay), title="served")
    table = page.split("class='beside-baselines'", 1)[1].split("</table>", 1)[0]
    for name, b in (
        ("served", block),
        *((f"baseline: {k}", v) for k, v in block["baselines"].items()),
    ):
        cells = table.split(f"<td>{name}</td>", 1)[1].split("</tr>", 1)[0]
        assert f"<td>{b['crps']:.5f}</td>" in cells
        assert f"<td>{b['coverage']['80']:.1%}</td>" in cells
        assert f"<td>{b['pit_mean']:.3f}</td>" in cells
