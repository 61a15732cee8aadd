"""Lineage: hashes that change exactly when the data, features or config change."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cryptoforecast.registry.lineage import (
    compute_lineage,
    config_hash,
    feature_hash,
    frame_hash,
    git_commit,
)


def test_frame_hash_tracks_content_not_identity(btc_daily):
    frame = btc_daily.iloc[:200]
    assert frame_hash(frame) == frame_hash(frame.copy())
    changed = frame.copy()
    changed.iloc[100, changed.columns.get_loc("close")] *= 1.000001
    assert frame_hash(changed) != frame_hash(frame)
    assert frame_hash(frame.iloc[:-1]) != frame_hash(frame)
    assert frame_hash(frame.rename(columns={"close": "Close"})) != frame_hash(frame)
    shifted = frame.copy()
    shifted.index = shifted.index + pd.Timedelta(hours=1)
    assert frame_hash(shifted) != frame_hash(frame)
    # the datetime unit of the index does not matter, only the instants
    as_ns = frame.copy()
    as_ns.index = as_ns.index.as_unit("ns")
    assert frame_hash(as_ns) == frame_hash(frame)


def test_feature_and_config_hashes():
    assert feature_hash(["a", "b"]) != feature_hash(["b", "a"])  # order matters to a model
    assert config_hash({"x": 1, "y": [1, 2]}) == config_hash({"y": [1, 2], "x": 1})
    assert config_hash({"x": 1}) != config_hash({"x": 2})
    assert config_hash(None) == config_hash({})


def test_git_commit_in_and_outside_a_checkout(tmp_path):
    commit = git_commit()
    if commit is not None:  # the package runs from this git checkout
        assert re.fullmatch(r"[0-9a-f]{40}", commit)
    assert git_commit(tmp_path) is None


def test_compute_lineage_from_candles_and_features(btc_daily):
    candles = btc_daily.iloc[-400:]
    features = pd.DataFrame({"rsi_14": 0.0, "ret_log_7": 0.0}, index=candles.index)
    lin = compute_lineage(candles, features, {"num_leaves": 31}, extra={"train_end": "2025-06-30"})
    assert lin["data_source"] == "snapshot" and lin["interval"] == "1d"
    assert lin["n_candles"] == 400
    assert lin["first_candle"] == candles.index[0].isoformat()
    assert lin["last_candle"] == candles.index[-1].isoformat()
    assert lin["data_hash"] == frame_hash(candles)
    assert lin["features"] == ["rsi_14", "ret_log_7"]
    assert lin["feature_hash"] == feature_hash(["rsi_14", "ret_log_7"])
    assert lin["config_hash"] == config_hash({"num_leaves": 31})
    assert lin["train_end"] == "2025-06-30"
    assert lin["trained_at"].endswith("+00:00")
    assert lin["package_version"]
    with pytest.raises(Exception, match="would overwrite"):
        compute_lineage(candles, extra={"data_hash": "forged"})
