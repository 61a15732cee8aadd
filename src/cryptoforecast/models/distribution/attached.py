"""A distribution stored inside a point model's artifact, under ``distribution/``.

The point model's ``save_artifact`` calls :func:`save_attached` while its temporary directory is
open, so the distribution's files (``distribution/manifest.json``, ``distribution.json`` and, for
``lightgbm_vol``, the LightGBM text) are listed and sha256-hashed in the point model's manifest
like its weights, and registered with it: one model version, one artifact. The point manifest's
``extra["distribution"]`` names the scale model; :func:`load_attached` reads it back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.distribution.forecaster import DistributionForecaster

__all__ = ["DISTRIBUTION_DIR", "load_attached", "save_attached"]

DISTRIBUTION_DIR = "distribution"


def save_attached(distribution: DistributionForecaster | None, directory: Path) -> dict[str, Any]:
    """Save ``distribution`` into ``directory/distribution``; the manifest entry to record."""
    if distribution is None:
        return {}
    distribution.save(Path(directory) / DISTRIBUTION_DIR)
    return {
        "distribution": {
            "path": DISTRIBUTION_DIR,
            "volatility": distribution.volatility,
            "horizon": int(distribution.horizon),
            "train_end": distribution.train_end_,
        }
    }


def load_attached(directory: Path, extra: dict[str, Any]) -> DistributionForecaster | None:
    """The distribution recorded in a point manifest's ``extra``, or ``None`` when it has none."""
    info = extra.get("distribution")
    if not info:
        return None
    if not isinstance(info, dict) or info.get("path") != DISTRIBUTION_DIR:
        raise ArtifactError(
            f"{directory}: the manifest's distribution entry {info!r:.200} is not one this "
            f"version writes (path {DISTRIBUTION_DIR!r}); retrain the model"
        )
    return DistributionForecaster.load(Path(directory) / DISTRIBUTION_DIR)
