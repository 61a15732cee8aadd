"""Anchored validation walks a week apart share their fits, with exactly the result of refitting.

The served replay retrains every week and validates over the last ``validation_size`` origins
on a refit grid anchored at its first retraining. Every fold of an anchored walk is fitted on the
same number of rows, so the second retraining finds the first one's fits at the grid origins
they share; a reused fit must give what a fresh fit on that retraining's own rows gives.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from cryptoforecast.config import load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.training.pipeline import fit_and_validate
from cryptoforecast.training.window import prepare_training_data

SETTINGS = load_config(
    overrides={
        "lightgbm": {"n_estimators": 30, "early_stopping_rounds": 10},
        "training": {"days": 300, "validation_size": 60, "validation_retrain_every": 30},
    }
)


def _validate(date: pd.Timestamp, anchor: pd.Timestamp, cache: dict[Any, Any] | None) -> Any:
    candles = load_ohlcv("bitcoin")
    data = prepare_training_data(candles.loc[:date], 300, 7)
    return fit_and_validate(data, "bitcoin", "lightgbm", SETTINGS, fit_cache=cache, anchor=anchor)


def test_a_week_later_the_retraining_reuses_the_shared_fits_with_the_same_results() -> None:
    candles = load_ohlcv("bitcoin")
    first = candles.index[-200]
    later = [candles.index[-200 + 7 * k] for k in (1, 2, 3)]
    cache: dict[Any, Any] = {}
    _validate(first, first, cache)
    fits_first = len(cache)
    assert fits_first >= 3
    for date in later:
        before = len(cache)
        shared = _validate(date, first, cache)
        # at most one fold is new a week later (the grid steps 30 origins); before the fix
        # the rows per fit moved with the anchor's offset and every fold was refitted
        assert len(cache) - before <= 1, (date, len(cache) - before)
        fresh = _validate(date, first, None)
        a = shared.metrics.to_dict()
        b = fresh.metrics.to_dict()
        for key in ("mase", "mae", "rmse", "dm_pvalue", "n_validation", "n_refits"):
            assert a[key] == pytest.approx(b[key], rel=1e-12, abs=0), (date, key)
        assert a["subperiod_mae"] == pytest.approx(b["subperiod_mae"], rel=1e-12)


def test_every_fold_of_an_anchored_walk_fits_on_the_same_number_of_rows() -> None:
    candles = load_ohlcv("bitcoin")
    first = candles.index[-200]
    sizes = set()
    for k in range(0, 5):
        cache: dict[Any, Any] = {}
        _validate(candles.index[-200 + 7 * k], first, cache)
        sizes |= {key[3] for key in cache}  # (model key, first row, last row, rows)
    assert len(sizes) == 1, sizes
