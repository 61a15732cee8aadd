"""A registration that fails after its artifact was saved, at any step up to the commit, leaves
no artifact behind (and no row)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa


def _save_fake(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text('{"model_type": "fake"}')
    (path / "weights.bin").write_bytes(path.name.encode())


def test_a_failing_commit_leaves_no_artifact_behind(registry) -> None:  # noqa: ANN001
    """The saved directory is removed when the transaction fails after the save, at the commit
    too (not only when the insert fails)."""
    registry.list_models()  # the schema exists before the commit is made to fail

    def refuse(conn: Any) -> None:
        raise OSError("connection lost at commit")

    sa.event.listen(registry.engine, "commit", refuse)
    try:
        with pytest.raises(OSError, match="at commit"):
            registry.register_saved(_save_fake, "lightgbm", "bitcoin")
    finally:
        sa.event.remove(registry.engine, "commit", refuse)
    assert registry.list_models() == []
    assert not any(p.is_file() for p in registry.artifact_root.rglob("*"))


def test_a_retried_commit_keeps_only_the_artifact_of_the_attempt_that_committed(
    registry,  # noqa: ANN001
) -> None:
    """A transient conflict at the commit retries the whole registration: the directory saved
    by the failed attempt is removed, the committed one is kept and verifies."""
    import sqlite3

    registry.list_models()
    failures = [
        sa.exc.OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))
    ]

    def conflict_once(conn: Any) -> None:
        if failures:
            raise failures.pop()

    sa.event.listen(registry.engine, "commit", conflict_once)
    try:
        model_id = registry.register_saved(_save_fake, "lightgbm", "bitcoin")
    finally:
        sa.event.remove(registry.engine, "commit", conflict_once)
    assert not failures  # the conflict happened and was retried
    rec = registry.get(model_id)
    rec.verify()
    manifests = list(registry.artifact_root.rglob("manifest.json"))
    assert [p.parent for p in manifests] == [rec.artifact_path]
