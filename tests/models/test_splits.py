"""Walk-forward splits: purge gap >= horizon, expanding and sliding windows, bad settings."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoforecast.exceptions import ConfigError
from cryptoforecast.models.splits import resolve_purge, train_rows, walk_forward_splits


@pytest.mark.parametrize("horizon", [1, 3, 7])
@pytest.mark.parametrize("window", ["expanding", "sliding"])
def test_every_training_target_is_known_at_every_origin(horizon: int, window: str) -> None:
    n = 300
    splits = list(
        walk_forward_splits(n, horizon=horizon, initial_train_size=50, test_size=20, window=window)  # type: ignore[arg-type]
    )
    assert splits
    for origin, train, test in splits:
        assert test[0] == origin
        # row i's target is known at row i + h: every one must be <= the first origin
        assert train.max() + horizon <= origin
        assert train.max() == origin - horizon  # and the purge is no wider than it has to be
        assert test.max() + horizon <= n - 1  # every origin has a known truth
        if window == "sliding":
            assert len(train) == 50
        else:
            assert train[0] == 0
    assert len(splits[0].train) == 50
    # folds tile the test range with no gap and no overlap
    origins = np.concatenate([s.test for s in splits])
    assert np.array_equal(origins, np.arange(origins[0], n - horizon))


def test_step_larger_than_test_leaves_gaps_and_start_origin() -> None:
    splits = list(
        walk_forward_splits(200, horizon=1, initial_train_size=20, test_size=5, step_size=10)
    )
    assert [s.origin for s in splits[:3]] == [20, 30, 40]
    assert all(len(s.test) == 5 for s in splits[:-1])
    late = list(
        walk_forward_splits(200, horizon=1, initial_train_size=20, test_size=5, start_origin=150)
    )
    assert late[0].origin == 150 and len(late[0].train) == 150


def test_wider_purge_is_respected() -> None:
    (first, *_) = walk_forward_splits(100, horizon=2, initial_train_size=10, test_size=5, purge=5)
    assert first.train.max() == first.origin - 5 and len(first.train) == 10


def test_bad_settings_raise_config_errors() -> None:
    with pytest.raises(ConfigError, match="purge must be >= horizon"):
        resolve_purge(7, 3)
    with pytest.raises(ConfigError, match="step_size"):
        list(walk_forward_splits(100, test_size=10, step_size=5))
    with pytest.raises(ConfigError, match="window"):
        train_rows(50, purge=1, window="rolling")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="horizon"):
        list(walk_forward_splits(100, horizon=0))
    assert list(walk_forward_splits(10, initial_train_size=50)) == []
