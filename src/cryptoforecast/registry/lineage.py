"""Lineage of a trained model: which data, which features, which config, which code.

:func:`compute_lineage` returns a plain JSON-able dict that the registry stores beside each model,
so a forecast can always be traced back to the candles and code that produced its model::

    {"data_source": "snapshot", "interval": "1d", "n_candles": 2750,
     "first_candle": "2018-03-17T00:00:00+00:00", "last_candle": "2025-09-30T00:00:00+00:00",
     "data_hash": "sha256:...", "features": ["rsi_14", ...], "feature_hash": "sha256:...",
     "config_hash": "sha256:...", "trained_at": "2025-10-01T12:00:00+00:00",
     "package_version": "0.1.0", "python_version": "3.11.7", "git_commit": "0804487..." | None}
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptoforecast import __version__
from cryptoforecast.exceptions import RegistryError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["compute_lineage", "config_hash", "frame_hash", "feature_hash", "git_commit"]


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def frame_hash(frame: pd.DataFrame) -> str:
    """A stable content hash of a candle (or feature) frame: index, column names and values.

    The index is hashed as UTC epoch microseconds, numeric columns as float64 bytes, anything
    else as its string form, so the hash does not depend on the pandas datetime unit.
    """
    import numpy as np
    import pandas as pd

    h = hashlib.sha256()
    index = frame.index
    if isinstance(index, pd.DatetimeIndex):
        idx = index.tz_convert("UTC") if index.tz is not None else index
        h.update(np.asarray(idx.as_unit("us").asi8, dtype="<i8").tobytes())
    else:
        h.update("\x1f".join(map(str, index)).encode())
    for col in frame.columns:
        h.update(b"\x1e" + str(col).encode())
        series = frame[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            h.update(
                np.asarray(series.to_numpy(dtype="float64", na_value=np.nan), dtype="<f8").tobytes()
            )
        else:
            h.update("\x1f".join(map(str, series.tolist())).encode())
    return "sha256:" + h.hexdigest()


def feature_hash(features: Iterable[str]) -> str:
    """Hash of an ordered feature list (order matters: models see columns by position)."""
    return _sha256("\n".join(str(f) for f in features).encode())


def config_hash(config: Mapping[str, Any] | None) -> str:
    """Hash of a config mapping, independent of key order."""
    text = json.dumps(dict(config or {}), sort_keys=True, default=str, separators=(",", ":"))
    return _sha256(text.encode())


def git_commit(repo_dir: str | Path | None = None, timeout: float = 5.0) -> str | None:
    """The ``git rev-parse HEAD`` of ``repo_dir`` (default: this package's source tree).

    Returns None when git is missing, the directory is not a checkout (an installed wheel), or
    the command does not answer within ``timeout`` seconds.
    """
    cwd = Path(repo_dir) if repo_dir is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    if out.returncode != 0 or len(commit) < 40:
        return None
    return commit


def compute_lineage(
    candles: pd.DataFrame | None = None,
    features: pd.DataFrame | Iterable[str] | None = None,
    config: Mapping[str, Any] | None = None,
    *,
    data_source: str | None = None,
    interval: str | None = None,
    trained_at: datetime | None = None,
    repo_dir: str | Path | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Describe where a model came from, as a JSON-able dict (see the module docstring).

    Parameters
    ----------
    candles
        The candle frame the model was trained on (UTC ``timestamp`` index). Gives first/last
        candle, count and ``data_hash``. ``data_source``/``interval`` default to
        ``candles.attrs["source"]``/``["interval"]`` when present.
    features
        The feature frame (its columns are used) or the ordered list of feature names.
    config
        The model/training config; only its hash is stored here (the registry keeps the config).
    trained_at
        When training finished (default: now, UTC).
    repo_dir
        Where to ask git for the commit (default: this package's source directory).
    extra
        More keys to merge in (e.g. ``{"train_end": ...}``); they may not overwrite computed ones.
    """
    lineage: dict[str, Any] = {
        "data_source": data_source,
        "interval": interval,
        "n_candles": None,
        "first_candle": None,
        "last_candle": None,
        "data_hash": None,
        "features": None,
        "feature_hash": None,
        "config_hash": config_hash(config),
        "trained_at": (trained_at or datetime.now(UTC)).astimezone(UTC).isoformat(),
        "package_version": __version__,
        "python_version": platform.python_version(),
        "git_commit": git_commit(repo_dir),
    }
    if candles is not None:
        attrs = getattr(candles, "attrs", {}) or {}
        lineage["data_source"] = data_source or attrs.get("source")
        lineage["interval"] = interval or attrs.get("interval")
        lineage["n_candles"] = len(candles)
        if len(candles):
            lineage["first_candle"] = _iso(candles.index[0])
            lineage["last_candle"] = _iso(candles.index[-1])
        lineage["data_hash"] = frame_hash(candles)
    if features is not None:
        names = [str(c) for c in (features.columns if hasattr(features, "columns") else features)]
        lineage["features"] = names
        lineage["feature_hash"] = feature_hash(names)
    for key, value in (extra or {}).items():
        if key in lineage and lineage[key] is not None:
            raise RegistryError(
                f"lineage extra key {key!r} would overwrite a computed value "
                f"({lineage[key]!r}); pass it under another name"
            )
        lineage[key] = value
    return lineage


def _iso(value: Any) -> str:
    """ISO-8601 text for a timestamp-like value (UTC when tz-aware)."""
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)
