"""Where cryptoforecast keeps its files: ``$CRYPTOFORECAST_HOME`` (default ``~/.cache/cryptoforecast``)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["home_dir"]

HOME_ENV = "CRYPTOFORECAST_HOME"


def home_dir(create: bool = True) -> Path:
    """Return the cryptoforecast home directory, read from the environment on every call."""
    raw = os.environ.get(HOME_ENV)
    path = Path(raw).expanduser() if raw else Path.home() / ".cache" / "cryptoforecast"
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
