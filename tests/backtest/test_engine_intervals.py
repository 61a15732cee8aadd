"""Backtest intervals: ACI sees only errors known at each origin (spy + plain loop), its coverage
on bitcoin, NaN bands (not an abort) for a model with too few residuals, and ``--intervals``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.backtest import adaptive_intervals
from cryptoforecast.backtest import engine as backtester
from cryptoforecast.backtest.engine import ForecastBacktester, trainer_for
from cryptoforecast.cli import main
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.features import build_features, make_target
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.intervals import ConformalCalibrator
from tests.ridge import TailRidgeForecaster


def _candles(n: int = 400, seed: int = 1, jump: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    scale = np.where((np.arange(n) < n // 2) | (not jump), 0.01, 0.04)  # alpha has to move
    close = 100 * np.exp(np.cumsum(rng.normal(0.0005, 1.0, n) * scale))
    index = pd.date_range("2021-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame({"close": close, "volume": rng.uniform(1, 2, n)}, index=index)


def _features(candles: pd.DataFrame) -> pd.DataFrame:
    """Causal features: lagged log returns (NaN warm-up rows first)."""
    r = np.log(candles["close"]).diff()
    return pd.DataFrame(
        {"ret_1": r, "ret_2": r.shift(1), "ret_mean_5": r.rolling(5).mean()}, index=candles.index
    )


def _ridge(horizon: int):  # noqa: ANN202
    def trainer(X: pd.DataFrame, y: pd.Series) -> BaseForecaster:
        return TailRidgeForecaster(horizon=horizon).fit(X, y)

    return trainer


def _run(candles: pd.DataFrame, horizon: int, method: str = "aci", **kw: Any) -> pd.DataFrame:
    params: dict[str, Any] = {
        "initial_train_size": 60,
        "test_size": 25,
        "step_size": 25,
        "retrain_frequency": 25,
        "horizon": horizon,
        "interval_method": method,
        "aci_gamma": 0.05,
    }
    params.update(kw)
    bt = ForecastBacktester(**params)
    return bt.run_walk_forward_validation(candles, _ridge(horizon), features=_features(candles))


BANDS = ["y_pred", "lower_80", "upper_80", "lower_95", "upper_95"]


def _perturbed_after(candles: pd.DataFrame, cut: int, seed: int = 7) -> pd.DataFrame:
    """Candles whose closes after row ``cut`` jump 50% and follow another path (rows ``<= cut``
    unchanged), so most errors realised after ``cut`` fall outside their bands."""
    rng = np.random.default_rng(seed)
    out = candles.copy()
    shock = 1.5 * np.exp(np.cumsum(rng.normal(0.0, 0.05, len(out) - cut - 1)))
    out.iloc[cut + 1 :, out.columns.get_loc("close")] *= shock
    return out


@pytest.mark.parametrize("horizon", [1, 3])
def test_spy_no_error_realised_after_an_origin_moves_its_interval(horizon: int) -> None:
    candles = _candles()
    base = _run(candles, horizon).set_index("origin")
    assert (base["interval_method"] == "aci").all()
    for cut in (150, 211, 263, 330):  # mid-block and refit origins alike
        t = candles.index[cut]
        other = _run(_perturbed_after(candles, cut), horizon).set_index("origin")
        before = base.index <= t
        pd.testing.assert_frame_equal(base.loc[before, BANDS], other.loc[before, BANDS])
        # the check can fail: once the changed targets are realised, the bands do move
        later = base.index > candles.index[cut + horizon]
        assert not np.allclose(base.loc[later, "lower_80"], other.loc[later, "lower_80"])


def test_spy_catches_an_interval_that_reads_one_row_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same check against a deliberately leaky ACI (an error taken in one row early) fails."""

    class Leaky(adaptive_intervals.AdaptiveIntervals):
        def __init__(self, coverages: Any, gamma: float, target: Any, horizon: int) -> None:
            super().__init__(coverages, gamma, target, horizon - 1)

    monkeypatch.setattr(backtester, "AdaptiveIntervals", Leaky)
    candles = _candles(jump=False)  # alpha stays inside (0, 1): one error more moves a band
    changed = 0
    base = _run(candles, 3).set_index("origin")
    cuts = range(120, 380, 20)
    for cut in cuts:
        other = _run(_perturbed_after(candles, cut), 3).set_index("origin")
        before = base.index <= candles.index[cut]
        changed += int(
            not np.allclose(base.loc[before, "lower_80"], other.loc[before, "lower_80"])
            or not np.allclose(base.loc[before, "upper_95"], other.loc[before, "upper_95"])
        )
    print(f"leak seen at {changed} of {len(cuts)} cuts")
    assert changed >= len(cuts) // 3


