"""Malformed manifests are ArtifactErrors, and load_forecaster alone refuses edited artifacts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.manifest import MANIFEST
from cryptoforecast.models import make_forecaster
from cryptoforecast.models.catalog import load_forecaster
from tests.models.contract import synthetic_market


@pytest.fixture(scope="module")
def market() -> tuple[Any, Any]:
    X, y = synthetic_market(n=300, horizon=1, seed=11)
    keep = y.notna().to_numpy()
    return X.loc[keep], y.loc[keep]


@pytest.fixture
def lgbm_dir(market: tuple[Any, Any], tmp_path: Path) -> Path:
    model = make_forecaster("lightgbm", horizon=1, n_estimators=10, early_stopping_rounds=5)
    return model.fit(*market).save_model(tmp_path / "lgbm")


def _edit(path: Path, **changes: Any) -> None:
    manifest = json.loads((path / MANIFEST).read_text())
    manifest.update(changes)
    (path / MANIFEST).write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"files": []}, "'files' must be an object"),
        ({"params": []}, "'params' must be a JSON object"),
        ({"conformal": "junk"}, "'conformal' must be a JSON object"),
        ({"horizon": "abc"}, "'horizon' must be a positive integer"),
        ({"horizon": 0}, "'horizon' must be a positive integer"),
        ({"feature_names": "close"}, "'feature_names' must be a list"),
        ({"extra": [1]}, "'extra' must be a JSON object or null"),
        ({"conformal": {"residuals": "x"}}, r"conformal.residuals must be a list of finite"),
    ],
)
def test_malformed_manifests_are_artifact_errors(
    lgbm_dir: Path, changes: dict[str, Any], pattern: str
) -> None:
    _edit(lgbm_dir, **changes)
    with pytest.raises(ArtifactError, match=pattern):
        load_forecaster(lgbm_dir)


def test_edited_weights_are_refused_when_the_manifest_lists_no_files(lgbm_dir: Path) -> None:
    weights = lgbm_dir / "model.txt"
    weights.write_text(weights.read_text().replace("learning_rate", "learning_rate ", 1))
    _edit(lgbm_dir, files={})
    with pytest.raises(ArtifactError, match=r"does not list: \['model.txt'\]"):
        load_forecaster(lgbm_dir)


def test_an_added_file_is_refused(lgbm_dir: Path) -> None:
    (lgbm_dir / "extra.bin").write_bytes(b"\0")
    with pytest.raises(ArtifactError, match=r"does not list: \['extra.bin'\]"):
        load_forecaster(lgbm_dir)
