"""Serving state: what forecasts read from one coin's candles, computed once per candle and kept.

A forecast-cache miss on candles already seen fits nothing: the features of the candles the
point forecast reads, the ``garch_ref`` fit, the baselines every served distribution is kept
beside (``garch_ref`` at location 0, which the fallback distribution is located from, and the
30-day Gaussian) and the technical-analysis fallback's forecast, each per horizon where it
depends on it, are computed the first time and kept in a :class:`CandleState`: by the service's
candle refresher when it fetches a new candle (``Predictor.warm``), else by the first request.
The production model's own forecast from those candles and each served distribution's read-off
(quantiles and probabilities) are kept beside them, in memory only, so a miss does not run the
model or read the distribution off again either.

A state is keyed by (source, coin, interval) and a digest of the candles themselves (every
value and time, and how many rows the point forecast reads), so it is a function of the
candles it was computed from: a new candle, a revised one, or a back-dated forecast's shorter
history reads another state, never one computed from later candles.

:class:`ServingState` keeps the most recently used states in memory (``size`` of them; older
ones are dropped) and, given a ``directory``, the newest state of each series on disk as JSON
(``<directory>/<source>/<coin>_<interval>.json``, written atomically), so the CLI and a
restarted service reuse what another process computed. Only plain numbers are stored (no
features, no fitted model): the technical forecast and the baselines by horizon. A file that
cannot be read, fails validation or was computed from other candles is ignored and recomputed,
never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from cryptoforecast.data.cache import atomic_write_bytes
from cryptoforecast.exceptions import DataError
from cryptoforecast.redaction import redact
from cryptoforecast.serving.distribution import Baselines, ReferenceFit, ServedDistribution
from cryptoforecast.serving.point_forecast import Bands
from cryptoforecast.serving.schemas import ForecastDistribution

__all__ = ["STATE_FORMAT", "CandleContents", "CandleState", "ServingState", "candle_digest"]

log = logging.getLogger(__name__)

#: the version of the on-disk form; a file of another version is ignored
STATE_FORMAT = 1
#: states kept in memory by default (each holds one feature frame of a few hundred rows)
STATE_SIZE = 32

#: a series' identity: (source, crypto_id, interval)
SeriesKey = tuple[str, str, str]


def candle_digest(candles: pd.DataFrame, point_rows: int) -> str:
    """A digest of ``candles`` (times, column names and every value) and of ``point_rows``,
    the rows the point forecast reads: equal digests mean the same inputs."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{point_rows}|{','.join(map(str, candles.columns))}".encode())
    h.update(np.ascontiguousarray(candles.index.asi8).tobytes())
    h.update(np.ascontiguousarray(candles.to_numpy(dtype="float64", na_value=np.nan)).tobytes())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class CandleContents:
    """A copy of what :func:`candle_digest` reads from candles (column names, times, every value
    as float64), compared value by value: equal contents mean equal digests, without hashing
    (a compare costs a fraction of a digest), and a later change to the frame cannot change it."""

    columns: tuple[str, ...]
    times: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, candles: pd.DataFrame) -> CandleContents:
        return cls(
            tuple(map(str, candles.columns)),
            np.array(candles.index.asi8, copy=True),
            np.array(candles.to_numpy(dtype="float64", na_value=np.nan), copy=True),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CandleContents):
            return NotImplemented
        return (
            self.columns == other.columns
            and np.array_equal(self.times, other.times)
            and np.array_equal(self.values, other.values, equal_nan=True)
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass
class CandleState:
    """What is computed once from one series' candles (identified by ``digest``): the point
    forecast's ``features``, the ``garch_ref`` fit (``reference``), the baselines and the
    technical-analysis forecast by horizon. ``None`` or a missing horizon: not computed yet.

    In memory only: ``points``, a production model's forecast by (model id, artifact) for a
    model that reads these candles alone (not a global model, which reads other coins too), and
    ``served``, each served distribution as read off (quantiles, probabilities) by what served
    it, at which location and thresholds, and from which 4h candles."""

    digest: str
    last_candle: pd.Timestamp
    features: pd.DataFrame | None = None
    reference: ReferenceFit | None = None
    baselines: dict[int, Baselines] = field(default_factory=dict)
    technical: dict[int, tuple[float, Bands]] = field(default_factory=dict)
    points: dict[tuple[int, str], tuple[float, Bands]] = field(default_factory=dict)
    served: dict[tuple[Any, ...], ServedDistribution] = field(default_factory=dict)


class _Technical(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    point: float
    bands: list[tuple[float, float, float]]  # (coverage, lower, upper)


class _Baselines(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reference: ForecastDistribution | None
    gaussian: ForecastDistribution | None


class _StateFile(BaseModel):
    """The on-disk form of a :class:`CandleState` (its plain numbers only)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    format: int
    source: str
    crypto_id: str
    interval: str
    digest: str
    last_candle: str
    baselines: dict[int, _Baselines]
    technical: dict[int, _Technical]


def _finite(dist: ForecastDistribution | None) -> bool:
    if dist is None:
        return True
    numbers = (dist.location, dist.scale, dist.shape.scale, *dist.shape.scores)
    return all(math.isfinite(v) for v in numbers) and (
        dist.shape.df is None or math.isfinite(dist.shape.df)
    )


class ServingState:
    """The kept :class:`CandleState` objects: in memory (the ``size`` most recently used) and,
    given ``directory``, the newest of each series on disk (see the module docstring)."""

    def __init__(self, size: int = STATE_SIZE, directory: str | Path | None = None) -> None:
        if size < 1:
            raise DataError(f"the serving state keeps at least 1 entry; got size={size!r}")
        self.size = int(size)
        self.directory = Path(directory) if directory is not None else None
        self._states: OrderedDict[tuple[SeriesKey, str], CandleState] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._states)

    def clear(self) -> None:
        """Forget every state kept in memory (the files stay)."""
        with self._lock:
            self._states.clear()

    def get(self, series: SeriesKey, candles: pd.DataFrame, point_rows: int) -> CandleState:
        """The state of ``candles`` of ``series``: kept in memory, else read from disk when
        the file there was computed from the same candles, else a new, empty one."""
        digest = candle_digest(candles, point_rows)
        key = (series, digest)
        with self._lock:
            hit = self._states.get(key)
            if hit is not None:
                self._states.move_to_end(key)
                return hit
        state = self._read(series, digest) or CandleState(digest, candles.index[-1])
        with self._lock:
            state = self._states.setdefault(key, state)
            self._states.move_to_end(key)
            while len(self._states) > self.size:
                self._states.popitem(last=False)
        return state

    # -- disk ----------------------------------------------------------------------------------
    def path(self, series: SeriesKey) -> Path | None:
        """The file of ``series`` (``None`` without a directory); each part a plain name."""
        if self.directory is None:
            return None
        source, crypto_id, interval = series
        for part in series:
            if not part or "/" in part or "\\" in part or part.startswith("."):
                raise DataError(f"{part!r} cannot name a serving-state file: use a plain name")
        return self.directory / source / f"{crypto_id}_{interval}.json"

    def _read(self, series: SeriesKey, digest: str) -> CandleState | None:
        path = self.path(series)
        if path is None:
            return None
        try:
            if not path.is_file():  # (a directory the process may not read raises here)
                return None
            stored = _StateFile.model_validate_json(path.read_bytes())
            if (stored.format, stored.digest) != (STATE_FORMAT, digest):
                return None  # another version, or other candles: computed again
            if (stored.source, stored.crypto_id, stored.interval) != series:
                raise DataError(f"the file names another series: {stored.crypto_id!r}")
            if not all(
                _finite(b.reference) and _finite(b.gaussian) for b in stored.baselines.values()
            ):
                raise DataError("a stored baseline is not finite")
            return CandleState(
                digest,
                pd.Timestamp(stored.last_candle),
                baselines={
                    h: Baselines(b.reference, b.gaussian) for h, b in stored.baselines.items()
                },
                technical={
                    h: (t.point, {c: (lo, hi) for c, lo, hi in t.bands})
                    for h, t in stored.technical.items()
                },
            )
        except (OSError, ValueError, ValidationError, DataError) as exc:
            log.warning("ignoring the serving state of %s: %s", "/".join(series), redact(exc))
            return None

    def save(self, series: SeriesKey, state: CandleState) -> None:
        """Write the plain numbers of ``state`` as the newest state of ``series`` (atomically;
        a failure is logged, the state in memory still serves)."""
        path = self.path(series)
        if path is None:
            return
        stored = _StateFile(
            format=STATE_FORMAT,
            source=series[0],
            crypto_id=series[1],
            interval=series[2],
            digest=state.digest,
            last_candle=state.last_candle.isoformat(),
            baselines={
                h: _Baselines(reference=b.reference, gaussian=b.gaussian)
                for h, b in state.baselines.items()
            },
            technical={
                h: _Technical(point=p, bands=[(c, lo, hi) for c, (lo, hi) in bands.items()])
                for h, (p, bands) in state.technical.items()
            },
        )
        try:
            atomic_write_bytes(path, json.dumps(stored.model_dump(mode="json")).encode())
        except (OSError, ValueError) as exc:
            log.warning("cannot keep the serving state of %s: %s", "/".join(series), redact(exc))
