"""``CombinedDistribution``: the weighted quantile average of fitted members, served at the last
row as one empirical shape that gives back the same quantiles, saved without pickle and refused
when tampered with; ``load_distribution`` reads either kind of stored distribution."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoforecast.exceptions import ArtifactError, ConfigError, NotFittedError
from cryptoforecast.models.artifacts import file_sha256
from cryptoforecast.models.distribution import (
    QUANTILES,
    CombinedDistribution,
    DistributionForecaster,
    MarketData,
    load_distribution,
)
from cryptoforecast.paths import list_files
from cryptoforecast.serving.distribution import (
    as_predictive,
    centred,
    describe_distribution,
    read_distribution,
)
from tests.models.distribution.conftest import perturb_after

WEIGHTS = {"ewma_t": 0.3, "har_rv": 0.7}


def _members(horizon: int = 7) -> dict[str, DistributionForecaster]:
    return {
        "ewma_t": DistributionForecaster("ewma_t", horizon),
        "har_rv": DistributionForecaster("har_rv", horizon, calibration="none"),
    }


@pytest.fixture(scope="module")
def combo(btc_market: MarketData) -> CombinedDistribution:
    return CombinedDistribution(_members(), WEIGHTS).fit(btc_market)


def _location(market: MarketData, value: float = 0.012) -> pd.Series:
    return pd.Series([value], index=market.daily.index[-1:])


def test_quantiles_are_the_weighted_average_of_the_members_and_never_cross(
    combo: CombinedDistribution, btc_market: MarketData
) -> None:
    q = combo.predict_quantiles(btc_market)
    parts = {n: m.predict_quantiles(btc_market) for n, m in combo.members.items()}
    rows = parts["ewma_t"].index.intersection(parts["har_rv"].index)
    assert q.index.equals(rows) and list(q.columns) == list(QUANTILES)
    expected = sum(WEIGHTS[n] * parts[n].loc[rows] for n in parts)
    np.testing.assert_allclose(q.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-15)
    assert (np.diff(q.to_numpy(), axis=1) > 0).all()
    shifted = combo.predict_quantiles(btc_market, location=pd.Series(0.01, index=q.index))
    np.testing.assert_allclose(shifted.to_numpy(), q.to_numpy() + 0.01, rtol=0, atol=1e-12)
    assert combo.volatility == "combination" and combo.horizon == 7 and combo.uses_intraday_


def test_the_served_distribution_gives_back_the_quantiles_of_the_last_row(
    combo: CombinedDistribution, btc_market: MarketData
) -> None:
    location = _location(btc_market)
    pred = combo.predict_distribution(btc_market, location)
    assert pred.shape.kind == "empirical" and len(pred.mu) == 1
    assert pred.mu.index[0] == btc_market.daily.index[-1]
    row = combo.predict_quantiles(btc_market, location).iloc[-1]
    np.testing.assert_allclose(
        pred.quantiles(QUANTILES).iloc[0].to_numpy(), row.to_numpy(), rtol=0, atol=1e-12
    )
    # between the served levels, within a 0.001 step of the level
    for tau in (0.013, 0.3337, 0.61, 0.987):
        served = float(pred.quantiles([tau]).iloc[0, 0])
        lo, hi = combo.predict_quantiles(btc_market, location, [tau - 0.0011, tau + 0.0011]).iloc[
            -1
        ]
        assert lo - 1e-12 <= served <= hi + 1e-12, tau
    # its probabilities are those of the combination's quantile function
    grid = np.linspace(0.0005, 0.9995, 1999)
    fine = combo.predict_quantiles(btc_market, location, grid).iloc[-1].to_numpy()
    assert float(pred.p_up().iloc[0]) == pytest.approx(1 - np.interp(0.0, fine, grid), abs=2e-3)
    for x in (0.05, 0.1):
        p_move = float(pred.p_move(x).iloc[0])
        expected = np.interp(-x, fine, grid) + 1 - np.interp(x, fine, grid)
        assert p_move == pytest.approx(expected, abs=3e-3)
    sigmas = {
        n: m.predict_distribution(btc_market).sigma.iloc[-1] for n, m in combo.members.items()
    }
    assert float(pred.sigma.iloc[0]) == pytest.approx(
        sum(WEIGHTS[n] * s for n, s in sigmas.items())
    )


def test_serving_reads_the_served_distribution_unchanged(
    combo: CombinedDistribution, btc_market: MarketData
) -> None:
    location = _location(btc_market)
    pred = combo.predict_distribution(btc_market, location)
    kept = describe_distribution(pred, "combination")
    back = as_predictive(kept)
    np.testing.assert_array_equal(
        back.quantiles(QUANTILES).to_numpy(), pred.quantiles(QUANTILES).to_numpy()
    )
    served = read_distribution(describe_distribution(centred(pred), "combination"), 100.0)
    assert served.median_return == pytest.approx(0.012, abs=1e-12)  # centred: median = location
    prices = [served.quantiles[round(t, 6)] for t in QUANTILES]
    assert np.all(np.diff(prices) > 0) and 0 < served.p_up < 1


def test_the_quantiles_at_an_origin_ignore_later_candles(btc_market: MarketData) -> None:
    t = btc_market.daily.index[-200]
    combo = CombinedDistribution(_members(), WEIGHTS).fit(btc_market.until(t))
    before = combo.predict_quantiles(btc_market).loc[:t]
    after = combo.predict_quantiles(perturb_after(btc_market, t)).loc[:t]
    pd.testing.assert_frame_equal(before, after)


def test_a_member_fitted_on_daily_candles_is_not_given_4h_ones(btc_market: MarketData) -> None:
    daily_only = MarketData(btc_market.daily)
    members = {
        "har_daily": DistributionForecaster("har_rv", 1, calibration="none").fit(daily_only),
        "har_4h": DistributionForecaster("har_rv", 1, calibration="none").fit(btc_market),
    }
    combo = CombinedDistribution(members, {"har_daily": 0.5, "har_4h": 0.5})
    assert combo.uses_intraday_
    q = combo.predict_quantiles(btc_market)
    a = members["har_daily"].predict_quantiles(daily_only)
    b = members["har_4h"].predict_quantiles(btc_market)
    rows = a.index.intersection(b.index)
    np.testing.assert_allclose(q.to_numpy(), (0.5 * a + 0.5 * b).loc[rows].to_numpy(), atol=1e-15)


def test_bad_members_or_weights_are_refused() -> None:
    with pytest.raises(ConfigError, match="same horizon"):
        CombinedDistribution(
            {"a": DistributionForecaster("ewma_t", 1), "b": DistributionForecaster("ewma_t", 7)},
            {"a": 0.5, "b": 0.5},
        )
    with pytest.raises(ConfigError, match="sum to 1"):
        CombinedDistribution(_members(), {"ewma_t": 0.5, "har_rv": 0.6})
    with pytest.raises(ConfigError, match="sum to 1"):
        CombinedDistribution(_members(), {"ewma_t": 1.2, "har_rv": -0.2})
    with pytest.raises(ConfigError, match="exactly the members"):
        CombinedDistribution(_members(), {"ewma_t": 1.0})
    with pytest.raises(NotFittedError, match="not fitted"):
        CombinedDistribution(_members(), WEIGHTS).predict_quantiles(
            MarketData(pd.DataFrame({"close": [1.0]}))
        )


# -- artifacts ------------------------------------------------------------------------------
def _rehash(path: Path) -> None:
    """Rewrite the manifest's sha256 of every file (a value edited by someone who also edited
    the hashes: the value checks must catch it)."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"] = {name: file_sha256(path / name) for name in manifest["files"]}
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_round_trip_gives_identical_quantiles_and_no_pickle(
    combo: CombinedDistribution, btc_market: MarketData, tmp_path: Path
) -> None:
    path = combo.save(tmp_path / "combo")
    names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    assert names == [
        "manifest.json",
        "members/0/distribution.json",
        "members/0/manifest.json",
        "members/1/distribution.json",
        "members/1/manifest.json",
        "weights.json",
    ]
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format"] == "cryptoforecast-distribution-combination/1"
    assert set(manifest["files"]) == set(names) - {"manifest.json"}
    loaded = CombinedDistribution.load(path)
    assert loaded.weights == combo.weights and list(loaded.members) == list(combo.members)
    assert loaded.uses_intraday_ and loaded.train_end_ == combo.train_end_
    pd.testing.assert_frame_equal(
        loaded.predict_quantiles(btc_market), combo.predict_quantiles(btc_market)
    )
    location = _location(btc_market)
    np.testing.assert_array_equal(
        loaded.predict_distribution(btc_market, location).shape.scores,
        combo.predict_distribution(btc_market, location).shape.scores,
    )


