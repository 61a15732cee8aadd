"""Every list of model names agrees with its one table.

``catalog.MODEL_CLASSES`` is the table of point models and ``VOLATILITY_MODELS`` the table of
scale models. The tuples are read off them; the config's ``Literal`` names are static (the JSON
schema and ``config show`` publish them), so they are pinned to the tables here.
"""

from __future__ import annotations

from typing import get_args

import pytest

from cryptoforecast.config import BaseModelName, ModelName, Settings, VolatilityName
from cryptoforecast.evaluation.distribution_summary import BASELINE_NAMES
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models import CROSS_ASSET_MODEL_TYPES, MODEL_TYPES
from cryptoforecast.models.catalog import MODEL_CLASSES, model_class
from cryptoforecast.models.distribution import BASELINES, VOLATILITY_MODELS
from cryptoforecast.models.factory import BASE_CLASSES
from cryptoforecast.models.shrunk import SHRINKABLE
from cryptoforecast.replay.served import DEFAULT_CANDIDATES
from cryptoforecast.training.fit import TRAINABLE_MODELS
from cryptoforecast.training.tuning import TUNABLE_MODELS, suggest_params

#: the rule-based fallback is built by the service, never chosen in the config
NOT_CONFIGURABLE = {"technical"}


def test_each_class_is_registered_under_its_own_model_type() -> None:
    for name, cls in MODEL_CLASSES.items():
        assert cls.model_type == name
        assert model_class(name) is cls


def test_the_table_is_built_from_its_layers_without_a_second_entry() -> None:
    assert BASE_CLASSES.items() <= SHRINKABLE.items() <= MODEL_CLASSES.items()
    assert "ensemble" not in BASE_CLASSES  # an ensemble never holds an ensemble
    assert "shrunk" not in SHRINKABLE  # a shrunk model never shrinks itself


def test_the_model_tuples_are_read_off_the_table() -> None:
    assert tuple(MODEL_CLASSES) == MODEL_TYPES
    assert CROSS_ASSET_MODEL_TYPES == ("global_lightgbm",)
    assert set(TRAINABLE_MODELS) == set(MODEL_TYPES) - set(CROSS_ASSET_MODEL_TYPES)
    assert TUNABLE_MODELS == ("lightgbm", "xgboost", "lstm", "ensemble")


def test_every_tunable_model_has_a_search_space_and_no_other_does() -> None:
    optuna = pytest.importorskip("optuna")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for name in MODEL_TYPES:
        trial = study.ask()
        if name in TUNABLE_MODELS:
            assert suggest_params(trial, name), name
        else:
            with pytest.raises(ConfigError, match="nothing to tune"):
                suggest_params(trial, name)


def test_the_config_names_are_the_tables_names() -> None:
    assert set(get_args(BaseModelName)) == set(BASE_CLASSES) - NOT_CONFIGURABLE
    assert set(get_args(ModelName)) == set(TRAINABLE_MODELS) - NOT_CONFIGURABLE


def test_the_config_scale_model_names_are_the_scale_table() -> None:
    assert set(get_args(VolatilityName)) == set(VOLATILITY_MODELS)
    assert set(BASELINES) <= set(VOLATILITY_MODELS)
    # evaluation sits below the models, so it names the baselines itself
    assert BASELINE_NAMES == BASELINES


def test_the_default_choices_of_model_names_are_in_the_table() -> None:
    defaults = Settings()
    assert set(DEFAULT_CANDIDATES) <= set(TRAINABLE_MODELS)
    assert set(defaults.promotion_gate.candidates) <= set(TRAINABLE_MODELS)
    assert set(defaults.ensemble.base_models) <= set(BASE_CLASSES)
    assert set(defaults.demo.models) <= set(TRAINABLE_MODELS)
    assert defaults.distribution.model is None  # distributions are gated versions of their own
    assert set(defaults.distribution.candidates) <= {*VOLATILITY_MODELS, "combination"}
