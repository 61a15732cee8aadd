"""The combination candidate: a weighted quantile average of member distributions, its weights
fitted walk-forward on the members' past CRPS only.

::

    weights = combination_weights(member_crps, horizon=7)      # per origin, from past CRPS only
    combo = CombinedDistribution(members, fitted_weights(member_crps)).fit(market)
    q = combo.predict_quantiles(market)                        # every row
    pred = combo.predict_distribution(market, location)        # the last row, as a forecast serves

**The weights.** At origin ``t`` the weight of member ``i`` is proportional to
``(m_min / m_i) ** sharpness``, ``m_i`` its mean CRPS over the last ``window`` origins whose
targets are known at ``t`` and at which every member was scored, ``m_min`` the smallest of them;
equal weights until ``min_scored`` such origins exist. This is the exponentiated negative log
mean CRPS (a softmax with temperature ``1 / sharpness``) and it is chosen because it is:

* scale-free: CRPS is in log-return units and moves with the volatility regime; ratios do not;
* close to equal weights where the evidence is thin: with ``sharpness`` 10, a member 1% worse
  keeps 0.99 ** 10 = 90% of the best member's weight and one 5% worse 61% (equal weights are hard
  to beat when members differ by noise: the forecast-combination puzzle), while a member twice as
  bad gets a thousandth of it (it drops out);
* computed from per-member scores only (no optimisation on the period being scored, nothing to
  overfit); the quantile average of members this close in CRPS is better than each of them, and
  the weights only have to keep a clearly worse member out.

**The quantiles.** The combination's ``tau``-quantile is ``sum_i w_i q_i(tau)``: monotone in
``tau`` because each member's is and the weights are non-negative, so quantiles never cross.

**The served distribution.** A :class:`PredictiveDistribution` has one shape for all its rows,
and the combination's standardised shape changes from row to row (as the members' scales move
against each other), so :meth:`CombinedDistribution.predict_distribution` gives the last row only
(what a forecast serves): location ``mu``, scale the weighted average of the members' scales, and
an ``"empirical"`` :class:`StandardShape` whose :data:`SHAPE_SCORES` scores are the combination's
standardised quantiles on a grid chosen so that the shape's conformal rank rule reads them back
exactly at :data:`QUANTILES` and within a 0.001 step elsewhere (see :func:`shape_levels`).

Saved as a directory: ``manifest.json`` (format :data:`COMBINATION_FORMAT`, the members in order, the sha256
of every file below it), ``weights.json`` and ``members/<k>/``, each a
:class:`DistributionForecaster` artifact. No pickle. :func:`load_distribution` reads either kind.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cryptoforecast.exceptions import ArtifactError, ConfigError, DataError, NotFittedError
from cryptoforecast.manifest import MANIFEST, load_manifest_file
from cryptoforecast.models.artifacts import file_sha256, staged_directory, write_manifest
from cryptoforecast.models.distribution.forecaster import DistributionForecaster
from cryptoforecast.models.distribution.shapes import (
    QUANTILES,
    PredictiveDistribution,
    StandardShape,
    check_levels,
    coverage_levels,
)
from cryptoforecast.models.distribution.volatility import MarketData
from cryptoforecast.models.stored_values import (
    refuse,
    stored_number,
    stored_object,
    stored_whole,
)
from cryptoforecast.paths import confine, list_files

__all__ = [
    "COMBINATION",
    "COMBINATION_LEVELS",
    "COMBINATION_FORMAT",
    "COMBINATION_MIN_SCORED",
    "SHAPE_SCORES",
    "COMBINATION_SHARPNESS",
    "COMBINATION_WINDOW",
    "CombinedDistribution",
    "StoredDistribution",
    "combination_weights",
    "fitted_weights",
    "load_distribution",
    "shape_levels",
]

#: what a combination reports as its scale model (``volatility``)
COMBINATION = "combination"
#: the artifact format of a saved combination
COMBINATION_FORMAT = "cryptoforecast-distribution-combination/1"
#: scored origins needed before the weights leave equal
COMBINATION_MIN_SCORED = 60
#: scored origins the mean CRPS of each member is taken over (the most recent ones)
COMBINATION_WINDOW = 365
#: how fast a worse member's weight falls: ``(m_min / m_i) ** COMBINATION_SHARPNESS``
COMBINATION_SHARPNESS = 10.0
#: the quantile levels member walks are taken at for a combination to be scored on: 0.005 to
#: 0.995 in steps of 0.005 (199 levels, :data:`QUANTILES` among them); the CRPS integrated over
#: them is within 0.05% of the exact CRPS (a little above it for the Gaussian and Student-t
#: shapes measured)
COMBINATION_LEVELS: tuple[float, ...] = tuple(round(0.005 * k, 3) for k in range(1, 200))
#: standardised quantiles the served shape of a combination holds
SHAPE_SCORES = 999
WEIGHTS_FILE = "weights.json"
MEMBERS_DIR = "members"
_WEIGHT_SUM_TOLERANCE = 1e-6
_TINY_CRPS = 1e-300


# -- weights --------------------------------------------------------------------------------
def _check_rule(min_scored: int, window: int | None, sharpness: float) -> None:
    if isinstance(min_scored, bool) or not isinstance(min_scored, int) or min_scored < 1:
        raise ConfigError(f"min_scored must be a whole number >= 1, got {min_scored!r}; e.g. 60")
    if window is not None and (
        isinstance(window, bool) or not isinstance(window, int) or window < min_scored
    ):
        raise ConfigError(
            f"window must be None (every scored origin) or a whole number >= min_scored "
            f"({min_scored}), got {window!r}; e.g. {COMBINATION_WINDOW}"
        )
    if not (isinstance(sharpness, int | float) and math.isfinite(sharpness) and sharpness >= 0):
        raise ConfigError(f"sharpness must be a finite number >= 0, got {sharpness!r}; e.g. 10")


def _crps_values(crps: pd.DataFrame) -> NDArray[np.float64]:
    if not isinstance(crps, pd.DataFrame) or crps.shape[1] == 0:
        raise DataError(
            f"crps must be a DataFrame with one column per member, got {type(crps).__name__} "
            f"{getattr(crps, 'shape', '')}"
        )
    if not crps.columns.is_unique:
        raise DataError(f"member names must be distinct, got {list(crps.columns)}")
    if not (crps.index.is_unique and crps.index.is_monotonic_increasing):
        raise DataError("crps rows must be origins in increasing order, each once")
    values = crps.to_numpy(dtype="float64")
    known = values[~np.isnan(values)]
    if np.any(~np.isfinite(known) | (known < 0)):
        raise DataError(
            f"CRPS must be finite and >= 0 (NaN where not scored), got e.g. "
            f"{known[~np.isfinite(known) | (known < 0)][:3].tolist()}"
        )
    return values


def _weights_from_means(means: NDArray[np.float64], sharpness: float) -> NDArray[np.float64]:
    """Rows of weights ``(m_min / m_i) ** sharpness``, normalised; ``means`` ``(n, k)``."""
    log_m = np.log(np.maximum(means, _TINY_CRPS))
    logits = -float(sharpness) * (log_m - log_m.min(axis=1, keepdims=True))
    w = np.exp(logits)  # the best member has exp(0) = 1, so every row sums to >= 1
    return np.asarray(w / w.sum(axis=1, keepdims=True), dtype="float64")


def combination_weights(
    crps: pd.DataFrame,
    horizon: int,
    *,
    min_scored: int = COMBINATION_MIN_SCORED,
    window: int | None = COMBINATION_WINDOW,
    sharpness: float = COMBINATION_SHARPNESS,
) -> pd.DataFrame:
    """The members' weights to use at each origin, from the CRPS of earlier origins only.

    ``crps`` has a row per origin (increasing) and a column per member, each value that member's
    CRPS at that origin (NaN where it was not scored). The weights in row ``t`` read only rows at
    least ``horizon`` rows before it: the ``h``-day target of an origin is known ``h`` daily
    candles later, so the rows must be consecutive daily candles (the walk's origins) or a subset
    of them in order (then the rule is only more cautious). Of those rows, it uses the last
    ``window`` (``None``: all) at which every member was scored, and gives equal weights until
    ``min_scored`` of them exist; then ``(m_min / m_i) ** sharpness``, normalised (see the module
    docstring for why). Every row is non-negative and sums to 1.
    """
    values = _crps_values(crps)
    h = int(horizon)
    if h < 1:
        raise ConfigError(f"horizon must be a whole number of days >= 1, got {horizon!r}")
    _check_rule(min_scored, window, sharpness)
    n, k = values.shape
    complete = np.isfinite(values).all(axis=1)
    scored_at = np.flatnonzero(complete)
    prefix = np.vstack([np.zeros((1, k)), np.cumsum(values[complete], axis=0)])
    # scored rows whose targets are known at row t: positions <= t - h
    known = np.searchsorted(scored_at, np.arange(n) - h, side="right")
    first = np.zeros_like(known) if window is None else np.maximum(known - int(window), 0)
    count = known - first
    out = np.full((n, k), 1.0 / k)
    ready = count >= min_scored
    if ready.any():
        means = (prefix[known[ready]] - prefix[first[ready]]) / count[ready, None]
        out[ready] = _weights_from_means(means, sharpness)
    return pd.DataFrame(out, index=crps.index, columns=crps.columns)


def fitted_weights(
    crps: pd.DataFrame,
    *,
    min_scored: int = COMBINATION_MIN_SCORED,
    window: int | None = COMBINATION_WINDOW,
    sharpness: float = COMBINATION_SHARPNESS,
) -> dict[str, float]:
    """The weights to serve after every row of ``crps`` is known: the same rule as
    :func:`combination_weights` over every row at which each member was scored (a CRPS present is
    one whose target is realised), as ``{member: weight}``."""
    values = _crps_values(crps)
    _check_rule(min_scored, window, sharpness)
    scored = values[np.isfinite(values).all(axis=1)]
    if window is not None:
        scored = scored[-int(window) :]
    k = values.shape[1]
    if scored.shape[0] < min_scored:
        w = np.full(k, 1.0 / k)
    else:
        w = _weights_from_means(scored.mean(axis=0, keepdims=True), sharpness)[0]
    return {str(name): float(v) for name, v in zip(crps.columns, w, strict=True)}


# -- the served shape -------------------------------------------------------------------------
def shape_levels(n: int = SHAPE_SCORES) -> NDArray[np.float64]:
    """The level at which each of a combination's ``n`` standardised quantiles is taken.

    An ``"empirical"`` shape reads level ``tau`` by the conformal rank rule, which for
    ``(n + 1) * tau`` a whole number ``m`` interpolates its sorted scores ``m - 1`` and ``m``
    (at position ``m (n - 1) / n``). Score ``j`` is taken at level ``j n / (n^2 - 1)``, which puts
    that position at level ``tau`` exactly; and for each level of :data:`QUANTILES` (multiples of
    0.001 = ``1 / (n + 1)`` for the default 999) both scores are taken at that level, so the shape
    gives back the combination's quantiles there exactly (the member quantile functions are step
    functions, which interpolation alone would blur by up to a step). The levels stay sorted.
    Score 0 (level 0) is taken at 1e-4, the floor every distribution reads its quantiles at.
    """
    j = np.arange(n, dtype="float64")
    levels = np.clip(j * n / (n * n - 1.0), 1e-4, 1 - 1e-4)
    for tau in QUANTILES:
        m = round(tau * (n + 1))
        if abs(tau * (n + 1) - m) < 1e-9 and 1 <= m < n:
            levels[m - 1] = levels[m] = tau
    return np.asarray(levels, dtype="float64")


# -- the combined distribution ------------------------------------------------------------------
def _location(location: pd.Series | None, index: pd.Index) -> pd.Series:
    if location is None:
        return pd.Series(0.0, index=index)
    if not isinstance(location, pd.Series):
        raise DataError(f"location must be a Series of h-step log returns, got {type(location)}")
    return location.reindex(index).astype("float64")


def _member_market(member: DistributionForecaster, market: MarketData) -> MarketData:
    """What ``member`` reads: the 4h candles only if it was fitted on them."""
    if member.uses_intraday_ or market.intraday is None:
        return market
    return MarketData(market.daily, None, market.features)


class CombinedDistribution:
    """The weighted quantile average of member distributions of one horizon.

    Args:
        members: name -> :class:`DistributionForecaster` (fitted, or fitted by :meth:`fit`),
            every one of the same ``horizon``.
        weights: name -> weight, the same names, each >= 0, summing to 1 (within 1e-6; they are
            renormalised): the walk-forward weights (:func:`fitted_weights`).
    """

    #: what a combination reports as its scale model
    volatility = COMBINATION

    def __init__(
        self, members: Mapping[str, DistributionForecaster], weights: Mapping[str, float]
    ) -> None:
        members = dict(members)
        if not members or not all(isinstance(n, str) and n for n in members):
            raise ConfigError(
                f"a combination needs at least one member, each named by a non-empty string, "
                f"got {list(members)!r}"
            )
        for name, member in members.items():
            if not isinstance(member, DistributionForecaster):
                raise ConfigError(
                    f"member {name!r} must be a DistributionForecaster, got {type(member).__name__}"
                )
        horizons = {name: int(m.horizon) for name, m in members.items()}
        if len(set(horizons.values())) != 1:
            raise ConfigError(f"every member must have the same horizon, got {horizons}")
        weights = dict(weights)
        if set(weights) != set(members):
            raise ConfigError(
                f"weights must name exactly the members {sorted(members)}, got {sorted(weights)}"
            )
        values = np.array([weights[name] for name in members], dtype="float64")
        if not (np.isfinite(values).all() and (values >= 0).all()) or not (
            abs(float(values.sum()) - 1.0) <= _WEIGHT_SUM_TOLERANCE
        ):
            raise ConfigError(
                f"weights must be finite, >= 0 and sum to 1, got {weights} (sum "
                f"{float(values.sum())!r}); use fitted_weights() of the members' CRPS"
            )
        self.members = members
        self.weights = {
            name: float(v) for name, v in zip(members, values / values.sum(), strict=True)
        }
        self.horizon = next(iter(horizons.values()))

    @property
    def uses_intraday_(self) -> bool:
        """Whether any member was fitted on 4h candles (then the combination is given them)."""
        return any(m.uses_intraday_ for m in self.members.values())

    def get_params(self) -> dict[str, Any]:
        return {
            "horizon": self.horizon,
            "weights": dict(self.weights),
            "members": {name: m.get_params() for name, m in self.members.items()},
        }

    def fit(self, market: MarketData, location: pd.Series | None = None) -> Self:
        """Fit every member on ``market`` (``location`` shifts their calibration scores, as for
        :meth:`DistributionForecaster.fit`); the weights stay as given."""
        for member in self.members.values():
            member.fit(market, location)
        self.train_end_ = str(market.daily.index[-1])
        return self

    def _check_fitted(self) -> None:
        unfitted = [n for n, m in self.members.items() if not hasattr(m, "model_")]
        if unfitted:
            raise NotFittedError(
                f"This CombinedDistribution instance is not fitted yet (members {unfitted} are "
                "not). Call 'fit' with appropriate arguments before using this estimator, or "
                "'load' a saved one."
            )

    def _members_at(
        self, market: MarketData, location: pd.Series | None
    ) -> tuple[dict[str, PredictiveDistribution], pd.Series]:
        """Each member's distribution at location 0 and the combination's location, on the rows
        where every member has a scale and the location is known."""
        self._check_fitted()
        preds = {
            name: m.predict_distribution(_member_market(m, market))
            for name, m in self.members.items()
        }
        common = market.daily.index
        for pred in preds.values():
            common = common.intersection(pred.mu.index, sort=False)
        common = pd.Index(sorted(common))
        mu = _location(location, common)
        return preds, mu[mu.notna()]

    def _combined(
        self, preds: Mapping[str, PredictiveDistribution], index: pd.Index, tau: ArrayLike
    ) -> NDArray[np.float64]:
        """``sum_i w_i q_i(tau)`` of the members at location 0, on ``index``."""
        levels = np.asarray(tau, dtype="float64")
        total = np.zeros((len(index), levels.size))
        for name, pred in preds.items():
            rows = pred.mu.index.get_indexer(index)
            one = PredictiveDistribution(  # location 0: the members were predicted without one
                pred.mu.iloc[rows], pred.sigma.iloc[rows], pred.shape, pred.level_adjust
            )
            total += self.weights[name] * one.quantiles(levels).to_numpy()
        return total

    def predict_quantiles(
        self, market: MarketData, location: pd.Series | None = None, quantiles: Any = QUANTILES
    ) -> pd.DataFrame:
        """``h``-step log-return quantiles at every row where every member has a scale (and
        ``location``, when given, is known): ``location + sum_i w_i q_i(tau)``, one
        float-labelled column per level, never crossing."""
        tau = check_levels(quantiles)
        preds, mu = self._members_at(market, location)
        values = mu.to_numpy()[:, None] + self._combined(preds, mu.index, tau)
        return pd.DataFrame(
            np.sort(values, axis=1), index=mu.index, columns=[float(t) for t in tau]
        )

    def predict_interval(
        self,
        market: MarketData,
        location: pd.Series | None = None,
        coverage: float | None = 0.8,
        level: Any = None,
    ) -> pd.DataFrame:
        """Central interval(s) from the same quantiles (``coverage=0.8`` or ``level=[80, 95]``),
        at the rows of :meth:`predict_quantiles`."""
        out: pd.DataFrame | None = None
        for c in coverage_levels(coverage, level):
            q = self.predict_quantiles(market, location, [(1 - c) / 2, (1 + c) / 2])
            out = pd.DataFrame(index=q.index) if out is None else out
            tag = "" if level is None else f"_{round(c * 100):d}"
            out[f"lower{tag}"] = q.iloc[:, 0]
            out[f"upper{tag}"] = q.iloc[:, 1]
        assert out is not None  # coverage_levels gives at least one
        return out

    def predict_distribution(
        self, market: MarketData, location: pd.Series | None = None
    ) -> PredictiveDistribution:
        """The distribution at the LAST row where every member has a scale (and ``location`` is
        known): what a forecast serves, one row only (the combination's standardised shape
        changes from row to row, a :class:`PredictiveDistribution` holds one shape).

        Location ``mu`` there; scale the weighted average of the members' scales; shape an
        ``"empirical"`` :class:`StandardShape` of the combination's standardised quantiles at
        :func:`shape_levels`, so its quantiles, ``p_up`` and ``p_move`` are those of
        :meth:`predict_quantiles` at that row (exactly at :data:`QUANTILES`, within a 0.001 step
        of the level elsewhere; probabilities within about 0.002). Raises :class:`DataError` when no row
        qualifies.
        """
        preds, mu = self._members_at(market, location)
        if len(mu) == 0:
            raise DataError(
                "the combination has no row where every member has a scale and the location is "
                "known (too little history)"
            )
        last = mu.index[-1:]
        sigma = sum(
            self.weights[name] * float(pred.sigma.loc[last[0]]) for name, pred in preds.items()
        )
        levels, taken = np.unique(shape_levels(), return_inverse=True)
        standard = self._combined(preds, last, levels)[0][taken] / sigma
        shape = StandardShape("empirical", scores=np.sort(standard))
        return PredictiveDistribution(mu.loc[last], pd.Series([sigma], index=last), shape)

    # -- artifacts ------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the artifact directory atomically (a failure leaves ``path`` as it was)."""
        self._check_fitted()
        path = Path(path)
        with staged_directory(path) as tmp:
            listed = []
            for k, (name, member) in enumerate(self.members.items()):
                member.save(tmp / MEMBERS_DIR / str(k))
                listed.append({"name": name, "path": f"{MEMBERS_DIR}/{k}"})
            weights = {"weights": dict(self.weights)}
            (tmp / WEIGHTS_FILE).write_text(json.dumps(weights, indent=1), encoding="utf-8")
            train_ends = [getattr(m, "train_end_", None) for m in self.members.values()]
            write_manifest(
                tmp,
                {
                    "format": COMBINATION_FORMAT,
                    "model_type": f"distribution:{COMBINATION}",
                    "horizon": int(self.horizon),
                    "members": listed,
                    "train_end": getattr(self, "train_end_", None) or max(map(str, train_ends)),
                    "intraday": bool(self.uses_intraday_),
                },
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> CombinedDistribution:
        """Read a directory written by :meth:`save`: every file listed with its sha256 and no
        other file, the weights and every member checked (an :class:`ArtifactError` naming the
        file, the field and the value otherwise)."""
        path = Path(path)
        file = path / MANIFEST
        manifest = _manifest(path)
        if manifest.get("format") != COMBINATION_FORMAT:
            raise ArtifactError(
                f"{path} has format {manifest.get('format')!r}, expected {COMBINATION_FORMAT!r}; retrain "
                "the combination"
            )
        _verify_files(path, manifest.get("files"))
        horizon = stored_whole(manifest.get("horizon"), file, "horizon", low=1, high=366)
        entries = manifest.get("members")
        if not isinstance(entries, list) or not entries:
            raise refuse(file, "members", "a non-empty list of {name, path}", entries)
        weights_file = path / WEIGHTS_FILE
        weights = stored_object(
            stored_object(_read_json(weights_file), weights_file, "the weights").get("weights"),
            weights_file,
            "weights",
        )
        members: dict[str, DistributionForecaster] = {}
        values: dict[str, float] = {}
        for k, entry in enumerate(entries):
            entry = stored_object(entry, file, f"members[{k}]")
            name, where = entry.get("name"), entry.get("path")
            if not isinstance(name, str) or not name or name in members:
                raise refuse(file, f"members[{k}].name", "a distinct non-empty name", name)
            if where != f"{MEMBERS_DIR}/{k}":
                raise refuse(file, f"members[{k}].path", repr(f"{MEMBERS_DIR}/{k}"), where)
            if name not in weights:
                raise refuse(weights_file, "weights", f"a weight for member {name!r}", weights)
            values[name] = stored_number(
                weights[name], weights_file, f"weights[{name!r}]", low=0.0, high=1.0
            )
            member = DistributionForecaster.load(path / where)
            if int(member.horizon) != horizon:
                raise refuse(
                    path / where / MANIFEST,
                    "params.horizon",
                    f"{horizon} (the combination's)",
                    member.horizon,
                )
            members[name] = member
        if set(weights) != set(members) or abs(sum(values.values()) - 1.0) > _WEIGHT_SUM_TOLERANCE:
            raise refuse(
                weights_file,
                "weights",
                f"one weight per member {sorted(members)}, summing to 1",
                weights,
            )
        out = cls(members, values)
        train_end = manifest.get("train_end")
        if not isinstance(train_end, str):
            raise refuse(file, "train_end", "the time of the last candle fitted on", train_end)
        out.train_end_ = train_end
        return out


#: what a stored distribution artifact loads as
StoredDistribution = DistributionForecaster | CombinedDistribution


def load_distribution(path: str | Path) -> StoredDistribution:
    """The distribution saved at ``path``: a :class:`CombinedDistribution` when its manifest says
    :data:`COMBINATION_FORMAT`, else a :class:`DistributionForecaster` (which refuses any other format)."""
    path = Path(path)
    if _manifest(path).get("format") == COMBINATION_FORMAT:
        return CombinedDistribution.load(path)
    return DistributionForecaster.load(path)


def _read_json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(
            f"{file} is not a saved distribution model: {exc}; restore or retrain it"
        ) from None


def _manifest(path: Path) -> dict[str, Any]:
    file = path / MANIFEST
    if not file.is_file():
        raise ArtifactError(
            f"{path} has no {MANIFEST}: it is not a saved distribution model; check the path, "
            "restore or retrain it"
        )
    return load_manifest_file(file)


def _verify_files(path: Path, files: Any) -> None:
    """Every file below ``path`` but the manifest is listed in ``files`` with its sha256, and
    nothing else is there (an added file is refused as firmly as a changed one)."""
    listed = stored_object(files, path / MANIFEST, "files")
    for name, digest in listed.items():
        file = confine(
            name, path, f"file {name!r} listed in {path / MANIFEST}", root_name="artifact"
        )
        if not file.is_file() or file_sha256(file) != digest:
            raise ArtifactError(
                f"{path / name} is missing or does not match its manifest sha256; restore or "
                "retrain the combination"
            )
    unlisted = sorted(set(list_files(path)) - set(listed) - {MANIFEST})
    if unlisted:
        raise ArtifactError(
            f"{path} holds files its {MANIFEST} does not list: {unlisted}; it was modified after "
            "saving. Restore or retrain the combination."
        )
