"""make_target and the log-return <-> price helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import DataError
from cryptoforecast.features import (
    log_return_to_price,
    make_target,
    price_to_log_return,
    target_name,
)


@pytest.mark.parametrize("horizon", [1, 7, 30])
def test_target_is_the_future_log_return(btc_daily: pd.DataFrame, horizon: int) -> None:
    y = make_target(btc_daily, horizon)
    close = btc_daily["close"]
    assert y.name == target_name(horizon) == f"target_h{horizon}"
    assert y.index.equals(btc_daily.index)
    assert y.iloc[-horizon:].isna().all() and not y.iloc[:-horizon].isna().any()
    t = 100
    assert y.iloc[t] == pytest.approx(np.log(close.iloc[t + horizon] / close.iloc[t]), rel=1e-12)
    prices = log_return_to_price(close.iloc[:-horizon].to_numpy(), y.iloc[:-horizon].to_numpy())
    np.testing.assert_allclose(prices, close.iloc[horizon:].to_numpy(), rtol=1e-12)


def test_target_accepts_a_close_series_and_short_history(btc_daily: pd.DataFrame) -> None:
    short = btc_daily["close"].iloc[:3]
    assert make_target(short, 5).isna().all()
    pd.testing.assert_series_equal(make_target(btc_daily["close"], 2), make_target(btc_daily, 2))


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "7"])
def test_bad_horizon(btc_daily: pd.DataFrame, bad: object) -> None:
    with pytest.raises(DataError, match="horizon must be a whole number"):
        make_target(btc_daily, bad)  # type: ignore[arg-type]


def test_non_positive_close_is_refused(btc_daily: pd.DataFrame) -> None:
    df = btc_daily.copy()
    df.iloc[10, df.columns.get_loc("close")] = -3.0
    with pytest.raises(DataError, match=r"got -3.0 at 2018-03-27"):
        make_target(df, 1)


def test_price_helpers_round_trip() -> None:
    assert log_return_to_price(100.0, np.log(1.1)) == pytest.approx(110.0)
    assert price_to_log_return(100.0, 110.0) == pytest.approx(np.log(1.1))
    s = pd.Series([1.0, 2.0])
    pd.testing.assert_series_equal(log_return_to_price(s, price_to_log_return(s, s * 3)), s * 3)
    with pytest.raises(DataError, match="must be positive"):
        price_to_log_return(100.0, 0.0)
