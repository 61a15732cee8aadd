"""``feature_selection.exclude_groups``: a horizon's excluded feature groups are absent from every
model trained for it (the pipeline, the served replay's candidates, the global model) and the
service still forecasts with it; a bad setting is a clear ConfigError."""

from __future__ import annotations

import typing

import pandas as pd
import pytest

from cryptoforecast.config import FeatureSelectionConfig, load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ConfigError
from cryptoforecast.features import FEATURE_GROUPS, build_features, without_groups
from cryptoforecast.features.catalog import GROUPS
from cryptoforecast.models import load_registered
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.replay import train_candidates
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.training import prepare_training_data, train_model
from cryptoforecast.training.global_model import build_universe_data

from .fast_settings import FAST, OPEN_GATE

CALENDAR = FEATURE_GROUPS["calendar"]


def settings(exclude: dict[int, list[str]], **extra: dict) -> typing.Any:
    return load_config(
        overrides={**FAST, "feature_selection": {"exclude_groups": exclude}, **extra}
    )


def test_the_group_names_are_the_catalogue_groups() -> None:
    field = FeatureSelectionConfig.model_fields["exclude_groups"].annotation
    literal = typing.get_args(field)[1]  # dict[int, list[FeatureGroupName]]
    assert typing.get_args(typing.get_args(literal)[0]) == GROUPS


def test_an_excluded_group_is_absent_at_its_horizon_and_present_at_another() -> None:
    cfg = settings({7: ["calendar"]})
    h7 = train_model("bitcoin", days=400, horizon=7, save_model=False, config=cfg)
    h1 = train_model("bitcoin", days=400, horizon=1, save_model=False, config=cfg)
    assert not set(CALENDAR) & set(h7.feature_names_)
    assert set(CALENDAR) <= set(h1.feature_names_)
    # only the group left: every other feature is still there
    assert set(h1.feature_names_) - set(h7.feature_names_) == set(CALENDAR)


def test_a_model_trained_without_a_group_is_recorded_and_served() -> None:
    cfg = settings({7: ["calendar", "volume"]}, promotion_gate=OPEN_GATE)
    model = train_model("bitcoin", days=400, horizon=7, save_model=True, config=cfg)
    record = model.training_result_.record
    assert record is not None and record.status == "production"
    assert record.config["exclude_groups"] == ["calendar", "volume"]
    loaded = load_registered(record)  # what the service loads
    assert list(loaded.feature_names_) == list(model.feature_names_)
    assert not set(loaded.feature_names_) & set(CALENDAR + FEATURE_GROUPS["volume"])
    forecast = Predictor(registry=ModelRegistry(), record=False, cache_ttl=0).predict("bitcoin", 7)
    assert forecast.source == "model" and forecast.model_id == record.model_id


def test_the_served_replays_candidates_and_the_global_model_leave_the_group_out() -> None:
    cfg = settings({1: ["calendar"]})
    candles = load_ohlcv("bitcoin")
    registry = ModelRegistry()
    date = pd.Timestamp("2024-06-30", tz="UTC")
    rows = train_candidates(candles, "bitcoin", 1, date, ("lightgbm",), cfg, registry)
    kept = list(load_registered(registry.get(rows[0]["model_id"])).feature_names_)
    assert kept and not set(CALENDAR) & set(kept)
    assert rows[0]["top_features"] and not set(CALENDAR) & set(rows[0]["top_features"].split(", "))

    universe = {c: load_ohlcv(c).iloc[-800:] for c in ("bitcoin", "ethereum")}
    data = build_universe_data(universe, 300, 1, exclude_groups=("calendar",))
    for d in data.values():
        assert not set(CALENDAR) & set(d.X.columns)
        assert any(c.startswith("xs_") for c in d.X.columns)  # cross-sectional ones stay


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({7: ["calender"]}, r"exclude_groups\.7\.0 = 'calender': Input should be 'technical'"),
        ({20: ["calendar"]}, r"exclude_groups.*20.*1 to 14"),
        ({0: ["calendar"]}, r"1 to 14"),
        ({7: ["calendar", "calendar"]}, r"repeats a group"),
        ({7: ["technical", "price", "volume", "calendar"]}, r"leaves the models no feature"),
        ({7: "calendar"}, r"exclude_groups\.7 = 'calendar': Input should be a valid list"),
    ],
)
def test_a_bad_setting_is_a_clear_config_error(value: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_config(overrides={"feature_selection": {"exclude_groups": value}})


def test_an_unknown_group_given_in_code_is_a_config_error() -> None:
    candles = load_ohlcv("bitcoin").iloc[-700:]
    with pytest.raises(ConfigError, match=r"unknown feature group.*'calender'.*calendar"):
        prepare_training_data(candles, 200, 1, exclude_groups=("calender",))
    with pytest.raises(ConfigError, match=r"unknown feature group"):
        without_groups(build_features(candles), "calendar")  # a string, not a list of groups


def test_the_default_sets_follow_the_ablation_and_the_yaml() -> None:
    """The defaults are data (the ablation's verdicts), excluded per horizon as written."""
    cfg = load_config()
    for h, groups in cfg.feature_selection.exclude_groups.items():
        assert cfg.feature_selection.excluded_groups(h) == tuple(groups)
    assert cfg.feature_selection.excluded_groups(2) == ()
