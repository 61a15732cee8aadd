"""Checked values for the registry: key parts, versions, model ids, and JSON for its columns.

Plain functions, so anything that builds a registry key (the registry, the training pipeline,
the CLI) checks it the same way; each raises :class:`RegistryError` naming the value and what is
allowed.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from cryptoforecast.assets import resolve_asset
from cryptoforecast.exceptions import DataError, RegistryError
from cryptoforecast.registry.kinds import KINDS

__all__ = [
    "MAX_HORIZON",
    "MAX_MODEL_ID",
    "jsonable",
    "next_version",
    "norm_crypto",
    "norm_horizon",
    "norm_kind",
    "norm_type",
]

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
_VERSION_RE = re.compile(r"^\d+(\.\d+)*$")
#: the largest horizon a record may carry (candles ahead); more is a typo, not a forecast
MAX_HORIZON = 10_000
#: model ids are 64-bit integers in the database
MAX_MODEL_ID = 2**63 - 1


def norm_crypto(crypto_id: str | None) -> str:
    if not isinstance(crypto_id, str) or not crypto_id.strip():
        raise RegistryError(
            f"crypto_id must be a non-empty string such as 'bitcoin', got {crypto_id!r}"
        )

    try:
        return resolve_asset(crypto_id).id
    except DataError:
        name = crypto_id.strip().lower()
        if not _NAME_RE.match(name):
            raise RegistryError(
                f"crypto_id {crypto_id!r} is not a known asset nor a valid id "
                "(lowercase letters, digits, '-', '_', '.'); use e.g. 'bitcoin'"
            ) from None
        return name


def norm_type(model_type: str | None) -> str:
    name = model_type.strip().lower() if isinstance(model_type, str) else ""
    if not _NAME_RE.match(name):
        raise RegistryError(
            f"model_type must be a short lowercase name such as 'lightgbm', got {model_type!r}"
        )
    return name


def norm_kind(kind: Any) -> str:
    if not isinstance(kind, str) or kind not in KINDS:
        raise RegistryError(
            f"kind must be one of {', '.join(KINDS)} (or omitted for both), got {kind!r:.40}"
        )
    return kind


def norm_horizon(horizon: Any) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, int) or not 1 <= horizon <= MAX_HORIZON:
        raise RegistryError(
            f"horizon must be a positive integer (candles ahead) of at most {MAX_HORIZON}, "
            f"got {horizon!r:.40}"
        )
    return int(horizon)


def jsonable(value: Any) -> Any:
    """Plain JSON types for numpy/pandas values; non-finite floats become None (JSON has no NaN)."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_dict") and callable(value.to_dict):  # pandas Series / DataFrame
        return jsonable(value.to_dict())
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars
        return jsonable(value.tolist())
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def next_version(existing: list[str]) -> str:
    """Bump the minor part of the highest numeric version (``1.2.3 -> 1.3.0``); ``1.0.0`` first."""
    numeric = [tuple(int(p) for p in v.split(".")) for v in existing if _VERSION_RE.match(v)]
    if not numeric:
        candidate = "1.0.0"
    else:
        top = max(numeric)
        if len(top) == 1:
            candidate = str(top[0] + 1)
        else:
            candidate = ".".join(map(str, (top[0], top[1] + 1, *([0] * (len(top) - 2)))))
    while candidate in existing:  # a non-numeric clash cannot happen, but stay safe
        candidate += ".1"
    return candidate
