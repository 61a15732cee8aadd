"""The contract every forecaster honours, checked for each entry of ``CONTRACT_MODELS``.

Like scikit-learn's estimator checks: one parametrised suite, so the backtester, ensemble,
registry and service can treat every model alike. Add a model in ``tests/models/contract.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import ArtifactError, DataError, FeatureMismatchError, NotFittedError
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models import make_forecaster
from cryptoforecast.models.base import Forecaster
from cryptoforecast.models.catalog import load_forecaster
from tests.models.contract import CONTRACT_MODELS, expected_rows, fit_on_known, synthetic_market

MODELS = sorted(CONTRACT_MODELS)
HORIZON = 3


@pytest.fixture(scope="module")
def market() -> tuple[pd.DataFrame, pd.Series]:
    return synthetic_market(n=600, horizon=HORIZON, seed=1)


class _Fitted(dict):  # type: ignore[type-arg]
    """One model of each kind fitted on the first 500 rows, on first use (shared, read-only)."""

    def __init__(self, market: tuple[pd.DataFrame, pd.Series]) -> None:
        super().__init__()
        self.market = market

    def __missing__(self, name: str) -> Forecaster:
        X, y = self.market
        model = fit_on_known(CONTRACT_MODELS[name](HORIZON), X.iloc[:500], y.iloc[:500])
        self[name] = model
        return model


@pytest.fixture(scope="module")
def fitted(market: tuple[pd.DataFrame, pd.Series]) -> dict[str, Forecaster]:
    return _Fitted(market)


def _test_rows(market: tuple[pd.DataFrame, pd.Series]) -> pd.DataFrame:
    return market[0].iloc[500:]


@pytest.mark.parametrize("name", MODELS)
def test_protocol_and_attributes(name: str, fitted: dict[str, Forecaster]) -> None:
    model = CONTRACT_MODELS[name](HORIZON)
    for method in (
        "fit",
        "predict",
        "predict_interval",
        "save_model",
        "load_model",
        "feature_importance",
    ):
        assert callable(getattr(model, method))
    assert model.model_type == name
    assert model.horizon == HORIZON
    assert not hasattr(model, "feature_names_")  # __init__ stores hyperparameters only
    done = fitted[name]
    # runtime_checkable protocols check data attributes too, so only a fitted model (which has
    # feature_names_) passes isinstance
    assert isinstance(done, Forecaster)
    assert done.feature_names_ == [
        str(c) for c in synthetic_market(n=10, horizon=HORIZON)[0].columns
    ]


@pytest.mark.parametrize("name", MODELS)
def test_fit_returns_self_and_predict_shape(
    name: str, market: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, y = market
    model = CONTRACT_MODELS[name](HORIZON)
    assert fit_on_known(model, X.iloc[:500], y.iloc[:500]) is model
    assert model.feature_names_ == list(X.columns)
    X_test = X.iloc[500:]
    pred = model.predict(X_test)
    assert isinstance(pred, pd.Series)
    assert pred.dtype == np.float64
    n = expected_rows(model, len(X_test))
    assert len(pred) == n
    assert pred.index.equals(X_test.index[len(X_test) - n :])
    assert np.isfinite(pred.to_numpy()).all()
    imp = model.feature_importance()
    if imp is not None:
        assert set(imp.index) == set(X.columns)
        assert (imp >= 0).all()
        assert imp.sum() == pytest.approx(1.0) or imp.sum() == 0


@pytest.mark.parametrize("name", MODELS)
def test_deterministic_with_seed(name: str, market: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = market
    first = fit_on_known(CONTRACT_MODELS[name](HORIZON), X.iloc[:500], y.iloc[:500])
    second = fit_on_known(CONTRACT_MODELS[name](HORIZON), X.iloc[:500], y.iloc[:500])
    X_test = X.iloc[500:]
    np.testing.assert_array_equal(
        first.predict(X_test).to_numpy(), second.predict(X_test).to_numpy()
    )
    np.testing.assert_array_equal(
        first.predict_interval(X_test, 0.8).to_numpy(),
        second.predict_interval(X_test, 0.8).to_numpy(),
    )


@pytest.mark.parametrize("name", MODELS)
def test_unfitted_use_raises_not_fitted(
    name: str, market: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    model = CONTRACT_MODELS[name](HORIZON)
    X = market[0].iloc[:50]
    with pytest.raises(NotFittedError, match="not fitted"):
        model.predict(X)
    with pytest.raises(NotFittedError):
        model.predict_interval(X, 0.8)
    with pytest.raises(NotFittedError):
        model.save_model(tmp_path / "m")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("name", MODELS)
def test_interval_ordering_and_width(
    name: str, fitted: dict[str, Forecaster], market: tuple[pd.DataFrame, pd.Series]
) -> None:
    model = fitted[name]
    X_test = _test_rows(market)
    point = model.predict(X_test)
    widths = {}
    for coverage in (0.8, 0.95):
        band = model.predict_interval(X_test, coverage)
        assert list(band.columns) == ["lower", "upper"]
        assert band.index.equals(point.index)
        assert np.isfinite(band.to_numpy()).all()
        assert (band["lower"] <= point).all() and (point <= band["upper"]).all()
        widths[coverage] = (band["upper"] - band["lower"]).to_numpy()
    assert (widths[0.95] >= widths[0.8]).all()
    assert widths[0.95].mean() > widths[0.8].mean()
    with pytest.raises(DataError, match="coverage"):
        model.predict_interval(X_test, 1.5)


_LOAD_AND_PREDICT = """
import sys
import numpy as np
import pandas as pd
from cryptoforecast.models import make_forecaster
from cryptoforecast.models.catalog import load_forecaster
path, data, out, model_type = sys.argv[1:]
X = pd.read_parquet(data)
by_manifest = load_forecaster(path)
# the original usage: Model().load_model(path)
by_class = make_forecaster(model_type).load_model(path)
point = by_manifest.predict(X)
band80 = by_manifest.predict_interval(X, 0.8)
band95 = by_class.predict_interval(X, 0.95)
np.savez(out, point=point.to_numpy(), point_by_class=by_class.predict(X).to_numpy(),
         index=point.index.asi8, horizon=by_class.horizon,
         lower80=band80["lower"].to_numpy(), upper80=band80["upper"].to_numpy(),
         lower95=band95["lower"].to_numpy(), upper95=band95["upper"].to_numpy())
