"""LightGBM, XGBoost and the technical-analysis fallback on real features (bitcoin and the other
snapshot coins): config defaults, the validation tail, importances, damaged weight files, and the
fallback's rule and robustness."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.assets import ASSETS
from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import FeatureError
from cryptoforecast.features import build_features, make_target
from cryptoforecast.models import (
    LightGBMForecaster,
    TechnicalAnalysisForecaster,
    XGBoostForecaster,
    make_forecaster,
)


@pytest.fixture(scope="module")
def btc_xy(btc_daily: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    features = build_features(btc_daily)
    complete = features.notna().all(axis=1)
    return features.loc[complete], make_target(btc_daily, 1).loc[complete]


@pytest.mark.parametrize(
    ("cls", "section"), [(LightGBMForecaster, "lightgbm"), (XGBoostForecaster, "xgboost")]
)
def test_defaults_equal_the_config(cls: type, section: str) -> None:
    configured = load_config().model_params(section)
    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if name != "self"
    }
    assert configured, section
    for key, value in configured.items():
        assert defaults[key] == value, (key, defaults[key], value)
    model = cls(horizon=7, **configured)
    assert model.get_params()["horizon"] == 7


@pytest.mark.parametrize("model_type", ["lightgbm", "xgboost"])
def test_tree_models_on_bitcoin(model_type: str, btc_xy: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = btc_xy
    known = y.notna().to_numpy()
    model = make_forecaster(model_type, horizon=1, n_estimators=200).fit(X.loc[known], y.loc[known])
    assert len(model.feature_names_) >= 60
    assert 1 <= model.best_iteration_ <= 200
    # the validation tail is the last 20 % (time-ordered), purged by the horizon
    n = int(known.sum())
    assert model.n_train_ == n - int(round(0.2 * n)) - 1
    assert model.calibrator_.n == int(round(0.2 * n))
    imp = model.feature_importance()
    assert imp is not None and imp.sum() == pytest.approx(1.0) and (imp >= 0).all()
    assert imp.index.is_unique and set(imp.index) == set(X.columns)
    pred = model.predict(X.iloc[-30:])
    assert np.isfinite(pred).all() and pred.abs().max() < 0.5


def test_lightgbm_validation_tail_drives_early_stopping(
    btc_xy: tuple[pd.DataFrame, pd.Series],
) -> None:
    """Given explicit X_val/y_val, the residuals and the stopping point come from them."""
    X, y = btc_xy
    X, y = X.iloc[:-1], y.iloc[:-1]
    fit_rows, val_rows = slice(0, 1500), slice(1501, 1800)
    model = make_forecaster("lightgbm", n_estimators=300, early_stopping_rounds=20)
    model.fit(X.iloc[fit_rows], y.iloc[fit_rows], X.iloc[val_rows], y.iloc[val_rows])
    residuals = y.iloc[val_rows].to_numpy() - model.predict(X.iloc[val_rows]).to_numpy()
    np.testing.assert_allclose(np.sort(model.calibrator_.residuals), np.sort(residuals))
    assert model.best_iteration_ < 300


_DAMAGE = """
import sys
from pathlib import Path
from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.artifacts import MANIFEST, file_sha256
from cryptoforecast.models.catalog import load_forecaster
import json
path, how = Path(sys.argv[1]), sys.argv[2]
weights = path / "model.txt"
raw = weights.read_bytes()
i = raw.index(b"split_gain=") + 15
damaged = {
    "truncated": raw[: len(raw) // 2],
    "no_footer": raw[: raw.index(b"parameters:")],
    "garbled_number": raw[:i] + b"x" + raw[i + 1 :],
    "garbled_footer": raw.replace(b"[max_depth: -1]", b"[max_depth: -1", 1),
}[how]
weights.write_bytes(damaged)
manifest = json.loads((path / MANIFEST).read_text())
# a consistent manifest: only the reader can tell
manifest["files"]["model.txt"] = file_sha256(weights)
(path / MANIFEST).write_text(json.dumps(manifest))
try:
    model = load_forecaster(path)
except ArtifactError as exc:
    print("refused:", exc)
else:
    print("loaded", model.best_iteration_)
"""


@pytest.mark.parametrize("how", ["truncated", "no_footer", "garbled_number", "garbled_footer"])
def test_damaged_lightgbm_text_never_crashes_the_process(
    how: str, btc_xy: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    """LightGBM's own parser segfaults or aborts on some damaged files; loading must refuse them
    with ArtifactError (or load a file whose damage is harmless) and never kill the process."""
    X, y = btc_xy
    model = make_forecaster("lightgbm", n_estimators=30, validation_fraction=0.0).fit(
        X.iloc[:-1], y.iloc[:-1]
    )
    path = model.save_model(tmp_path / "m")
    proc = subprocess.run(
        [sys.executable, "-c", _DAMAGE, str(path), how],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-1500:])
    if how == "garbled_footer":  # the footer is informational and never handed to LightGBM
        assert "loaded 30" in proc.stdout
    else:
        assert "refused: cannot read the weights" in proc.stdout
        assert ("truncated" in proc.stdout) == (how != "garbled_number")


def test_technical_rule_is_transparent(btc_xy: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = btc_xy
    model = TechnicalAnalysisForecaster(horizon=7).fit(X, y)
    signals = model.signals(X)
    assert ((signals >= -1) & (signals <= 1)).all().all()
    pred = model.predict(X)
    bound = model.strength * X["vol_30"] * np.sqrt(7)
    assert (pred.abs() <= bound + 1e-15).all()
    np.testing.assert_allclose(pred, model.strength * signals["score"] * X["vol_30"] * np.sqrt(7))
    # oversold and below trend gives opposite signs on the RSI and trend signals
    row = X.iloc[[-1]].copy()
    row[["rsi_14", "close_sma_50", "macd_hist_12_26_9"]] = [20.0, 0.0, 0.0]
    assert model.predict(row).iloc[0] > 0
    row[["rsi_14", "close_sma_50", "macd_hist_12_26_9"]] = [50.0, -0.3, -0.01]
    assert model.predict(row).iloc[0] < 0
    # the h-step forecast scales with sqrt(h)
    one = TechnicalAnalysisForecaster(horizon=1).fit(X, y)
    np.testing.assert_allclose(pred, one.predict(X) * np.sqrt(7))


def test_technical_needs_its_columns_and_says_which(btc_xy: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = btc_xy
    with pytest.raises(FeatureError, match=r"\['rsi_14'\].*rsi_column="):
        TechnicalAnalysisForecaster().fit(X.drop(columns=["rsi_14"]), y)
    renamed = X.rename(columns={"rsi_14": "my_rsi"})
    model = TechnicalAnalysisForecaster(rsi_column="my_rsi").fit(renamed, y)
    np.testing.assert_allclose(
        model.predict(renamed), TechnicalAnalysisForecaster().fit(X, y).predict(X)
    )


def test_technical_without_targets_uses_volatility_intervals(
    btc_xy: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, _ = btc_xy
    recent = X.iloc[-10:]
    model = TechnicalAnalysisForecaster(horizon=4).fit(recent)  # no y at all
    band = model.predict_interval(recent, 0.95)
    sigma = recent["vol_30"].iloc[-1] * 2.0
    width = (band["upper"] - band["lower"]).to_numpy()
    np.testing.assert_allclose(width, 2 * 1.96 * sigma, rtol=0.03)
    assert (
        TechnicalAnalysisForecaster()
        .fit(recent, pd.Series(np.nan, index=recent.index))
        .calibrator_.n
        > 2
    )


@pytest.mark.parametrize("interval", ["1d", "4h"])
def test_technical_never_fails_on_valid_candles(interval: str) -> None:
    """Every snapshot coin, daily and 4-hourly, full history and a short one."""
    for asset in (a for a in ASSETS if a.in_snapshot):
        candles = load_ohlcv(asset.id, interval=interval)
        for history in (candles, candles.iloc[-450:]):
            for horizon in (1, 7):
                model = TechnicalAnalysisForecaster.from_candles(history, horizon=horizon)
                features = build_features(history).dropna()
                pred = model.predict(features.iloc[[-1]])
                band = model.predict_interval(features.iloc[[-1]], 0.8)
                assert np.isfinite(pred).all() and np.isfinite(band.to_numpy()).all(), asset.id
                assert band["lower"].iloc[0] <= pred.iloc[0] <= band["upper"].iloc[0]
