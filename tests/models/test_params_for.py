"""``params_for``: the one place a config mapping is cut to what a model's constructor takes."""

from __future__ import annotations

import pytest

from cryptoforecast.backtest.engine import trainer_for
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models import EnsembleForecaster, ShrunkForecaster
from cryptoforecast.models.factory import params_for
from cryptoforecast.models.lightgbm_model import LightGBMForecaster


def test_keeps_what_the_constructor_takes_and_drops_the_rest_and_the_horizon() -> None:
    got = params_for(LightGBMForecaster, {"num_leaves": 7, "meta": "ridge", "horizon": 3})
    assert got == {"num_leaves": 7}


def test_fills_in_the_seed_only_for_a_model_that_takes_one_and_has_none() -> None:
    assert params_for(LightGBMForecaster, {}, random_state=5) == {"random_state": 5}
    assert params_for(LightGBMForecaster, {"random_state": 1}, random_state=5) == {
        "random_state": 1
    }
    assert params_for(LightGBMForecaster, {}) == {}
    assert "random_state" not in params_for(_NoSeed, {}, random_state=5)


class _NoSeed:
    def __init__(self, horizon: int = 1) -> None:
        self.horizon = horizon


def test_strict_refuses_an_unknown_name_and_says_which_are_valid() -> None:
    with pytest.raises(ConfigError, match=r"LightGBMForecaster has no parameter\(s\) \['leaves'\]"):
        params_for(LightGBMForecaster, {"leaves": 7}, strict=True)
    with pytest.raises(ConfigError, match=r"NaiveForecaster has no parameter\(s\) \['leaves'\]"):
        trainer_for("naive", 1, leaves=7)


def test_the_ensemble_and_the_shrunk_model_build_their_bases_through_it() -> None:
    ens = EnsembleForecaster(base_models=["naive"], base_params={"naive": {}}, random_state=9)
    assert ens.lookback == 1  # a row-wise base
    ens = EnsembleForecaster(base_models=["lightgbm"], base_params={"lightgbm": {"meta": 1}})
    with pytest.raises(ConfigError, match=r"no parameter\(s\) \['meta'\]"):
        _ = ens.lookback  # builds the bases
    shrunk = ShrunkForecaster("lightgbm", base_params={"num_leaves": 5, "meta": 1}, random_state=3)
    base = shrunk._new_base()
    assert (base.num_leaves, base.random_state) == (5, 3)  # type: ignore[attr-defined]