def _plain_aci_loop(candles: pd.DataFrame, horizon: int, initial: int, freq: int, gamma: float):  # noqa: ANN202
    """The obvious per-origin loop: refit every ``freq`` origins; before each origin's band, move
    alpha with the errors of the bands issued at origins ``k <= t - h``, oldest first."""
    feats = _features(candles)
    keep = feats.notna().all(axis=1)
    X, y = feats[keep], make_target(candles, horizon)[keep].to_numpy()
    close = candles["close"][keep].to_numpy()
    first = initial - 1 + horizon
    alpha = {0.8: 0.2, 0.95: 0.05}
    issued: dict[int, tuple[float, dict[float, tuple[float, float]]]] = {}
    used = 0
    rows = []
    model = None
    for t in range(first, len(X) - horizon):
        if (t - first) % freq == 0:
            model = _ridge(horizon)(
                X.iloc[: t - horizon + 1],
                pd.Series(y[: t - horizon + 1], index=X.index[: t - horizon + 1]),
            )
        while first + used + horizon <= t:
            k = first + used
            for c, (lo, hi) in issued[k][1].items():
                alpha[c] += gamma * ((1 - c) - float(not lo <= y[k] <= hi))
            used += 1
        pred = float(model.predict(X.iloc[: t + 1]).iloc[-1])
        bands = {}
        for c in (0.8, 0.95):
            cal = ConformalCalibrator(residuals=model.calibrator_.residuals, method="aci")
            cal.alpha_adjust[c] = alpha[c]
            q_lo, q_hi = cal.offsets(c)
            bands[c] = (pred + q_lo, pred + q_hi)
        issued[t] = (pred, bands)
        rows.append(
            {
                "origin": X.index[t],
                "lower_80": close[t] * math.exp(bands[0.8][0]),
                "upper_80": close[t] * math.exp(bands[0.8][1]),
                "lower_95": close[t] * math.exp(bands[0.95][0]),
                "upper_95": close[t] * math.exp(bands[0.95][1]),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("horizon", [1, 4])
def test_aci_equals_a_plain_per_origin_loop(horizon: int) -> None:
    candles = _candles(300)
    res = _run(candles, horizon, initial_train_size=60, retrain_frequency=25)
    ref = _plain_aci_loop(candles, horizon, 60, 25, 0.05)
    assert len(res) == len(ref) > 150
    assert res["origin"].tolist() == ref["origin"].tolist()
    for col in ("lower_80", "upper_80", "lower_95", "upper_95"):
        np.testing.assert_allclose(res[col], ref[col], rtol=1e-12, err_msg=col)
    # and the adaptation is real: the bands are not the static ones
    static = _run(candles, horizon, method="split")
    assert (static["interval_method"] == "split").all()
    np.testing.assert_allclose(static["y_pred"], res["y_pred"], rtol=1e-12)
    assert not np.allclose(static["lower_80"], res["lower_80"])


def test_interval_method_is_validated_and_recorded() -> None:
    with pytest.raises(ConfigError, match="interval_method must be 'split' or 'aci'"):
        _run(_candles(200), 1, method="adaptive")
    with pytest.raises(ConfigError, match="aci_gamma"):
        _run(_candles(200), 1, aci_gamma=0.0)
    bt = ForecastBacktester(initial_train_size=60, horizon=1, interval_method="aci", aci_gamma=0.02)
    assert "interval_method='aci'" in repr(bt)
    candles = _candles(200)
    bt.run_walk_forward_validation(candles, _ridge(1), features=_features(candles))
    agg = bt.calculate_aggregate_metrics()
    assert agg["interval_method"] == "aci" and agg["aci_gamma"] == 0.02
    assert agg["n_without_intervals"] == 0


@pytest.mark.parametrize("method", ["split", "aci"])
def test_too_few_residuals_gives_nan_bands_and_a_warning(method: str) -> None:
    """A first fit on 4 rows has no validation tail and too few rows for held-out residuals:
    its origins get NaN bands with a warning and a note in refits_; the walk goes on."""
    candles = _candles(200)
    bt = ForecastBacktester(
        initial_train_size=4,
        test_size=20,
        step_size=20,
        retrain_frequency=20,
        interval_method=method,  # type: ignore[arg-type]
    )
    with pytest.warns(RuntimeWarning, match=r"fewer than (the )?2"):
        res = bt.run_walk_forward_validation(candles, _ridge(1), features=_features(candles))
    first = res["refit_origin"] == res["refit_origin"].iloc[0]
    assert first.sum() == 20
    assert res.loc[first, ["lower_80", "upper_95"]].isna().all().all()
    assert (
        np.isfinite(res.loc[~first, ["lower_80", "upper_80", "lower_95", "upper_95"]]).all().all()
    )
    assert bt.refits_["interval_error"].notna().tolist() == [True] + [False] * (bt.n_refits_ - 1)
    agg = bt.calculate_aggregate_metrics()
    assert agg["n_without_intervals"] == 20
    assert 0.0 < agg["model"]["coverage_80"] < 1.0


def test_lightgbm_tiny_window_does_not_abort() -> None:
    pytest.importorskip("lightgbm")
    candles = _candles(160, seed=3)
    bt = ForecastBacktester(
        initial_train_size=4,
        test_size=30,
        step_size=30,
        retrain_frequency=30,
        interval_coverage=(0.8,),
    )
    trainer = trainer_for("lightgbm", 1, n_estimators=10, min_child_samples=2)
    with pytest.warns(RuntimeWarning, match="fewer than 2"):
        res = bt.run_walk_forward_validation(candles, trainer, features=_features(candles))
    assert res["lower_80"].isna().sum() == 30 and res["lower_80"].notna().sum() > 0


def _bitcoin_coverage(btc: pd.DataFrame, model: str, horizon: int, days: int, **params: Any):  # noqa: ANN202
    features = build_features(btc)
    out = {}
    for method in ("split", "aci"):
        bt = ForecastBacktester(
            initial_train_size=730,
            retrain_frequency=30,
            horizon=horizon,
            test_origins=days,
            interval_method=method,  # type: ignore[arg-type]
        )
        bt.run_walk_forward_validation(
            btc, trainer_for(model, horizon, **params), features=features
        )
        agg = bt.calculate_aggregate_metrics()
        assert agg["n_forecasts"] == days and agg["n_without_intervals"] == 0
        out[method] = {c: agg["model"][f"coverage_{round(c * 100)}"] for c in (0.8, 0.95)}
    return out


@pytest.mark.parametrize("horizon", [1, 7])
def test_aci_coverage_on_bitcoin_drift(btc_daily: pd.DataFrame, horizon: int) -> None:
    """Drift's in-sample residuals span 2018 onward: its static bands over-cover the last two
    years (seen: h=1 87.3%/98.4%, h=7 91.6%/99.3%); ACI comes within 5 points and closer."""
    cov = _bitcoin_coverage(btc_daily, "drift", horizon, 730)
    for c in (0.8, 0.95):
        assert abs(cov["aci"][c] - c) <= 0.05, cov
        assert abs(cov["aci"][c] - c) < abs(cov["split"][c] - c), cov


@pytest.mark.slow
@pytest.mark.parametrize("horizon", [1, 7])
def test_aci_coverage_on_bitcoin_lightgbm(btc_daily: pd.DataFrame, horizon: int) -> None:
    """LightGBM (100 trees), last 365 origins: static bands over-cover (seen: h=1 85.5%/97.3%,
    h=7 89.3%/97.3%); ACI comes within 5 points and closer. Over 730 origins static is already
    within 3 points and ACI is not always closer (see benchmarks/README.md)."""
    cov = _bitcoin_coverage(
        btc_daily, "lightgbm", horizon, 365, n_estimators=100, learning_rate=0.05
    )
    for c in (0.8, 0.95):
        assert abs(cov["aci"][c] - c) <= 0.05, cov
        assert abs(cov["aci"][c] - c) < abs(cov["split"][c] - c), cov


def test_cli_backtest_intervals_aci(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "r.html"
    code = main(
        [
            "backtest",
            "bitcoin",
            "-m",
            "drift",
            "--days",
            "60",
            "--intervals",
            "aci",
            "-r",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "aci intervals" in out and "80% coverage" in out
    assert "aci" in report.read_text(encoding="utf-8")
    code = main(["backtest", "bitcoin", "-m", "drift", "--intervals", "bogus"])
    assert code == 2
