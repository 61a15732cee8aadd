"""The look-ahead checker: proof that a feature function never reads later candles.

:func:`check_lookahead` computes the features once on the full history, then again on the history
truncated at random cut points. A causal feature gives, for every row up to the cut, exactly what
it gives on the full history; a feature that saw the future (``close.shift(-1)``, a centred window,
a scaler fitted on the whole series) does not. Any difference beyond ``rtol`` (relative, with a
tiny absolute floor ``atol`` for values at zero) is reported with the feature's name and the first
date it differs.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import FeatureError

__all__ = [
    "Leak",
    "LookaheadReport",
    "check_lookahead",
    "frame_differences",
    "load_feature_function",
]

FeatureFn = Callable[..., pd.DataFrame]


@dataclass(frozen=True)
class Leak:
    """A feature whose values change when later candles are removed."""

    feature: str
    first_date: pd.Timestamp | None
    cut: pd.Timestamp | None
    full_value: float
    truncated_value: float
    reason: str = "value differs"

    def __str__(self) -> str:
        if self.first_date is None:
            return f"{self.feature}: {self.reason} (history cut at {self.cut})"
        return (
            f"{self.feature}: {self.reason} on {self.first_date} with history cut at {self.cut} "
            f"(full history {self.full_value!r}, truncated {self.truncated_value!r})"
        )


@dataclass(frozen=True)
class LookaheadReport:
    """Result of :func:`check_lookahead`: the cuts tried and every leaking feature found."""

    n_rows: int
    features: tuple[str, ...]
    cuts: tuple[pd.Timestamp, ...]
    leaks: tuple[Leak, ...] = field(default_factory=tuple)
    rtol: float = 1e-9
    atol: float = 1e-12

    @property
    def ok(self) -> bool:
        """True when no feature changed at any cut."""
        return not self.leaks

    @property
    def leaky_features(self) -> list[str]:
        """Names of the features that leaked."""
        return [leak.feature for leak in self.leaks]

    def summary(self) -> str:
        """One line for a passing check, one line per leak otherwise."""
        head = f"{len(self.features)} features, {self.n_rows} rows, {len(self.cuts)} cuts"
        if self.ok:
            return f"no look-ahead: {head}, every row equal within rtol={self.rtol:g}"
        lines = [f"look-ahead in {len(self.leaks)} feature(s) ({head}):"]
        lines += [f"  {leak}" for leak in self.leaks]
        return "\n".join(lines)

    def raise_for_leaks(self) -> None:
        """Raise :class:`FeatureError` naming every leaking feature, if any."""
        if not self.ok:
            raise FeatureError(
                self.summary().replace("\n", " ")
                + " -- compute each row from candles up to and including its own timestamp"
            )


def frame_differences(
    expected: pd.DataFrame, actual: pd.DataFrame, rtol: float = 1e-9, atol: float = 1e-12
) -> dict[str, int]:
    """Columns of two equally shaped frames that differ -> position of the first differing row.

    Values match when both are NaN, both equal, or ``|a - b| <= rtol * max(|a|, |b|) + atol``.
    """
    a = expected.to_numpy(dtype=np.float64)
    b = actual.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        close = np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b)) + atol
    same = (a == b) | (np.isnan(a) & np.isnan(b)) | close
    bad_cols = np.flatnonzero(~same.all(axis=0))
    return {str(expected.columns[j]): int(np.argmin(same[:, j])) for j in bad_cols}


def _call(fn: FeatureFn, ohlcv: pd.DataFrame, market: pd.DataFrame | None) -> pd.DataFrame:
    out = fn(ohlcv) if market is None else fn(ohlcv, market)
    if not isinstance(out, pd.DataFrame):
        raise FeatureError(f"feature function must return a DataFrame, got {type(out).__name__}")
    if len(out) != len(ohlcv) or not out.index.equals(ohlcv.index):
        raise FeatureError(
            f"feature function must return one row per candle on the same index "
            f"(got {len(out)} rows for {len(ohlcv)} candles); do not drop or reorder rows"
        )
    return out


def check_lookahead(
    feature_fn: FeatureFn,
    ohlcv: pd.DataFrame,
    n_cuts: int = 50,
    seed: int = 0,
    *,
    market: pd.DataFrame | None = None,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    raise_on_leak: bool = False,
) -> LookaheadReport:
    """Recompute ``feature_fn`` on history truncated at ``n_cuts`` random cuts and compare.

    Args:
        feature_fn: ``feature_fn(ohlcv) -> DataFrame`` on the same index (called as
            ``feature_fn(ohlcv, market)`` when ``market`` is given; the market is cut at the same
            time as the candles).
        ohlcv: the full candle history.
        n_cuts: how many cut points; they are drawn (with ``seed``) from the rows where the full
            feature frame is first complete up to the second-to-last row, and the last of those
            rows is always included.
        rtol, atol: tolerance; see :func:`frame_differences`.
        raise_on_leak: raise :class:`FeatureError` instead of returning a failing report.

    Every row up to each cut is compared, not only the row at the cut, so the first date a feature
    differs is reported exactly.
    """
    if isinstance(n_cuts, bool) or not isinstance(n_cuts, int) or n_cuts < 1:
        raise FeatureError(f"n_cuts must be a whole number >= 1, got {n_cuts!r}")
    full = _call(feature_fn, ohlcv, market)
    n = len(ohlcv)
    values = full.to_numpy(dtype=np.float64)
    complete = np.flatnonzero(~np.isnan(values).any(axis=1)) if values.shape[1] else np.arange(n)
    if not complete.size:
        complete = np.flatnonzero(~np.isnan(values).all(axis=1))
    lo = int(complete[0]) if complete.size else 0
    candidates = np.arange(lo, n - 1)
    if candidates.size == 0:
        raise FeatureError(
            f"too little history to check look-ahead: {n} rows, first complete feature row {lo}; "
            "pass more candles"
        )
    rng = np.random.default_rng(seed)
    if n_cuts >= candidates.size:
        cuts = candidates
    else:
        rest = rng.choice(candidates[:-1], size=n_cuts - 1, replace=False)
        cuts = np.sort(np.r_[rest, candidates[-1]])

    found: dict[str, Leak] = {}
    for cut in cuts:
        cut_time = ohlcv.index[cut]
        m_cut = None if market is None else market.loc[market.index <= cut_time]
        trunc = _call(feature_fn, ohlcv.iloc[: cut + 1], m_cut)
        if list(trunc.columns) != list(full.columns):
            missing = sorted(set(map(str, full.columns)) ^ set(map(str, trunc.columns)))
            for name in missing or ["<column order>"]:
                found.setdefault(
                    name,
                    Leak(name, None, cut_time, np.nan, np.nan, "columns change with the history"),
                )
            continue
        diffs = frame_differences(full.iloc[: cut + 1], trunc, rtol, atol)
        for name, row in diffs.items():
            date = ohlcv.index[row]
            prior = found.get(name)
            if prior is None or (prior.first_date is not None and date < prior.first_date):
                found[name] = Leak(
                    name, date, cut_time, float(full[name].iloc[row]), float(trunc[name].iloc[row])
                )
    order = {str(c): i for i, c in enumerate(full.columns)}
    leaks = tuple(sorted(found.values(), key=lambda leak: order.get(leak.feature, len(order))))
    report = LookaheadReport(
        n_rows=n,
        features=tuple(map(str, full.columns)),
        cuts=tuple(ohlcv.index[c] for c in cuts),
        leaks=leaks,
        rtol=rtol,
        atol=atol,
    )
    if raise_on_leak:
        report.raise_for_leaks()
    return report


def _import_from_cwd_too(module_name: str) -> ModuleType:
    """Import ``module_name`` looking in the current directory first, as ``python -m`` does
    (an installed console script does not put it on ``sys.path``)."""
    import importlib
    import os
    import sys

    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(module_name)
    finally:
        if added:
            sys.path.remove(cwd)


def load_feature_function(spec: str) -> FeatureFn:
    """Resolve ``"package.module:function"`` or ``"path/to/file.py:function"`` to a callable."""
    module_name, sep, func_name = spec.rpartition(":")
    if not sep or not module_name or not func_name:
        raise FeatureError(
            "--features must look like 'package.module:function' or 'file.py:function', "
            f"got {spec!r}"
        )
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            if not path.is_file():
                raise FeatureError(
                    f"feature file {str(path)!r} not found; give an existing .py file"
                )
            loader_spec = importlib.util.spec_from_file_location(path.stem, path)
            if loader_spec is None or loader_spec.loader is None:
                raise FeatureError(f"cannot import {str(path)!r} as a Python module")
            module = importlib.util.module_from_spec(loader_spec)
            loader_spec.loader.exec_module(module)
        else:
            module = _import_from_cwd_too(module_name)
    except ImportError as exc:
        raise FeatureError(
            f"--features {spec}: cannot import {module_name!r} ({exc}) from the current "
            f"directory ({Path.cwd()}) or sys.path; check the name, or give file.py:function"
        ) from None
    fn = getattr(module, func_name, None)
    if not callable(fn):
        raise FeatureError(
            f"{module_name!r} has no function {func_name!r}; check the name after ':'"
        )
    return fn  # type: ignore[no-any-return]
