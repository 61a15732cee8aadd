"""``DistributionForecaster`` with each calibration choice: the shape it says, saved and loaded
with it, and a stored choice or window outside the allowed ones refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cryptoforecast.exceptions import ArtifactError, ConfigError
from cryptoforecast.models.distribution import DistributionForecaster, MarketData
from cryptoforecast.models.distribution.calibration import ACI_GAMMA, CALIBRATIONS


@pytest.fixture(scope="module")
def fitted(btc_market: MarketData) -> dict[str, DistributionForecaster]:
    return {
        c: DistributionForecaster("ewma_t", horizon=7, calibration=c, calibration_window=50).fit(
            btc_market
        )
        for c in CALIBRATIONS
    }


def test_each_choice_shapes_the_distribution_as_it_says(
    fitted: dict[str, DistributionForecaster], btc_market: MarketData
) -> None:
    q = {c: d.predict_quantiles(btc_market).iloc[-20:] for c, d in fitted.items()}
    none = fitted["none"]
    assert none.predict_distribution(btc_market).shape is none.model_.shape_  # parametric
    assert none.predict_distribution(btc_market).shape.kind == "t"
    assert fitted["conformal_window"].calibrator_.scores.size == 50
    np.testing.assert_array_equal(
        fitted["conformal_window"].calibrator_.scores, fitted["conformal"].calibrator_.scores[-50:]
    )
    assert fitted["aci"].calibrator_.gamma == ACI_GAMMA
    mean = 0.5 * (q["none"] + q["conformal"])  # same scale model, same holdout scores
    np.testing.assert_allclose(q["blend"].to_numpy(), mean.to_numpy(), rtol=0, atol=1e-12)
    for a in CALIBRATIONS:
        for b in CALIBRATIONS:
            if a < b and {a, b} != {"conformal", "aci"}:  # aci equals conformal until updated
                assert not np.allclose(q[a].to_numpy(), q[b].to_numpy()), (a, b)


@pytest.mark.parametrize("calibration", CALIBRATIONS)
def test_saved_and_loaded_with_its_choice(
    calibration: str,
    fitted: dict[str, DistributionForecaster],
    btc_market: MarketData,
    tmp_path: Path,
) -> None:
    dist = fitted[calibration]
    path = dist.save(tmp_path / calibration)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["params"]["calibration"] == calibration
    assert manifest["params"]["calibration_window"] == 50
    loaded = DistributionForecaster.load(path)
    assert loaded.calibration == calibration and loaded.calibration_window == 50
    np.testing.assert_array_equal(
        loaded.predict_quantiles(btc_market).to_numpy(),
        dist.predict_quantiles(btc_market).to_numpy(),
    )


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("calibration", "isotonic", "params.calibration"),
        ("calibration_window", 3, "params.calibration_window"),
    ],
)
def test_a_stored_choice_outside_the_allowed_ones_is_refused(
    key: str, value: object, field: str, fitted: dict[str, DistributionForecaster], tmp_path: Path
) -> None:
    path = fitted["conformal_window"].save(tmp_path / "d")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["params"][key] = value
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=field):
        DistributionForecaster.load(path)


def test_an_unknown_choice_is_refused_at_fit(btc_market: MarketData) -> None:
    with pytest.raises(ConfigError, match="got 'isotonic'"):
        DistributionForecaster("ewma_t", calibration="isotonic").fit(btc_market)  # type: ignore[arg-type]
