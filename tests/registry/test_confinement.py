"""Artifacts are read only from inside the artifact root: at registration and again at load.

The stored ``artifact_path``, an ensemble's part paths and a manifest's ``files`` are data that
an attacker with write access to the database or the artifact may have edited; each is resolved
and confined again, and symbolic links anywhere on the way are refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models.catalog import load_forecaster, load_registered
from cryptoforecast.models.ensemble import EnsembleForecaster
from cryptoforecast.registry import ModelRegistry
from cryptoforecast.registry.schema import models
from tests.models.contract import synthetic_market


@pytest.fixture(scope="module")
def market() -> tuple[Any, Any]:
    X, y = synthetic_market(n=400, horizon=1, seed=3)
    keep = y.notna().to_numpy()
    return X.loc[keep], y.loc[keep]


def _save(model: Any, path: Path) -> Path:
    model.save_model(path)
    return path


def _naive(market: tuple[Any, Any]) -> Any:
    from cryptoforecast.models import make_forecaster

    return make_forecaster("naive", horizon=1).fit(*market)


def _set_path(registry: ModelRegistry, model_id: int, stored: str) -> None:
    with registry.engine.begin() as conn:
        conn.execute(
            sa.update(models).where(models.c.model_id == model_id).values(artifact_path=stored)
        )


@pytest.mark.parametrize("stored", ["{outside}", "../outside/copy"])
def test_a_stored_artifact_path_outside_the_root_is_not_loaded(
    registry: ModelRegistry, artifact_root: Path, market: tuple[Any, Any], stored: str
) -> None:
    inside = _save(_naive(market), artifact_root / "bitcoin" / "naive")
    model_id = registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=inside)
    outside = artifact_root.parent / "outside" / "copy"
    shutil.copytree(inside, outside)  # the same files: their hashes match the record
    _set_path(registry, model_id, stored.format(outside=outside))
    with pytest.raises(ArtifactError, match="outside the registry's artifact root"):
        load_registered(registry.get(model_id))


def test_an_artifact_directory_swapped_for_a_symlink_is_not_loaded(
    registry: ModelRegistry, artifact_root: Path, market: tuple[Any, Any]
) -> None:
    inside = _save(_naive(market), artifact_root / "bitcoin" / "naive")
    model_id = registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=inside)
    assert load_registered(registry.get(model_id)).model_type == "naive"
    moved = artifact_root / "elsewhere"
    inside.rename(moved)  # still inside the root, but reached through a link now
    inside.symlink_to(moved, target_is_directory=True)
    with pytest.raises(ArtifactError, match="symbolic link"):
        load_registered(registry.get(model_id))
    (artifact_root / "bitcoin").rename(artifact_root / "real")
    (artifact_root / "bitcoin").symlink_to(artifact_root / "real", target_is_directory=True)
    with pytest.raises(ArtifactError, match="symbolic link"):
        load_registered(registry.get(model_id))


def test_directory_symlinks_are_refused_at_registration(
    registry: ModelRegistry, artifact_root: Path, market: tuple[Any, Any]
) -> None:
    real = _save(_naive(market), artifact_root / "real")
    (artifact_root / "link").symlink_to(real, target_is_directory=True)
    with pytest.raises(ArtifactError, match="symbolic link"):
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path="link")
    (real / "sub").symlink_to(artifact_root, target_is_directory=True)  # a link inside
    with pytest.raises(ArtifactError, match="links to"):
        registry.register_model(model_type="naive", crypto_id="bitcoin", model_path=real)
    assert registry.list_models() == []


def test_manifest_files_outside_the_artifact_are_never_read(
    tmp_path: Path, market: tuple[Any, Any]
) -> None:
    art = _save(_naive(market), tmp_path / "art")
    manifest = json.loads((art / MANIFEST).read_text())
    secret = tmp_path / "secret.txt"
    secret.write_text("not a model file")
    for name in ("../secret.txt", str(secret)):
        manifest["files"] = {name: "0" * 64, **manifest["files"]}
        (art / MANIFEST).write_text(json.dumps(manifest))
        with pytest.raises(ArtifactError, match="outside the artifact"):
            load_forecaster(art)
        manifest["files"].pop(name)


def test_an_ensemble_part_outside_its_artifact_is_not_loaded(
    tmp_path: Path, market: tuple[Any, Any]
) -> None:
    ens = EnsembleForecaster(base_models=["naive", "drift"], inner_folds=2, horizon=1)
    art = _save(ens.fit(*market), tmp_path / "root" / "ensemble")
    shutil.copytree(art / "bases" / "0_naive", tmp_path / "outside" / "base0")
    manifest = json.loads((art / MANIFEST).read_text())
    for path in ("../../outside/base0", str(tmp_path / "outside" / "base0")):
        manifest["extra"]["parts"][0]["path"] = path
        (art / MANIFEST).write_text(json.dumps(manifest))
        with pytest.raises(ArtifactError, match="outside the ensemble artifact"):
            load_forecaster(art)
    (art / "bases" / "link").symlink_to(tmp_path / "outside" / "base0", target_is_directory=True)
    manifest["extra"]["parts"][0]["path"] = "bases/link"
    (art / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="symbolic link|links to"):
        load_forecaster(art)
