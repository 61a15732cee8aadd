"""EnsembleForecaster: leak-free stacking, purged inner folds, alignment with the LSTM, artifacts.

The shared contract (``test_contract.py``) covers shapes, determinism, bad inputs and the round
trip in a new process; these tests cover stacking itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import ArtifactError, ConfigError, DataError
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models.base import BaseForecaster
from cryptoforecast.models.baselines import DriftForecaster
from cryptoforecast.models.catalog import load_forecaster
from cryptoforecast.models.ensemble import EnsembleForecaster
from cryptoforecast.models.stacking import inner_folds, nonneg_ridge
from tests.models.contract import synthetic_market

H = 2
FAST_LGBM = {"n_estimators": 40, "learning_rate": 0.1, "early_stopping_rounds": 5}
TINY_LSTM = {"lookback": 6, "hidden_size": 6, "epochs": 2, "num_threads": 1}


class MemorisingForecaster(BaseForecaster):
    """Perfect in sample (a lookup table from index to target), garbage out of sample."""

    model_type: ClassVar[str] = "memoriser"

    def __init__(self, horizon: int = 1, random_state: int = 42) -> None:
        super().__init__(horizon=horizon, random_state=random_state)

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        self.table_ = y.copy()
        self.scale_ = float(y.std())

    def _predict(self, X: pd.DataFrame) -> pd.Series:
        days = X.index.asi8 // 86_400_000_000
        garbage = ((days * 2_654_435_761) % 1000) / 1000.0 - 0.5  # fixed pseudo-noise per row
        out = pd.Series(2.0 * self.scale_ * garbage, index=X.index, dtype="float64")
        known = X.index.intersection(self.table_.index)
        out.loc[known] = self.table_.loc[known]
        return out


class SpyDrift(DriftForecaster):
    """Drift that records the last training row of every fit."""

    model_type: ClassVar[str] = "spy"
    train_ends: ClassVar[list[pd.Timestamp]] = []

    def _fit(self, X: pd.DataFrame, y: pd.Series, X_val: Any, y_val: Any) -> None:
        SpyDrift.train_ends.append(X.index[-1])
        super()._fit(X, y, X_val, y_val)


@pytest.fixture(scope="module")
def market() -> tuple[pd.DataFrame, pd.Series]:
    X, y = synthetic_market(n=620, horizon=H, seed=5)
    known = y.notna().to_numpy()
    return X.loc[known], y.loc[known]


def _ensemble(bases: list[Any], **kwargs: Any) -> EnsembleForecaster:
    params = {"lightgbm": FAST_LGBM, "lstm": TINY_LSTM}
    return EnsembleForecaster(
        base_models=bases, horizon=H, inner_folds=3, base_params=params, **kwargs
    )


def test_inner_folds_are_expanding_and_purged() -> None:
    folds = inner_folds(100, 4, gap=3)
    assert len(folds) == 4
    starts = [start for _, start, _ in folds]
    assert starts == [20, 40, 60, 80]
    assert folds[-1][2] == 100  # the last block runs to the end
    for (train_stop, start, stop), nxt in zip(folds, [*starts[1:], 100], strict=True):
        assert train_stop == start - 3  # purge gap = horizon
        assert stop == nxt  # contiguous blocks
    assert [f[0] for f in folds] == sorted(f[0] for f in folds)  # expanding


def test_every_inner_fit_ends_a_horizon_before_its_block(market) -> None:
    X, y = market
    SpyDrift.train_ends.clear()
    model = _ensemble(["drift", SpyDrift(horizon=H)]).fit(X.iloc[:400], y.iloc[:400])
    ends = SpyDrift.train_ends
    assert len(ends) == 3 + 1  # three inner folds, then the refit on every row
    for (train_stop, start, _), end in zip(inner_folds(400, 3, H), ends[:3], strict=True):
        assert end == X.index[train_stop - 1] == X.index[start - H - 1]
    assert ends[-1] == X.index[399]
    # OOF forecasts exist exactly on the inner folds' blocks
    first_block = inner_folds(400, 3, H)[0][1]
    assert model.oof_summary_["n_oof_rows"] == 400 - first_block
    assert model.oof_summary_["oof_start"] == str(X.index[first_block])


def test_memorising_base_gets_no_weight_and_does_no_harm(market) -> None:
    """The leakage test: a base that is perfect in sample and useless out of sample, beside a
    base with real out-of-sample skill (the target depends on a feature LightGBM can learn)."""
    X0, _ = market
    rng = np.random.default_rng(11)
    X = X0.assign(signal=rng.standard_normal(len(X0)))
    y = pd.Series(0.02 * X["signal"].to_numpy() + 0.02 * rng.standard_normal(len(X)), index=X.index)
    memo = MemorisingForecaster(horizon=H).fit(X.iloc[:300], y.iloc[:300])
    np.testing.assert_array_equal(memo.predict(X.iloc[:300]).to_numpy(), y.iloc[:300].to_numpy())
    # a stacker fitted on in-sample forecasts would trust it completely ...
    in_sample = pd.DataFrame(
        {
            "drift": DriftForecaster(horizon=H)
            .fit(X.iloc[:300], y.iloc[:300])
            .predict(X.iloc[:300]),
            "memoriser": memo.predict(X.iloc[:300]),
        }
    )
    w_leaky, _ = nonneg_ridge(in_sample.to_numpy(), y.iloc[:300].to_numpy())
    assert w_leaky[1] > 0.9

    # ... the ensemble, fitted on out-of-fold forecasts only, gives it (near) nothing
    def with_memo() -> EnsembleForecaster:
        return _ensemble(["lightgbm", "drift", MemorisingForecaster(horizon=H)])

    def without() -> EnsembleForecaster:
        return _ensemble(["lightgbm", "drift"])

    fitted = with_memo().fit(X.iloc[:450], y.iloc[:450])
    weights = fitted.weights_()
    # noise gets a chance-level weight (|corr| ~ 1/sqrt(n_oof) ~ 0.05 here), not the ~1 above
    assert weights["memoriser"] <= 0.1
    assert weights["lightgbm"] >= 0.5  # the skilled base is trusted
    assert weights["memoriser"] <= 0.1 * weights["lightgbm"]
    assert fitted.explain()["weights"]["memoriser"] == weights["memoriser"]

    # walk-forward: refit every 40 rows over the last 160 rows; no worse than without it
    errors: dict[str, list[float]] = {"with": [], "without": []}
    for stop in range(len(X) - 160, len(X), 40):
        train_stop = stop - H  # the last training target ends at the first test origin
        for key, factory in (("with", with_memo), ("without", without)):
            model = factory().fit(X.iloc[:train_stop], y.iloc[:train_stop])
            pred = model.predict(X.iloc[stop : stop + 40])
            errors[key].extend(np.abs(y.loc[pred.index] - pred).tolist())
    assert len(errors["with"]) == len(errors["without"]) == 160
    assert np.mean(errors["with"]) <= np.mean(errors["without"]) * 1.01


def test_meta_learners(market) -> None:
    X, y = market
    X_tr, y_tr, X_te = X.iloc[:450], y.iloc[:450], X.iloc[450:]
    mean = _ensemble(["lightgbm", "drift"], meta="mean").fit(X_tr, y_tr)
    assert mean.weights_().tolist() == [0.5, 0.5]
    parts = pd.DataFrame({n: mean.bases_[n].predict(X_te) for n in ("lightgbm", "drift")})
    np.testing.assert_allclose(mean.predict(X_te), parts.mean(axis=1))

    ridge = _ensemble(["lightgbm", "drift"], meta="ridge").fit(X_tr, y_tr)
    assert (ridge.weights_() >= 0).all()
    np.testing.assert_allclose(
        ridge.predict(X_te), parts.to_numpy() @ ridge.weights_().to_numpy() + ridge.intercept_
    )

    lgbm = _ensemble(["lightgbm", "drift"], meta="lgbm").fit(X_tr, y_tr)
    assert lgbm.regime_columns_ == ["vol_30"]  # recent volatility from X
    w = lgbm.weights_()
    assert (w >= 0).all() and w.sum() <= 1.0 + 1e-9
    assert np.isfinite(lgbm.predict(X_te)).all()

    info = ridge.explain()
    json.dumps(info)  # JSON-friendly, for the registry
    oof = info["out_of_fold"]
    assert {"base_mae", "naive_mae", "ensemble_mae_held_out", "naive_mae_held_out"} <= set(oof)
    assert (
        oof["n_held_out_rows"] < oof["n_oof_rows"]
    )  # the first inner block has no earlier meta fit
    assert ridge.calibrator_.n == oof["n_held_out_rows"]


def test_lstm_base_is_aligned_on_the_common_index(market) -> None:
    X, y = market
    model = _ensemble(["lstm", "drift"]).fit(X.iloc[:400], y.iloc[:400])
    assert model.lookback == TINY_LSTM["lookback"]
    # the LSTM read its context from earlier rows: every row of the inner blocks has an OOF forecast
    assert model.oof_summary_["n_oof_rows"] == 400 - inner_folds(400, 3, H)[0][1]
    X_te = X.iloc[400:460]
    pred = model.predict(X_te)
    assert pred.index.equals(X_te.index[TINY_LSTM["lookback"] - 1 :])
    band = model.predict_interval(X_te, 0.8)
    assert band.index.equals(pred.index)
    with pytest.raises(DataError):
        model.predict(X_te.iloc[:3])


def test_round_trip_with_lstm_and_lgbm_meta(market, tmp_path: Path) -> None:
    X, y = market
    model = _ensemble(["lstm", "lightgbm"], meta="lgbm").fit(X.iloc[:400], y.iloc[:400])
    path = model.save_model(tmp_path / "ensemble" / "v1")
    manifest = json.loads((path / MANIFEST).read_text())
    assert [p["name"] for p in manifest["extra"]["parts"]] == ["lstm", "lightgbm"]
    for part in manifest["extra"]["parts"]:
        assert (path / part["path"] / MANIFEST).is_file()
    assert {
        "meta.json",
        "meta_lgbm.txt",
        "bases/0_lstm/state_dict.pt",
        "bases/1_lightgbm/model.txt",
    } <= set(manifest["files"])
    assert not [f for f in path.rglob("*") if f.suffix in {".pkl", ".pickle", ".joblib"}]
    assert manifest["params"]["base_models"] == ["lstm", "lightgbm"]
    X_te = X.iloc[400:]
    for loaded in (load_forecaster(path), EnsembleForecaster().load_model(path)):
        assert isinstance(loaded, EnsembleForecaster)
        np.testing.assert_array_equal(
            loaded.predict(X_te).to_numpy(), model.predict(X_te).to_numpy()
        )
        pd.testing.assert_frame_equal(
            loaded.predict_interval(X_te, 0.95), model.predict_interval(X_te, 0.95)
        )
        pd.testing.assert_series_equal(loaded.weights_(), model.weights_())


def test_corrupt_part_is_refused_with_its_name(market, tmp_path: Path) -> None:
    X, y = market
    model = _ensemble(["lightgbm", "drift"]).fit(X.iloc[:400], y.iloc[:400])
    path = model.save_model(tmp_path / "e")
    (path / "bases" / "0_lightgbm" / "model.txt").write_text("not a model")
    with pytest.raises(ArtifactError, match="sha256"):
        load_forecaster(path)


def test_bad_configuration(market) -> None:
    X, y = market
    with pytest.raises(ConfigError, match="meta"):
        _ensemble(["drift"], meta="stack").fit(X.iloc[:300], y.iloc[:300])
    with pytest.raises(ConfigError, match="distinct"):
        _ensemble(["drift", "drift"]).fit(X.iloc[:300], y.iloc[:300])
    with pytest.raises(ConfigError, match="inner_folds"):
        EnsembleForecaster(base_models=["drift"], inner_folds=1).fit(X.iloc[:300], y.iloc[:300])
    with pytest.raises(DataError, match="needs at least"):
        _ensemble(["drift"]).fit(X.iloc[:60], y.iloc[:60])
    assert EnsembleForecaster().get_params()["base_models"] is None  # defaults resolve at fit
    assert EnsembleForecaster().lookback == 30  # the default LSTM base's lookback


def test_defaults_match_config() -> None:
    from cryptoforecast.config import load_config

    configured = load_config().model_params("ensemble")
    model = EnsembleForecaster()
    assert model.meta == configured["meta"]
    assert model.inner_folds == configured["inner_folds"]
    assert [name for name, _ in model._specs()] == configured["base_models"]


def test_damaged_meta_learner_text_is_refused(market, tmp_path: Path) -> None:
    """A LightGBM meta model damaged behind a consistent manifest is refused, not parsed (the
    C parser would crash the process)."""
    import hashlib

    X, y = market
    model = _ensemble(["lightgbm", "drift"], meta="lgbm").fit(X.iloc[:400], y.iloc[:400])
    path = model.save_model(tmp_path / "e")
    target = path / "meta_lgbm.txt"
    target.write_bytes(target.read_bytes()[:200])
    manifest = json.loads((path / MANIFEST).read_text())
    manifest["files"]["meta_lgbm.txt"] = hashlib.sha256(target.read_bytes()).hexdigest()
    (path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="cannot read the weights"):
        load_forecaster(path)
