"""Walk-forward splits with a purge gap: ``(origin, train, test)`` in row positions.

The one splitter: the backtester (and so validation and tuning) and the ensemble's inner folds
all cut rows with it. It lives with the models because a model, the ensemble, splits its own
training rows, and models never import training.

Row ``i`` of a feature frame carries the target ``log(close[i+h] / close[i])``, which becomes
known only at row ``i + h``. At a forecast origin ``t`` a model may therefore be fitted on rows
``i <= t - purge`` with ``purge >= horizon``: no training label reaches past the origin.

* :func:`train_rows` - the rows a model fitted for origin ``t`` may use (expanding or sliding).
* :func:`walk_forward_splits` - folds of ``test_size`` consecutive origins every ``step_size``
  rows; the first fold's model sees exactly ``initial_train_size`` rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from cryptoforecast.exceptions import ConfigError

__all__ = ["Split", "first_origin", "resolve_purge", "train_rows", "walk_forward_splits"]

Window = Literal["expanding", "sliding"]


class Split(NamedTuple):
    """One fold: its first origin, the rows its model may be fitted on, and its origins."""

    origin: int
    train: NDArray[np.intp]
    test: NDArray[np.intp]


def _whole(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def resolve_purge(horizon: int, purge: int | None) -> int:
    """The purge gap in rows: ``horizon`` by default; smaller than ``horizon`` would leak."""
    h = _whole("horizon", horizon, 1)
    if purge is None:
        return h
    p = _whole("purge", purge, 0)
    if p < h:
        raise ConfigError(
            f"purge must be >= horizon ({h}) so no training target reaches past the origin, got "
            f"{purge!r}; leave it as None to use the horizon"
        )
    return p


def first_origin(initial_train_size: int, purge: int) -> int:
    """The first origin whose model sees ``initial_train_size`` rows (``0 .. origin - purge``)."""
    return _whole("initial_train_size", initial_train_size, 1) - 1 + purge


def train_rows(
    origin: int,
    *,
    purge: int,
    window: Window = "expanding",
    train_size: int | None = None,
) -> NDArray[np.intp]:
    """Row positions a model for ``origin`` may be fitted on: up to ``origin - purge`` inclusive.

    ``expanding`` starts at row 0; ``sliding`` keeps the last ``train_size`` of those rows.
    """
    stop = origin - purge + 1
    if stop <= 0:
        raise ConfigError(f"origin {origin} leaves no training rows with purge {purge}")
    if window == "expanding":
        start = 0
    elif window == "sliding":
        if train_size is None:
            raise ConfigError("a sliding window needs train_size (the rows per fit)")
        start = max(0, stop - _whole("train_size", train_size, 1))
    else:
        raise ConfigError(f"window must be 'expanding' or 'sliding', got {window!r}")
    return np.arange(start, stop, dtype=np.intp)


def walk_forward_splits(
    n_rows: int,
    *,
    horizon: int = 1,
    initial_train_size: int = 200,
    test_size: int = 30,
    step_size: int | None = None,
    purge: int | None = None,
    window: Window = "expanding",
    start_origin: int | None = None,
    last_origin: int | None = None,
) -> Iterator[Split]:
    """Yield walk-forward folds over ``n_rows`` rows whose last ``horizon`` targets are unknown.

    Args:
        n_rows: rows of the feature frame (the last ``horizon`` rows cannot be scored).
        horizon: forecast horizon ``h``.
        initial_train_size: rows the first fold's model is fitted on (and the sliding window).
        test_size: consecutive origins per fold (the last fold may be shorter).
        step_size: rows between fold starts (default ``test_size``); must be ``>= test_size`` so
            no origin is forecast twice.
        purge: gap between the last training row and the origin (default and minimum ``h``).
        window: ``"expanding"`` (all earlier rows) or ``"sliding"`` (the last
            ``initial_train_size`` rows).
        start_origin: first origin, if later than the earliest possible one (e.g. to backtest
            only the last N origins).
        last_origin: last origin (default ``n_rows - 1 - horizon``, the last whose target is
            known); rows handed over with their targets already known (an ensemble's training
            rows) may be forecast up to ``n_rows - 1``.

    Yields:
        :class:`Split` ``(origin, train, test)``: every ``train`` row is ``<= origin - purge``,
        so every training target is known at the fold's first (and every later) origin.
    """
    h = _whole("horizon", horizon, 1)
    p = resolve_purge(h, purge)
    size = _whole("test_size", test_size, 1)
    step = size if step_size is None else _whole("step_size", step_size, 1)
    if step < size:
        raise ConfigError(
            f"step_size ({step}) < test_size ({size}) would forecast some origins twice; use "
            "step_size >= test_size"
        )
    earliest = first_origin(initial_train_size, p)
    origin = earliest if start_origin is None else max(earliest, int(start_origin))
    last = n_rows - 1 - h if last_origin is None else min(int(last_origin), n_rows - 1)
    while origin <= last:
        test = np.arange(origin, min(origin + size, last + 1), dtype=np.intp)
        train = train_rows(origin, purge=p, window=window, train_size=initial_train_size)
        yield Split(origin, train, test)
        origin += step
