"""Top-k feature selection as a forecaster step, and the depth of the training's call path."""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import DataError
from cryptoforecast.training import fit as fit_module
from cryptoforecast.training.fit import TopKFeatures, fit_forecaster, new_forecaster
from cryptoforecast.training.pipeline import train_model


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(3)
    n = 400
    idx = pd.date_range("2022-01-01", periods=n, freq="D", tz="UTC")
    X = pd.DataFrame(rng.normal(size=(n, 5)), index=idx, columns=list("abcde"))
    # only "c" and "e" carry signal
    y = pd.Series(0.02 * X["c"] - 0.01 * X["e"] + rng.normal(0, 0.005, n), index=idx)
    return X, y


def test_the_step_keeps_the_k_best_features_ranked_on_its_own_rows(
    data: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = data
    model = fit_forecaster("lightgbm", 1, X, y, {"n_estimators": 30}, top_k=2)
    assert isinstance(model, TopKFeatures)
    assert model.feature_names_ == ["c", "e"]  # in X's column order
    assert list(model.ranking_.index[:2]) == ["c", "e"]
    # the inner model is fitted on the kept columns only, and is what is saved and served
    assert model.model.feature_names_ == ["c", "e"]
    pd.testing.assert_series_equal(
        model.predict(X.iloc[-5:]), model.model.predict(X.iloc[-5:][["c", "e"]])
    )


def test_the_step_answers_probabilities_and_intervals_through_its_inner_model(
    data: tuple[pd.DataFrame, pd.Series],
) -> None:
    X, y = data
    model = fit_forecaster("lightgbm", 1, X, y, {"n_estimators": 20}, top_k=2)
    inner = model.model  # type: ignore[attr-defined]
    rows = X.iloc[-10:]
    kept = rows[inner.feature_names_]
    pd.testing.assert_series_equal(model.p_up(rows), inner.p_up(kept))
    pd.testing.assert_series_equal(model.p_move(rows, 0.03), inner.p_move(kept, 0.03))
    pd.testing.assert_frame_equal(
        model.predict_interval(rows, level=[80, 95]), inner.predict_interval(kept, level=[80, 95])
    )


def test_the_step_ranks_with_nothing_but_the_rows_it_is_fitted_on(
    data: tuple[pd.DataFrame, pd.Series], monkeypatch: pytest.MonkeyPatch
) -> None:
    X, y = data
    seen: list[pd.Timestamp] = []
    real = fit_module.rank_features

    def spy(model_type: str, horizon: int, X: pd.DataFrame, y: pd.Series, **kw: Any) -> pd.Series:
        seen.append(X.index[-1])
        return real(model_type, horizon, X, y, **kw)

    monkeypatch.setattr(fit_module, "rank_features", spy)
    new_forecaster("lightgbm", 1, {"n_estimators": 10}, top_k=2).fit(X.iloc[:200], y.iloc[:200])
    assert seen == [X.index[199]]


def test_the_step_names_the_missing_selected_features(data: tuple[pd.DataFrame, pd.Series]) -> None:
    X, y = data
    model = fit_forecaster("lightgbm", 1, X, y, {"n_estimators": 10}, top_k=2)
    with pytest.raises(DataError, match=r"lacks 1 of the 2 selected features \(\['e'\]\)"):
        model.predict(X[["a", "b", "c"]])


def test_without_top_k_the_model_is_the_plain_forecaster() -> None:
    model = new_forecaster("lightgbm", 1, {"n_estimators": 10})
    assert type(model).__name__ == "LightGBMForecaster"


def _package_frames() -> list[str]:
    return [
        f"{f.filename.rsplit('cryptoforecast/', 1)[-1]}:{f.name}"
        for f in traceback.extract_stack()[:-2]
        if "/cryptoforecast/" in f.filename
    ]


def test_the_training_path_to_the_booster_is_short(monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's aim: from ``train_model`` (the synchronous core ``train_model_for_crypto``
    awaits) to ``lightgbm.train``, at most 5 frames of the package for the final fit and 7 for a
    validation fit, the model's own three frames included."""
    import lightgbm

    stacks: list[list[str]] = []
    real = lightgbm.train

    def spy(*args: Any, **kwargs: Any) -> Any:
        stacks.append(_package_frames())
        return real(*args, **kwargs)

    monkeypatch.setattr(lightgbm, "train", spy)
    train_model(
        "bitcoin",
        "lightgbm",
        days=200,
        save_model=False,
        config={"training": {"validation_size": 60}, "lightgbm": {"n_estimators": 5}},
    )
    *validation, final = stacks
    assert len(validation) == 2  # 60 origins, a refit every 30
    assert final[0] == "training/pipeline.py:train_model" and len(final) <= 5, final
    for stack in validation:
        assert stack[0] == "training/pipeline.py:train_model" and len(stack) <= 7, stack
        assert "backtest/engine.py:run_walk_forward_validation" in stack