def test_load_distribution_reads_either_kind(
    combo: CombinedDistribution, btc_market: MarketData, tmp_path: Path
) -> None:
    single = combo.members["ewma_t"].save(tmp_path / "single")
    both = combo.save(tmp_path / "combo")
    assert isinstance(load_distribution(single), DistributionForecaster)
    assert isinstance(load_distribution(both), CombinedDistribution)
    with pytest.raises(ArtifactError, match="no manifest.json"):
        load_distribution(tmp_path / "nothing")
    manifest = json.loads((single / "manifest.json").read_text())
    manifest["format"] = "something-else/9"
    (single / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="something-else/9"):
        load_distribution(single)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("weights.json", "sha256"),
        ("members/1/distribution.json", "sha256"),
        ("added.json", "does not list"),
    ],
)
def test_a_tampered_artifact_is_refused(
    combo: CombinedDistribution, tmp_path: Path, edit: str, message: str
) -> None:
    path = combo.save(tmp_path / "combo")
    file = path / edit
    file.write_text(file.read_text().replace("0.7", "0.8") + " " if file.exists() else "{}")
    with pytest.raises(ArtifactError, match=message):
        CombinedDistribution.load(path)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"ewma_t": 0.5, "har_rv": 0.7}, "summing to 1"),
        ({"ewma_t": -0.3, "har_rv": 1.3}, r"weights\['ewma_t'\] must be a finite number"),
        ({"ewma_t": 0.3}, "a weight for member 'har_rv'"),
        ({"ewma_t": 0.3, "har_rv": 0.7, "other": 0.0}, "one weight per member"),
        ({"ewma_t": "0.3", "har_rv": 0.7}, "must be a finite number"),
    ],
)
def test_malformed_weights_with_matching_hashes_are_refused(
    combo: CombinedDistribution, tmp_path: Path, weights: dict, message: str
) -> None:
    path = combo.save(tmp_path / "combo")
    (path / "weights.json").write_text(json.dumps({"weights": weights}))
    _rehash(path)
    with pytest.raises(ArtifactError, match=message):
        CombinedDistribution.load(path)


def test_a_member_of_another_horizon_or_a_moved_member_is_refused(
    combo: CombinedDistribution, btc_market: MarketData, tmp_path: Path
) -> None:
    path = combo.save(tmp_path / "combo")
    shutil.rmtree(path / "members/1")
    DistributionForecaster("har_rv", 1, calibration="none").fit(btc_market).save(path / "members/1")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"] = {
        name: file_sha256(file)
        for name, file in list_files(path).items()
        if name != "manifest.json"
    }
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="horizon"):
        CombinedDistribution.load(path)
    manifest["members"][1]["path"] = "../elsewhere"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="members\\[1\\].path"):
        CombinedDistribution.load(path)
