"""A saved distribution model, loaded in a new process, gives identical quantiles; no pickle."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.distribution import VOLATILITY_MODELS, DistributionForecaster, MarketData

LOADER = """
import json, sys
from cryptoforecast.data import load_ohlcv
from cryptoforecast.models.distribution import DistributionForecaster, MarketData
daily = load_ohlcv("BTCUSDT").iloc[-1000:]
intraday = load_ohlcv("BTCUSDT", interval="4h")
market = MarketData(daily, intraday.loc[intraday.index >= daily.index[0]])
q = DistributionForecaster.load(sys.argv[1]).predict_quantiles(market).iloc[-50:]
print(json.dumps(q.to_numpy().tolist()))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VOLATILITY_MODELS))
def test_round_trip_in_a_new_process_gives_identical_quantiles(
    name: str, btc_market: MarketData, tmp_path: Path
) -> None:
    dist = DistributionForecaster(name, horizon=7, aci_gamma=0.01).fit(btc_market)
    dist.update([0.3, -2.5, 1.1])
    path = dist.save(tmp_path / name)
    files = sorted(p.name for p in path.iterdir())
    assert "manifest.json" in files and not any(f.endswith((".pkl", ".pickle")) for f in files)
    if name == "lightgbm_vol":
        assert "volatility_model.txt" in files
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", LOADER, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    loaded = np.array(json.loads(out.stdout))
    here = dist.predict_quantiles(btc_market).iloc[-50:].to_numpy()
    np.testing.assert_array_equal(loaded, here)


def test_load_refuses_a_modified_file(btc_market: MarketData, tmp_path: Path) -> None:
    path = DistributionForecaster("ewma_t").fit(btc_market).save(tmp_path / "d")
    state = path / "distribution.json"
    state.write_text(state.read_text().replace('"lam": 0.94', '"lam": 0.5'))
    with pytest.raises(ArtifactError, match="sha256"):
        DistributionForecaster.load(path)
    with pytest.raises(ArtifactError, match="not a saved distribution model"):
        DistributionForecaster.load(tmp_path / "missing")
