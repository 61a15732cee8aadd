"""``distribution.calibration``: its default is the evidence's (the parametric shape), and the
configured choice reaches the validation walk and the distribution stored with the model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from cryptoforecast.backtest import engine as backtester
from cryptoforecast.config import CalibrationName, Settings, load_config
from cryptoforecast.models.catalog import load_forecaster
from cryptoforecast.models.distribution.calibration import CALIBRATIONS
from cryptoforecast.training.pipeline import train_model_for_crypto

FAST = {
    "lightgbm": {"n_estimators": 40, "early_stopping_rounds": 10},
    "training": {"validation_size": 120, "validation_retrain_every": 30},
}


def test_the_setting_offers_every_choice_and_defaults_to_the_parametric_shape() -> None:
    assert get_args(CalibrationName) == CALIBRATIONS
    assert Settings().distribution.calibration == "none"
    shipped = Path(__file__).parents[2] / "configs" / "model_config.yaml"
    assert yaml.safe_load(shipped.read_text())["distribution"]["calibration"] == "none"
    with pytest.raises(ValueError, match="calibration"):
        load_config(overrides={"distribution": {"calibration": "isotonic"}})


@pytest.mark.parametrize("calibration", [None, "conformal_window"])
def test_the_configured_choice_reaches_validation_and_the_stored_distribution(
    calibration: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    real = backtester.distribution_columns

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("calibration"))
        return real(*args, **kwargs)

    monkeypatch.setattr(backtester, "distribution_columns", spy)
    section: dict[str, Any] = {"model": "ewma_t"}
    if calibration is not None:
        section["calibration"] = calibration
    config = load_config(overrides={**FAST, "distribution": section})
    model = asyncio.run(
        train_model_for_crypto(
            "bitcoin", "drift", days=500, horizon=1, end="2025-03-31", config=config
        )
    )
    expected = calibration or "none"
    assert seen == [expected]  # the validation walk scored the shape that is stored
    stored = load_forecaster(model.training_result_.artifact_path).distribution_
    assert stored is not None and stored.calibration == expected
    if expected == "none":
        assert stored.calibrator_.scores.size == 0  # the parametric shape, no scores kept
    else:
        assert 30 <= stored.calibrator_.scores.size <= 250
