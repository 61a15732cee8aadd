"""Checks of the values read back from a saved artifact, before any of them is used.

A hash proves a file is the one registered, not that it was written right: an artifact saved by
a broken version, or edited and registered afterwards, passes every sha256 check. So each number,
list and name read from a manifest or state file is checked here (finite, in range, of the right
length and type) and refused with an :class:`ArtifactError` naming the file, the field, the value
received and the fix, e.g.::

    .../manifest.json: conformal.residuals must be finite numbers with |x| <= 20, got
    [1e+308, -1e+308, ...] (1e+308 at index 0); the artifact is corrupt or was written wrong.
    Restore it from a backup or retrain the model.

``where`` is the file (or its description) and ``field`` the dotted path of the value in it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cryptoforecast.exceptions import ArtifactError

__all__ = [
    "MAX_ABS_LOG_RETURN",
    "MAX_ABS_SCORE",
    "refuse",
    "stored_choice",
    "stored_fraction_map",
    "stored_names",
    "stored_number",
    "stored_numbers",
    "stored_object",
    "stored_params",
    "stored_whole",
]

#: the largest |log return| a stored value in log-return units may hold (residuals, a drift, an
#: intercept): e^20 is a 485-million-fold move, beyond any market and far inside a float's range
MAX_ABS_LOG_RETURN = 20.0
#: the largest |standardised residual| a stored shape or calibrator may hold
MAX_ABS_SCORE = 1e4

Where = str | Path


def _shown(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= 120 else f"{text[:117]}..."


def refuse(where: Where, field: str, wanted: str, value: Any, detail: str = "") -> ArtifactError:
    """The error for ``field`` of ``where`` holding ``value`` instead of ``wanted``."""
    return ArtifactError(
        f"{where}: {field} must be {wanted}, got {_shown(value)}{detail}; the artifact is corrupt "
        "or was written wrong. Restore it from a backup or retrain the model."
    )


def _bounds(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    if low is not None and high is not None and low == -high and not (low_open or high_open):
        return f" with |x| <= {high:g}"
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def stored_number(
    value: Any,
    where: Where,
    field: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float in ``[low, high]`` (either end open with ``low_open`` or
    ``high_open``; ``None``: unbounded)."""
    ok = _is_real(value) and math.isfinite(float(value))
    if ok and low is not None:
        ok = float(value) > low if low_open else float(value) >= low
    if ok and high is not None:
        ok = float(value) < high if high_open else float(value) <= high
    if not ok:
        wanted = f"a finite number{_bounds(low, high, low_open, high_open)}"
        raise refuse(where, field, wanted, value)
    return float(value)


def stored_whole(
    value: Any, where: Where, field: str, *, low: int | None = None, high: int | None = None
) -> int:
    """``value`` as an int in ``[low, high]`` (a float such as ``3.0`` is refused too)."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise refuse(where, field, f"a whole number{_bounds(low, high, False)}", value)
    return int(value)


def stored_numbers(
    value: Any,
    where: Where,
    field: str,
    *,
    length: int | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> np.ndarray:
    """``value`` (a list of numbers) as a float64 array, each finite and in range; of ``length``
    elements when given."""
    count = "" if length is None else f"{length} "
    wanted = f"a list of {count}finite numbers{_bounds(low, high, low_open)}"
    if not isinstance(value, list | tuple | np.ndarray):
        raise refuse(where, field, wanted, value)
    if length is not None and len(value) != length:
        raise refuse(where, field, wanted, value, f" ({len(value)} elements)")
    for i, item in enumerate(value):
        try:
            stored_number(item, where, field, low=low, high=high, low_open=low_open)
        except ArtifactError:
            raise refuse(where, field, wanted, value, f" ({_shown(item)} at index {i})") from None
    return np.asarray(value, dtype="float64").reshape(-1)


def stored_object(value: Any, where: Where, field: str) -> dict[str, Any]:
    """``value`` as a JSON object (a dict)."""
    if not isinstance(value, dict):
        raise refuse(where, field, "a JSON object", value)
    return value


def stored_fraction_map(value: Any, where: Where, field: str, keys: str) -> dict[float, float]:
    """A JSON object keyed by fractions in (0, 1) (quantile ``levels``, ``coverages``), each value
    a finite number: ``{"0.1": 0.09}`` -> ``{0.1: 0.09}``."""
    out: dict[float, float] = {}
    for key, number in stored_object(value, where, field).items():
        try:
            fraction = float(key)
        except ValueError:
            fraction = math.nan
        if not 0.0 < fraction < 1.0:
            raise refuse(where, field, f"keyed by {keys} in (0, 1)", key)
        out[fraction] = stored_number(number, where, f"{field}[{key!r}]")
    return out


def stored_names(value: Any, where: Where, field: str, *, allow_empty: bool = False) -> list[str]:
    """``value`` as a list of distinct non-empty strings (non-empty unless ``allow_empty``)."""
    ok = (
        isinstance(value, list)
        and (allow_empty or len(value) > 0)
        and all(isinstance(v, str) and v for v in value)
        and len(set(value)) == len(value)
    )
    if not ok:
        wanted = "a list of distinct names" if allow_empty else "a non-empty list of distinct names"
        raise refuse(where, field, wanted, value)
    return list(value)


def stored_choice(value: Any, where: Where, field: str, choices: Sequence[str]) -> str:
    """``value`` as one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise refuse(where, field, f"one of {', '.join(map(repr, choices))}", value)
    return value


def stored_params(cls: type, params: Any, where: Where, field: str = "params") -> dict[str, Any]:
    """``params`` as keyword arguments of ``cls``: a JSON object of parameters ``cls`` takes,
    each of the kind of its default (a finite number for a number, a string for a string, true or
    false for a flag; a ``None`` default accepts anything)."""
    params = stored_object(params, where, field)
    signature = inspect.signature(cls).parameters
    for name, value in params.items():
        if name not in signature:
            raise refuse(where, field, f"parameters of {cls.__name__}", name, " (unknown)")
        default = signature[name].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise refuse(where, f"{field}.{name}", "true or false", value)
        elif isinstance(default, int | float):
            stored_number(value, where, f"{field}.{name}")
        elif isinstance(default, str) and not isinstance(value, str):
            raise refuse(where, f"{field}.{name}", "a string", value)
    return params