"""


@pytest.mark.parametrize("name", MODELS)
def test_save_load_round_trip_in_new_process(
    name: str, fitted: dict[str, Forecaster], market: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    model = fitted[name]
    X_test = _test_rows(market)
    path = model.save_model(tmp_path / name / "h3" / "v1")
    assert (path / MANIFEST).is_file()
    manifest = json.loads((path / MANIFEST).read_text())
    assert manifest["model_type"] == name and manifest["horizon"] == HORIZON
    assert manifest["feature_names"] == model.feature_names_
    assert "pickle" not in " ".join(manifest["files"]) and not list(path.glob("*.pkl"))
    data = tmp_path / "X.parquet"
    X_test.to_parquet(data)
    out = tmp_path / "out.npz"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", _LOAD_AND_PREDICT, str(path), str(data), str(out), name],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = np.load(out, allow_pickle=False)
    point = model.predict(X_test)
    np.testing.assert_array_equal(got["point"], point.to_numpy())
    np.testing.assert_array_equal(got["point_by_class"], point.to_numpy())
    np.testing.assert_array_equal(got["index"], point.index.asi8)
    assert int(got["horizon"]) == HORIZON
    for coverage, tag in ((0.8, "80"), (0.95, "95")):
        band = model.predict_interval(X_test, coverage)
        np.testing.assert_array_equal(got["lower" + tag], band["lower"].to_numpy())
        np.testing.assert_array_equal(got["upper" + tag], band["upper"].to_numpy())


@pytest.mark.parametrize("name", MODELS)
def test_bad_inputs(
    name: str, fitted: dict[str, Forecaster], market: tuple[pd.DataFrame, pd.Series]
) -> None:
    X, y = market
    model = fitted[name]
    X_test = _test_rows(market)
    with pytest.raises(DataError, match="empty"):
        CONTRACT_MODELS[name](HORIZON).fit(X.iloc[:0], y.iloc[:0])
    with pytest.raises(DataError, match="empty"):
        model.predict(X_test.iloc[:0])
    holed = X_test.copy()
    holed.iloc[5, 2] = np.nan
    with pytest.raises(DataError, match="NaN"):
        model.predict(holed)
    with pytest.raises(FeatureMismatchError, match="missing"):
        model.predict(X_test.drop(columns=[X_test.columns[-1]]))
    with pytest.raises(FeatureMismatchError, match="unexpected"):
        model.predict(X_test.rename(columns={X_test.columns[-1]: "something_else"}))
    with pytest.raises(FeatureMismatchError):
        model.predict(X_test.assign(extra_column=1.0))
    # the same columns in another order are reordered, not refused
    shuffled = X_test[list(reversed(X_test.columns))]
    np.testing.assert_array_equal(
        model.predict(shuffled).to_numpy(), model.predict(X_test).to_numpy()
    )
    lookback = int(getattr(model, "lookback", 1) or 1)
    if lookback > 1:
        with pytest.raises(DataError):
            model.predict(X_test.iloc[: lookback - 1])


def _saved(model: Forecaster, tmp_path: Path) -> tuple[Path, dict]:
    path = model.save_model(tmp_path / "artifact")
    return path, json.loads((path / MANIFEST).read_text())


@pytest.mark.parametrize("name", MODELS)
def test_corrupted_weights_refused(
    name: str, fitted: dict[str, Forecaster], tmp_path: Path
) -> None:
    path, manifest = _saved(fitted[name], tmp_path)
    weight_files = sorted(manifest["files"])
    if not weight_files:  # the model lives in its manifest: corrupt that instead
        text = (path / MANIFEST).read_text()
        (path / MANIFEST).write_text(text[: len(text) // 2])
        with pytest.raises(ArtifactError, match="not valid JSON"):
            load_forecaster(path)
        return
    target = path / weight_files[0]
    raw = target.read_bytes()
    target.write_bytes(raw[: len(raw) // 2] + b"\x00garbage\x00")
    with pytest.raises(ArtifactError, match="sha256"):
        load_forecaster(path)
    with pytest.raises(ArtifactError, match="sha256"):
        CONTRACT_MODELS[name](HORIZON).load_model(path)
    # a consistent manifest over unreadable weights is still refused, with the reader's reason
    manifest["files"][weight_files[0]] = (
        __import__("hashlib").sha256(target.read_bytes()).hexdigest()
    )
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="cannot read the weights"):
        load_forecaster(path)


@pytest.mark.parametrize("name", MODELS)
def test_artifact_version_missing_and_type_checks(
    name: str, fitted: dict[str, Forecaster], tmp_path: Path
) -> None:
    with pytest.raises(ArtifactError, match="not found"):
        load_forecaster(tmp_path / "nowhere")
    with pytest.raises(ArtifactError, match="not found"):
        CONTRACT_MODELS[name](HORIZON).load_model(tmp_path / "nowhere")
    path, manifest = _saved(fitted[name], tmp_path)
    for weight in manifest["files"]:  # a listed weight file that disappeared
        (path / weight).unlink()
        with pytest.raises(ArtifactError, match="missing"):
            load_forecaster(path)
        break
    path, manifest = _saved(fitted[name], tmp_path)
    (path / MANIFEST).write_text(json.dumps({**manifest, "format_version": 999}))
    with pytest.raises(ArtifactError, match="format_version 999"):
        load_forecaster(path)
    path, manifest = _saved(fitted[name], tmp_path)
    other = "naive" if name != "naive" else "drift"
    with pytest.raises(ArtifactError, match=f"holds a '{name}' model"):
        make_forecaster(other).load_model(path)
    (path / MANIFEST).unlink()
    with pytest.raises(ArtifactError, match="no manifest.json"):
        load_forecaster(path)


@pytest.mark.parametrize("name", MODELS)
def test_loaded_model_refuses_other_features(
    name: str, fitted: dict[str, Forecaster], market, tmp_path: Path
) -> None:
    path, _ = _saved(fitted[name], tmp_path)
    loaded = load_forecaster(path)
    X_test = _test_rows(market)
    with pytest.raises(FeatureMismatchError, match="manifest"):
        loaded.predict(X_test.drop(columns=["noise"]))


@pytest.mark.parametrize("name", MODELS)
def test_no_lookahead_at_predict(name: str, fitted: dict[str, Forecaster], market) -> None:
    """Predictions for rows <= t do not depend on whether (or what) rows after t exist."""
    model = fitted[name]
    X_test = _test_rows(market)
    full = model.predict(X_test)
    cut = 40
    truncated = model.predict(X_test.iloc[:cut])
    pd.testing.assert_series_equal(full.loc[truncated.index], truncated)
    future_changed = X_test.copy()
    future_changed.iloc[cut:] = future_changed.iloc[cut:].to_numpy()[::-1] * 3.0
    changed = model.predict(future_changed)
    pd.testing.assert_series_equal(changed.loc[truncated.index], truncated)
    for coverage in (0.8, 0.95):
        pd.testing.assert_frame_equal(
            model.predict_interval(future_changed, coverage).loc[truncated.index],
            model.predict_interval(X_test.iloc[:cut], coverage),
        )


@pytest.mark.parametrize("name", MODELS)
def test_validation_tail_is_purged_by_the_horizon(name: str, market) -> None:
    """Models that hold out a time-ordered tail (early stopping, conformal residuals) must drop
    the ``horizon`` rows before it: their labels are returns that end inside the tail. Whatever
    those labels say, the fitted model is the same."""
    model = CONTRACT_MODELS[name](HORIZON)
    if not hasattr(model, "validation_fraction"):
        pytest.skip(f"{name} holds out no validation tail")
    X, y = market
    known = y.notna().to_numpy()
    X, y = X.loc[known].iloc[:500], y.loc[known].iloc[:500]
    n_val = int(round(len(X) * float(model.validation_fraction)))
    cut = len(X) - n_val
    y_other = y.copy()
    y_other.iloc[cut - HORIZON : cut] = 0.25  # labels that overlap the first tail origins
    a = CONTRACT_MODELS[name](HORIZON).fit(X, y)
    b = CONTRACT_MODELS[name](HORIZON).fit(X, y_other)
    X_test = market[0].iloc[520:]
    np.testing.assert_array_equal(a.predict(X_test).to_numpy(), b.predict(X_test).to_numpy())
    np.testing.assert_array_equal(
        a.predict_interval(X_test, 0.95).to_numpy(), b.predict_interval(X_test, 0.95).to_numpy()
    )
    # and the row just before the purged ones does count: the test can see a difference
    y_third = y.copy()
    y_third.iloc[: cut - HORIZON] = y_third.iloc[: cut - HORIZON] + 0.05
    c = CONTRACT_MODELS[name](HORIZON).fit(X, y_third)
    assert not np.array_equal(a.predict(X_test).to_numpy(), c.predict(X_test).to_numpy())
