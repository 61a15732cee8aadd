"""A distribution saved inside a point model's artifact: hashed, round-tripped, refused if edited."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.data import load_ohlcv
from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models import make_forecaster
from cryptoforecast.models.artifacts import read_manifest
from cryptoforecast.models.catalog import load_forecaster
from cryptoforecast.models.distribution import DistributionForecaster, MarketData

END = "2024-12-31"


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    return load_ohlcv("bitcoin", end=END).iloc[-700:]


@pytest.fixture(scope="module")
def model_with_distribution(candles: pd.DataFrame) -> object:
    rng = np.random.default_rng(0)
    idx = candles.index
    X = pd.DataFrame(rng.normal(size=(len(idx), 3)), index=idx, columns=["f1", "f2", "f3"])
    y = np.log(candles["close"].shift(-1) / candles["close"]).dropna()
    model = make_forecaster("drift", horizon=1).fit(X.loc[y.index], y)
    model.distribution_ = DistributionForecaster("har_rv", horizon=1).fit(MarketData(candles))
    return model


def test_saved_inside_the_artifact_and_hashed(model_with_distribution, tmp_path: Path) -> None:  # noqa: ANN001
    path = model_with_distribution.save_model(tmp_path / "m")
    manifest = read_manifest(path)
    assert manifest["extra"]["distribution"]["volatility"] == "har_rv"
    listed = set(manifest["files"])
    assert {"distribution/manifest.json", "distribution/distribution.json"} <= listed
    loaded = load_forecaster(path)
    assert loaded.distribution_ is not None and loaded.distribution_.volatility == "har_rv"
    # an edited distribution file is refused, like edited weights
    state = path / "distribution" / "distribution.json"
    data = json.loads(state.read_text())
    data["volatility_model"]["state"]["coef"][1] *= 2
    state.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match="sha256"):
        load_forecaster(path)


def test_a_model_without_distribution_loads_with_none(tmp_path: Path, candles) -> None:  # noqa: ANN001
    idx = candles.index
    X = pd.DataFrame({"f": np.arange(len(idx), dtype=float)}, index=idx)
    y = pd.Series(np.linspace(-0.01, 0.01, len(idx)), index=idx)
    path = make_forecaster("naive", horizon=1).fit(X, y).save_model(tmp_path / "n")
    assert "distribution" not in read_manifest(path)["extra"]
    assert load_forecaster(path).distribution_ is None


def test_round_trip_in_a_new_process_gives_identical_quantiles(
    model_with_distribution,
    candles: pd.DataFrame,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    path = model_with_distribution.save_model(tmp_path / "m")
    loc = pd.Series(0.001, index=candles.index)
    here = model_with_distribution.distribution_.predict_quantiles(MarketData(candles), loc)
    out = tmp_path / "q.json"
    code = f"""
import json, pandas as pd
from cryptoforecast.data import load_ohlcv
from cryptoforecast.models.catalog import load_forecaster
from cryptoforecast.models.distribution import MarketData
c = load_ohlcv("bitcoin", end="{END}").iloc[-700:]
d = load_forecaster(r"{path}").distribution_
q = d.predict_quantiles(MarketData(c), pd.Series(0.001, index=c.index))
open(r"{out}", "w").write(q.to_json(orient="split", double_precision=15))
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    there = pd.read_json(out, orient="split")
    np.testing.assert_allclose(there.to_numpy(), here.to_numpy(), rtol=1e-12, atol=0)
