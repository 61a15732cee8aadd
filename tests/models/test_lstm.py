"""LSTMForecaster: leak-free scaler and tail, windows, determinism, artifacts.

The shared contract (``test_contract.py``) covers shapes, NotFittedError, bad inputs and the
round trip in a new process; these tests cover what is particular to the LSTM. Networks are tiny
and run on one thread so each test takes well under a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import ArtifactError, ConfigError, DataError
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models import lstm_model
from cryptoforecast.models.catalog import load_forecaster
from cryptoforecast.models.checks import time_tail_split
from cryptoforecast.models.lstm_model import LSTMForecaster
from cryptoforecast.models.lstm_network import default_threads, machine_threads, make_windows
from tests.models.contract import fit_on_known, synthetic_market

torch = pytest.importorskip("torch")

H = 2
FAST = {"lookback": 8, "hidden_size": 8, "epochs": 4, "batch_size": 32, "num_threads": 1}


def fast_lstm(**overrides: object) -> LSTMForecaster:
    return LSTMForecaster(horizon=H, **{**FAST, **overrides})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def market() -> tuple[pd.DataFrame, pd.Series]:
    return synthetic_market(n=420, horizon=H, seed=3)


@pytest.fixture(scope="module")
def fitted(market: tuple[pd.DataFrame, pd.Series]) -> LSTMForecaster:
    X, y = market
    return fit_on_known(fast_lstm(), X.iloc[:350], y.iloc[:350])  # type: ignore[return-value]


def test_defaults_match_config() -> None:
    from cryptoforecast.config import load_config

    configured = load_config().model_params("lstm")
    params = LSTMForecaster().get_params()
    for key, value in configured.items():
        assert params[key] == value, key


def test_scaler_sees_only_the_fitting_rows(
    market: tuple[pd.DataFrame, pd.Series], monkeypatch
) -> None:
    """Spy: the scaler is fitted on the rows before the purged validation tail, never on the tail
    or anything after the training window."""
    X, y = market
    seen: list[pd.Index] = []
    real_fit = lstm_model.FeatureScaler.fit

    def spy(self: lstm_model.FeatureScaler, frame: pd.DataFrame) -> lstm_model.FeatureScaler:
        seen.append(frame.index)
        return real_fit(self, frame)

    monkeypatch.setattr(lstm_model.FeatureScaler, "fit", spy)
    X_train, y_train = X.iloc[:300], y.iloc[:300]
    model = fast_lstm(validation_fraction=0.25).fit(X_train, y_train)
    assert len(seen) == 1
    X_fit, _, X_val, _ = time_tail_split(X_train, y_train, 0.25, gap=H)
    assert X_val is not None
    assert seen[0].equals(X_fit.index)
    assert seen[0].max() < X_val.index.min()
    assert seen[0].max() <= X.index[299 - 75 - H]  # purged: H rows between fitting part and tail
    assert model.n_train_ == len(X_fit)
    np.testing.assert_allclose(model.scaler_.mean_, X_fit.to_numpy().mean(axis=0))

    # with an explicit validation frame, the scaler sees only X
    seen.clear()
    fast_lstm().fit(X.iloc[:250], y.iloc[:250], X.iloc[260:300], y.iloc[260:300])
    assert seen[0].equals(X.index[:250])


def test_validation_residuals_cover_every_tail_origin(
    market: tuple[pd.DataFrame, pd.Series],
) -> None:
    """The conformal residuals are out of sample, one per validation origin, and equal
    ``y - predict`` there (validation windows read their context from earlier feature rows)."""
    X, y = market
    X_train, y_train = X.iloc[:300], y.iloc[:300]
    model = fast_lstm(validation_fraction=0.2).fit(X_train, y_train)
    _, _, X_val, y_val = time_tail_split(X_train, y_train, 0.2, gap=H)
    assert X_val is not None and y_val is not None
    assert model.calibrator_.n == len(X_val)
    start = X_train.index.get_loc(X_val.index[0]) - (model.lookback - 1)
    pred = model.predict(X_train.iloc[start:])
    assert pred.index.equals(X_val.index)
    np.testing.assert_allclose(
        model.calibrator_.residuals, (y_val - pred).to_numpy(), rtol=1e-6, atol=1e-9
    )


def test_predict_returns_rows_with_a_full_window(fitted: LSTMForecaster, market) -> None:
    X = market[0].iloc[350:]
    pred = fitted.predict(X)
    assert pred.index.equals(X.index[fitted.lookback - 1 :])
    # each forecast depends only on its own window
    tail = fitted.predict(X.iloc[-fitted.lookback :])
    assert len(tail) == 1
    # float32 kernels may sum in another order for another batch size: a few ulps apart (a
    # forecast that read another row would differ by far more)
    assert tail.iloc[0] == pytest.approx(pred.iloc[-1], rel=1e-5, abs=1e-9)


def test_fewer_rows_than_lookback(fitted: LSTMForecaster, market) -> None:
    X, y = market
    with pytest.raises(DataError, match=r"lookback=8 rows to predict, got 7"):
        fitted.predict(X.iloc[:7])
    assert len(fitted.predict(X.iloc[:8])) == 1
    with pytest.raises(DataError, match="lookback=8 rows to fit on, got 5"):
        fast_lstm().fit(X.iloc[:5], y.iloc[:5])


def test_bad_hyperparameters_are_refused(market) -> None:
    X, y = market
    with pytest.raises(ConfigError, match="lookback"):
        fast_lstm(lookback=0).fit(X.iloc[:200], y.iloc[:200])
    with pytest.raises(ConfigError, match="dropout"):
        fast_lstm(dropout=1.5).fit(X.iloc[:200], y.iloc[:200])


def test_deterministic_and_seed_sensitive(market) -> None:
    X, y = market
    X_tr, y_tr, X_te = X.iloc[:300], y.iloc[:300], X.iloc[300:]
    a = fast_lstm().fit(X_tr, y_tr)
    b = fast_lstm().fit(X_tr, y_tr)
    c = fast_lstm(random_state=7).fit(X_tr, y_tr)
    for key, value in a.network_.state_dict().items():
        assert torch.equal(value, b.network_.state_dict()[key]), key
    np.testing.assert_array_equal(a.predict(X_te).to_numpy(), b.predict(X_te).to_numpy())
    assert a.history_ == b.history_
    assert not np.array_equal(a.predict(X_te).to_numpy(), c.predict(X_te).to_numpy())


def test_callers_torch_settings_are_restored(market) -> None:
    X, y = market
    before_threads = torch.get_num_threads()
    before_det = torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    model = fast_lstm(num_threads=1).fit(X.iloc[:200], y.iloc[:200])
    model.predict(X.iloc[200:240])
    assert torch.equal(torch.rand(3), expected)  # the global RNG stream was not consumed
    assert torch.get_num_threads() == before_threads
    assert torch.are_deterministic_algorithms_enabled() == before_det


def test_early_stopping_on_the_tail(market) -> None:
    X, y = market
    model = fast_lstm(epochs=60, patience=2, learning_rate=0.02).fit(X.iloc[:300], y.iloc[:300])
    assert all("val_loss" in h for h in model.history_)
    assert 1 <= model.best_epoch_ <= len(model.history_)
    best = min(h["val_loss"] for h in model.history_)
    assert model.history_[model.best_epoch_ - 1]["val_loss"] == best
    # it stops `patience` epochs after the best one (or at the epoch limit)
    assert len(model.history_) == min(60, model.best_epoch_ + 2)


def test_learns_a_signal_in_the_window() -> None:
    """A target that is a lagged feature (visible inside the window) is learned far better
    than 0."""
    rng = np.random.default_rng(0)
    n = 600
    idx = pd.date_range("2021-01-01", periods=n, freq="D", tz="UTC")
    a = rng.standard_normal(n)
    X = pd.DataFrame({"a": a, "b": rng.standard_normal(n)}, index=idx)
    y = pd.Series(0.02 * np.roll(a, 3), index=idx)  # the value of `a` three rows back
    model = LSTMForecaster(
        lookback=6, hidden_size=16, epochs=60, patience=10, learning_rate=0.01, num_threads=1
    ).fit(X.iloc[10:500], y.iloc[10:500])
    pred = model.predict(X.iloc[500:])
    truth = y.loc[pred.index]
    assert np.mean((truth - pred) ** 2) < 0.25 * np.mean(truth**2)


def test_round_trip_and_manifest(fitted: LSTMForecaster, market, tmp_path: Path) -> None:
    X = market[0].iloc[350:]
    path = fitted.save_model(tmp_path / "lstm" / "v1")
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["model_type"] == "lstm"
    assert manifest["extra"]["lookback"] == fitted.lookback
    np.testing.assert_allclose(manifest["extra"]["scaler"]["mean"], fitted.scaler_.mean_)
    np.testing.assert_allclose(manifest["extra"]["scaler"]["scale"], fitted.scaler_.scale_)
    assert set(manifest["files"]) == {"state_dict.pt"}
    state = torch.load(path / "state_dict.pt", weights_only=True)  # a plain state_dict
    assert set(state) == set(fitted.network_.state_dict())
    for loaded in (load_forecaster(path), LSTMForecaster().load_model(path)):
        assert isinstance(loaded, LSTMForecaster)
        assert loaded.lookback == fitted.lookback and loaded.hidden_size == fitted.hidden_size
        np.testing.assert_array_equal(loaded.predict(X).to_numpy(), fitted.predict(X).to_numpy())
        pd.testing.assert_frame_equal(
            loaded.predict_interval(X, 0.9), fitted.predict_interval(X, 0.9)
        )


def test_inconsistent_scaler_in_manifest_is_refused(fitted: LSTMForecaster, tmp_path: Path) -> None:
    path = fitted.save_model(tmp_path / "m")
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["extra"]["scaler"]["mean"] = manifest["extra"]["scaler"]["mean"][:-1]
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="scaler"):
        load_forecaster(path)


def test_make_windows_layout() -> None:
    values = np.arange(12, dtype="float32").reshape(6, 2)
    windows = make_windows(values, 3)
    assert windows.shape == (4, 3, 2)
    np.testing.assert_array_equal(windows[0], values[0:3])
    np.testing.assert_array_equal(windows[-1], values[3:6])


def test_default_threads_sized_to_machine_and_network() -> None:
    assert default_threads(32, cores=2) == 1
    assert default_threads(512, cores=2) == 2
    assert default_threads(4096, cores=2) == 2
    assert default_threads(4096, cores=8) == 8
    assert 1 <= default_threads(32) <= machine_threads()
