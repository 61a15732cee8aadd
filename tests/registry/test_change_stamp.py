"""The registry's change stamp: a number every write moves, in the same transaction, so a reader
that keeps production lookups (the serving predictor) asks the database one tiny question per
request and sees a change made by any process at once; reads leave it alone, and a write that
fails changes nothing, the stamp included."""

from __future__ import annotations

from pathlib import Path

import pytest

from cryptoforecast.exceptions import RegistryError
from cryptoforecast.registry import ModelRegistry

from .registry_helpers import write_artifact


def test_every_write_moves_the_stamp_and_reads_do_not(
    registry: ModelRegistry, registry_url: str, artifact_root: Path
) -> None:
    start = registry.change_stamp()
    registry.list_models()
    registry.get_production_model("bitcoin", horizon=1)
    assert registry.change_stamp() == start

    write_artifact(artifact_root, "bitcoin/lgbm/a")
    model_id = registry.register_model(
        model_type="lightgbm", crypto_id="bitcoin", model_path="bitcoin/lgbm/a"
    )
    registered = registry.change_stamp()
    assert registered != start

    registry.promote(model_id, "test", force=True)
    promoted = registry.change_stamp()
    assert promoted not in (start, registered)

    # another registry object on the same database (as another process) sees the same stamp,
    # and its writes move the first one's
    other = ModelRegistry(registry_url, artifact_root=artifact_root, actor="other")
    try:
        assert other.change_stamp() == promoted
        other.demote(model_id, "test")
        assert registry.change_stamp() not in (start, registered, promoted)
    finally:
        other.close()


def test_a_failed_write_leaves_the_stamp_unchanged(registry: ModelRegistry) -> None:
    start = registry.change_stamp()
    with pytest.raises(RegistryError):
        registry.demote(999_999, "no such model")
    assert registry.change_stamp() == start


def test_a_failing_quick_read_asks_again_through_a_transaction(
    registry: ModelRegistry, artifact_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_artifact(artifact_root, "bitcoin/lgbm/a")
    registry.register_model(model_type="lightgbm", crypto_id="bitcoin", model_path="bitcoin/lgbm/a")
    expected = registry.change_stamp()
    assert expected != 0

    from cryptoforecast.registry import database

    monkeypatch.setattr(database, "CHANGES_SQL", "SELECT no_such_column FROM registry_meta")
    assert registry.change_stamp() == expected
