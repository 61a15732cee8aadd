"""The model core's own helpers: tail split purge, parameter checks, context rows, manifest, and
which residuals the conformal intervals are built from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models import make_forecaster
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.checks import check_fraction, check_whole, context_rows, time_tail_split


def test_tail_split_purges_horizon_rows_between_fit_and_tail() -> None:
    idx = pd.date_range("2024-01-01", periods=100, tz="UTC")
    X = pd.DataFrame({"a": np.arange(100.0)}, index=idx)
    y = pd.Series(np.arange(100.0), index=idx)
    X_fit, y_fit, X_val, y_val = time_tail_split(X, y, fraction=0.2, gap=7)
    assert X_val is not None and y_val is not None
    assert len(X_val) == 20 and X_val.index[0] == idx[80]
    # the last fitting row's 7-step target window ends before the first validation origin
    assert X_fit.index[-1] == idx[80 - 7 - 1]
    assert len(X_fit) == 73
    # too few rows for a tail: no split
    assert time_tail_split(X.iloc[:12], y.iloc[:12], 0.2, gap=1)[2] is None


class _Params:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "7", None])
def test_check_whole_rejects(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"_Params epochs must be a whole number >= 1, got"):
        check_whole(_Params(epochs=bad), "epochs")


@pytest.mark.parametrize("bad", [1, 1.5, -0.1, "x", None])
def test_check_fraction_rejects(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"validation_fraction must be in \[0, 1\)"):
        check_fraction(_Params(validation_fraction=bad), "validation_fraction")


def test_checks_accept_valid_values() -> None:
    assert check_whole(_Params(n=np.int64(3)), "n") == 3
    assert check_fraction(_Params(f=0), "f") == 0.0


def test_context_rows() -> None:
    assert context_rows(make_forecaster("naive")) == 0
    assert context_rows(make_forecaster("lstm", lookback=30)) == 29
    ens = make_forecaster(
        "ensemble", base_models=["drift", "lstm"], base_params={"lstm": {"lookback": 12}}
    )
    assert context_rows(ens) == 11


def test_manifest_records_feature_set_and_training_window(
    btc_daily: pd.DataFrame, tmp_path: Path
) -> None:
    from cryptoforecast.features import build_features, make_target

    candles = btc_daily.iloc[-700:]
    X = build_features(candles)
    y = make_target(candles, 3)
    keep = X.notna().all(axis=1) & y.notna()
    model = make_forecaster("drift", horizon=3).fit(X.loc[keep], y.loc[keep])
    manifest = json.loads((model.save_model(tmp_path / "m") / "manifest.json").read_text())
    assert manifest["feature_set"] == X.attrs["feature_set"] == "ohlcv_trades"
    assert manifest["horizon"] == 3
    assert manifest["training"]["end"] == str(X.index[keep.to_numpy()][-1])
    assert manifest["training"]["n_rows"] == int(keep.sum())


class _Constant(BaseForecaster):
    """Predicts 0.1; ``measured`` residuals, if given, are handed over by ``_fit``."""

    measured: np.ndarray | None = None

    def _fit(
        self, X: pd.DataFrame, y: pd.Series, X_val: pd.DataFrame | None, y_val: pd.Series | None
    ) -> None:
        self._residuals = self.measured

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        return pd.Series(0.1, index=X.index, dtype="float64")


def test_intervals_use_the_residuals_fit_measured_first() -> None:
    index = pd.date_range("2024-01-01", periods=40, freq="D", tz="UTC")
    X = pd.DataFrame({"x": np.arange(40.0)}, index=index)
    y = pd.Series(np.linspace(-1.0, 1.0, 40), index=index)
    measured = np.array([-0.3, -0.1, 0.2, 0.4, 0.5])
    model = _Constant()
    model.measured = measured
    # measured residuals win over the validation tail's
    model.fit(X.iloc[:30], y.iloc[:30], X.iloc[30:], y.iloc[30:])
    np.testing.assert_allclose(np.sort(model.calibrator_.residuals), measured)
    # none measured: the tail's residuals, then (no tail, nothing learned) the in-sample ones
    model.measured = None
    model.fit(X.iloc[:30], y.iloc[:30], X.iloc[30:], y.iloc[30:])
    np.testing.assert_allclose(np.sort(model.calibrator_.residuals), y.iloc[30:] - 0.1)
    model.fit(X, y)
    np.testing.assert_allclose(np.sort(model.calibrator_.residuals), y - 0.1)
