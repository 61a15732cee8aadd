"""The forecast ledger: an append-only ``forecasts`` table, scored against what the market did.

Every non-cached live forecast the service makes is appended here (SQLAlchemy Core); a
back-dated one (asked for with ``as_of``) never is, so no live score counts it. Once a
forecast's target candle has closed, :meth:`Ledger.score` matches it with the realised close from
the same data source and reports, per (crypto_id, model_type, horizon):

- MAPE of the forecast and of the naive forecast (``last_close`` at forecast time), in percent;
- MASE against naive: ``mean|actual - predicted| / mean|actual - last_close|`` on the same
  forecasts (below 1 beats naive);
- the share of realised closes inside the 80% and 95% intervals;
- the served predictive distribution of the log return ``log(actual / last_close)``, kept as
  JSON (:data:`DISTRIBUTION_COLUMNS`): its mean CRPS (exact, in log-return units), 80%/95%
  coverage of its quantile intervals and PIT, each beside ``garch_ref``'s and the 30-day rolling
  Gaussian's kept at the same origin, with the CRPS skill and a Diebold-Mariano (HAC) p-value
  against each; rows recorded without those distributions are left out of these and counted.

Each row keeps the forecast's one predictive distribution (``distribution``: the served
:class:`ForecastDistribution` as JSON, whose median is ``predicted_price`` and whose quantiles are
the stored 80%/95% bounds) and, at the same origin with location 0, the baselines it is scored
beside: ``reference_distribution`` (``garch_ref``) and ``gaussian_distribution`` (the 30-day
rolling Gaussian). Each is NULL where there was none (and on rows of earlier releases).

This is the only truly out-of-sample score a model gets, so the table is append-only: database
triggers refuse UPDATE and DELETE (SQLite and PostgreSQL). Identical forecasts (the same model,
as-of candle and target, re-issued after the cache expired) are scored once.

Database: ``url`` if given, else ``$CRYPTOFORECAST_LEDGER_URL``, else
``$CRYPTOFORECAST_REGISTRY_URL`` when it is not SQLite (the registry's server database), else
SQLite at ``$CRYPTOFORECAST_HOME/ledger.db`` (WAL mode).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cryptoforecast.data import load_ohlcv
from cryptoforecast.data.schema import check_interval
from cryptoforecast.evaluation.scoring import dm_crps, pit_histogram
from cryptoforecast.exceptions import DataError, LedgerError, RegistryError
from cryptoforecast.paths import home_dir
from cryptoforecast.redaction import describe_url, password_of, redact
from cryptoforecast.registry.engine import make_engine
from cryptoforecast.registry.schema import UTCDateTime
from cryptoforecast.serving.distribution import as_predictive
from cryptoforecast.serving.schemas import AccuracyRow, Forecast, ForecastDistribution

__all__ = [
    "DISTRIBUTION_COLUMNS",
    "LEDGER_URL_ENV",
    "Ledger",
    "attach_actuals",
    "default_ledger_url",
    "distribution_verdict",
    "forecasts_table",
    "score_frame",
]

LEDGER_URL_ENV = "CRYPTOFORECAST_LEDGER_URL"
REGISTRY_URL_ENV = "CRYPTOFORECAST_REGISTRY_URL"

#: returns the realised closes (UTC-indexed Series) of (crypto_id, interval, data_source)
ClosesFn = Callable[[str, str, str], pd.Series]


_metadata = sa.MetaData()

forecasts_table = sa.Table(
    "forecasts",
    _metadata,
    sa.Column("forecast_id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("crypto_id", sa.String(64), nullable=False),
    sa.Column("horizon", sa.Integer, nullable=False),
    sa.Column("interval", sa.String(8), nullable=False),
    sa.Column("data_source", sa.String(32), nullable=False),
    sa.Column("as_of", UTCDateTime, nullable=False),
    sa.Column("target_time", UTCDateTime, nullable=False),
    sa.Column("last_close", sa.Float, nullable=False),
    sa.Column("predicted_price", sa.Float, nullable=False),
    sa.Column("predicted_return", sa.Float, nullable=False),
    sa.Column("lower_80", sa.Float, nullable=True),
    sa.Column("upper_80", sa.Float, nullable=True),
    sa.Column("lower_95", sa.Float, nullable=True),
    sa.Column("upper_95", sa.Float, nullable=True),
    sa.Column("model_type", sa.String(64), nullable=False),
    sa.Column("model_id", sa.Integer, nullable=True),
    sa.Column("model_version", sa.String(64), nullable=True),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("fallback_reason", sa.Text, nullable=True),
    sa.Column("generated_at", UTCDateTime, nullable=False),
    # added after the first release: NULL on rows written before (see _add_missing_columns)
    sa.Column("stale", sa.Boolean, nullable=True),
    sa.Column("stale_reason", sa.Text, nullable=True),
    sa.Column("distribution", sa.Text, nullable=True),
    sa.Column("reference_distribution", sa.Text, nullable=True),
    sa.Column("gaussian_distribution", sa.Text, nullable=True),
)
#: columns a ledger created by an earlier release may lack, with their SQL type
_ADDED_COLUMNS = {
    "stale": "BOOLEAN",
    "stale_reason": "TEXT",
    "distribution": "TEXT",
    "reference_distribution": "TEXT",
    "gaussian_distribution": "TEXT",
}
sa.Index(
    "ix_forecasts_key",
    forecasts_table.c.crypto_id,
    forecasts_table.c.model_type,
    forecasts_table.c.horizon,
)
sa.Index("ix_forecasts_target", forecasts_table.c.target_time)

_APPEND_ONLY_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS forecasts_no_{op.lower()} BEFORE {op} ON forecasts "
    "BEGIN SELECT RAISE(ABORT, 'forecasts is an append-only ledger'); END"
    for op in ("UPDATE", "DELETE")
]
_APPEND_ONLY_POSTGRES = [
    "CREATE OR REPLACE FUNCTION forecasts_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'forecasts is an append-only ledger'; END; $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS forecasts_append_only ON forecasts",
    "CREATE TRIGGER forecasts_append_only BEFORE UPDATE OR DELETE ON forecasts "
    "FOR EACH ROW EXECUTE FUNCTION forecasts_append_only()",
]


def default_ledger_url(registry_url: str | None = None) -> str:
    """The ledger's database URL when none is given (see the module docstring)."""
    env = os.environ.get(LEDGER_URL_ENV)
    if env:
        return env
    for candidate in (registry_url, os.environ.get(REGISTRY_URL_ENV)):
        if candidate and not candidate.startswith("sqlite"):
            return candidate
    return f"sqlite:///{home_dir() / 'ledger.db'}"


def _add_missing_columns(engine: Engine) -> None:
    """Add the columns of later releases to an existing ``forecasts`` table (idempotent).

    ``ALTER TABLE ... ADD COLUMN`` of a nullable column keeps every existing row (its value is
    NULL: unknown) and is not an UPDATE, so the append-only triggers allow it. Two processes may
    race to add the same column: the loser's "duplicate column" error is ignored once the column
    is seen to exist.
    """
    for name, sql_type in _ADDED_COLUMNS.items():
        present = {c["name"] for c in sa.inspect(engine).get_columns("forecasts")}
        if name in present:
            continue
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER TABLE forecasts ADD COLUMN {name} {sql_type}")
        except sa.exc.SQLAlchemyError:
            present = {c["name"] for c in sa.inspect(engine).get_columns("forecasts")}
            if name not in present:
                raise


def _as_json(dist: ForecastDistribution | None) -> str | None:
    return None if dist is None else dist.model_dump_json()


def _snapshot_closes(crypto_id: str, interval: str, data_source: str) -> pd.Series:
    return load_ohlcv(crypto_id, interval=interval, source=data_source)["close"]


class Ledger:
    """The append-only forecast ledger on any SQLAlchemy URL (schema created on first use)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_ledger_url()
        self._engine: Engine | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Ledger(url={describe_url(self.url)!r})"

    # -- engine -----------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The engine, created with the schema on first use."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = self._connect()
        return self._engine

    def _connect(self) -> Engine:
        try:
            if self.url.startswith("sqlite"):
                engine = make_engine(
                    self.url,
                    "ledger",
                    LEDGER_URL_ENV,
                    connect_args={"timeout": 30, "check_same_thread": False},
                )

                @sa.event.listens_for(engine, "connect")
                def _wal(dbapi_conn: Any, _record: Any) -> None:
                    cur = dbapi_conn.cursor()
                    cur.execute("PRAGMA journal_mode=WAL")
                    cur.execute("PRAGMA synchronous=NORMAL")
                    cur.close()
            else:
                engine = make_engine(self.url, "ledger", LEDGER_URL_ENV, pool_pre_ping=True)
            with engine.begin() as conn:
                _metadata.create_all(conn, checkfirst=True)
            _add_missing_columns(engine)
            with engine.begin() as conn:
                stmts = {"sqlite": _APPEND_ONLY_SQLITE, "postgresql": _APPEND_ONLY_POSTGRES}
                for stmt in stmts.get(conn.dialect.name, []):
                    conn.exec_driver_sql(stmt)
        except RegistryError as exc:  # a malformed URL or a missing driver (make_engine)
            raise LedgerError(str(exc)) from None
        except sa.exc.SQLAlchemyError as exc:
            raise LedgerError(
                f"cannot open the forecast ledger at {describe_url(self.url)!r}: "
                f"{exc.__class__.__name__}: {redact(exc, password_of(self.url))}. "
                f"Check the database URL ({LEDGER_URL_ENV} or {REGISTRY_URL_ENV})."
            ) from None
        return engine

    def check(self) -> None:
        """Read one row: raises when the ledger cannot be opened or read (a health check)."""
        with self.engine.connect() as conn:
            conn.execute(sa.select(forecasts_table.c.forecast_id).limit(1)).all()

    def dispose(self) -> None:
        """Close pooled connections."""
        if self._engine is not None:
            self._engine.dispose()

    # -- writing ----------------------------------------------------------------------------
    def record(
        self,
        forecast: Forecast,
        data_source: str,
        *,
        reference: ForecastDistribution | None = None,
        gaussian: ForecastDistribution | None = None,
    ) -> int:
        """Append ``forecast`` (made from ``data_source`` candles) with the baselines of the same
        origin (``garch_ref`` and the 30-day Gaussian, location 0); returns its
        ``forecast_id``."""
        lo80, hi80 = forecast.intervals.get(0.8, (None, None))
        lo95, hi95 = forecast.intervals.get(0.95, (None, None))
        row = {
            "crypto_id": forecast.crypto_id,
            "horizon": forecast.horizon,
            "interval": forecast.interval,
            "data_source": data_source,
            "as_of": forecast.as_of,
            "target_time": forecast.target_time,
            "last_close": forecast.last_close,
            "predicted_price": forecast.predicted_price,
            "predicted_return": forecast.predicted_return,
            "lower_80": lo80,
            "upper_80": hi80,
            "lower_95": lo95,
            "upper_95": hi95,
            "model_type": forecast.model_type,
            "model_id": forecast.model_id,
            "model_version": forecast.model_version,
            "source": forecast.source,
            "fallback_reason": forecast.fallback_reason,
            "generated_at": forecast.generated_at,
            "stale": forecast.stale,
            "stale_reason": forecast.stale_reason,
            "distribution": _as_json(forecast.distribution),
            "reference_distribution": _as_json(reference),
            "gaussian_distribution": _as_json(gaussian),
        }
        with self.engine.begin() as conn:
            stmt = sa.insert(forecasts_table).values(**row).returning(forecasts_table.c.forecast_id)
            return int(conn.execute(stmt).scalar_one())

    # -- reading ----------------------------------------------------------------------------
    def forecasts(
        self,
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
    ) -> pd.DataFrame:
        """Ledger rows (oldest first) as a DataFrame, optionally filtered."""
        q = sa.select(forecasts_table).order_by(forecasts_table.c.forecast_id)
        if crypto_id is not None:
            q = q.where(forecasts_table.c.crypto_id == crypto_id)
        if model_type is not None:
            q = q.where(forecasts_table.c.model_type == model_type)
        if horizon is not None:
            q = q.where(forecasts_table.c.horizon == horizon)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(q).mappings().all()
        except sa.exc.SQLAlchemyError as exc:
            raise self._read_error(exc) from None
        cols = [c.name for c in forecasts_table.columns]
        frame = pd.DataFrame([dict(r) for r in rows], columns=cols)
        for col in ("as_of", "target_time", "generated_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame

    def __len__(self) -> int:
        try:
            with self.engine.connect() as conn:
                return int(
                    conn.execute(
                        sa.select(sa.func.count()).select_from(forecasts_table)
                    ).scalar_one()
                )
        except sa.exc.SQLAlchemyError as exc:
            raise self._read_error(exc) from None

    def _read_error(self, exc: sa.exc.SQLAlchemyError) -> LedgerError:
        return LedgerError(
            f"reading the forecast ledger at {describe_url(self.url)!r} failed: "
            f"{exc.__class__.__name__}: {redact(exc, password_of(self.url))}. Check that the "
            "database is reachable and holds the ledger."
        )

    def scored(self, closes: ClosesFn | None = None, now: datetime | None = None) -> pd.DataFrame:
        """Unique forecasts with their realised close (``actual``; NaN while pending)."""
        frame = self.forecasts()
        return attach_actuals(frame, closes or _snapshot_closes, now or datetime.now(UTC))

    def score(
        self,
        closes: ClosesFn | None = None,
        now: datetime | None = None,
        crypto_id: str | None = None,
        model_type: str | None = None,
        horizon: int | None = None,
    ) -> list[AccuracyRow]:
        """Live accuracy per (crypto_id, model_type, horizon); see the module docstring."""
        frame = self.scored(closes, now)
        if crypto_id is not None:
            frame = frame[frame["crypto_id"] == crypto_id]
        if model_type is not None:
            frame = frame[frame["model_type"] == model_type]
        if horizon is not None:
            frame = frame[frame["horizon"] == horizon]
        return score_frame(frame)


_DEDUP_KEY = [
    "crypto_id",
    "horizon",
    "interval",
    "data_source",
    "model_type",
    "model_id",
    "source",
    "as_of",
    "target_time",
]


def attach_actuals(frame: pd.DataFrame, closes: ClosesFn, now: datetime) -> pd.DataFrame:
    """Drop repeated forecasts and add ``actual`` (the realised close, NaN until known)."""
    frame = frame.drop_duplicates(subset=_DEDUP_KEY, keep="first").reset_index(drop=True)
    actual = np.full(len(frame), np.nan)
    why = np.full(len(frame), None, dtype=object)
    now_ts = (
        pd.Timestamp(now).tz_convert("UTC")
        if pd.Timestamp(now).tzinfo
        else pd.Timestamp(now, tz="UTC")
    )
    for (cid, interval, data_source), idx in frame.groupby(
        ["crypto_id", "interval", "data_source"]
    ).groups.items():
        step = check_interval(str(interval))
        sub = frame.loc[idx]
        pos = np.asarray(idx, dtype=int)  # labels are positions after reset_index
        closed = ((sub["target_time"] + step) <= now_ts).to_numpy()  # the target candle closed
        why[pos[~closed]] = "target candle not closed yet"
        if not closed.any():
            continue
        try:
            series = closes(str(cid), str(interval), str(data_source))
        except DataError:  # no realised data for this asset/source (yet): leave pending
            why[pos[closed]] = f"no closes available from {data_source}"
            continue
        found = series.reindex(pd.DatetimeIndex(sub["target_time"])).to_numpy(
            dtype="float64", copy=True
        )
        found[~closed] = np.nan
        actual[pos] = found
        last = f" ({series.index[-1]:%Y-%m-%d})" if len(series) else ""
        why[pos[closed & ~np.isfinite(found)]] = f"target after the last {data_source} close{last}"
    out = frame.copy()
    out["actual"] = actual
    out["pending_reason"] = why
    return out


def _pending_reason(pending: pd.DataFrame) -> str | None:
    """Why forecasts are still pending, most common reason first, with counts."""
    counts = pending["pending_reason"].fillna("unknown").value_counts()
    return "; ".join(f"{n}: {reason}" for reason, n in counts.items()) or None


def _safe_mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


#: the ledger columns holding ``ForecastDistribution`` JSON -> the name each is scored under
DISTRIBUTION_COLUMNS: dict[str, str] = {
    "distribution": "served",
    "reference_distribution": "garch_ref",
    "gaussian_distribution": "rolling_gaussian",
}
#: significance level of the plain verdict against garch_ref
VERDICT_ALPHA = 0.05
_CENTRAL = {80: (0.1, 0.9), 95: (0.025, 0.975)}


def _kept(text: Any) -> ForecastDistribution | None:
    """The stored distribution of one ledger cell; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return ForecastDistribution.model_validate_json(text)
    except ValueError:
        return None


def _one_score(dist: ForecastDistribution, y: float) -> tuple[float, float, bool, bool]:
    """(CRPS, PIT, inside the 80% interval, inside the 95% interval) of ``dist`` at ``y``."""
    pred = as_predictive(dist)
    q = pred.quantiles([0.025, 0.1, 0.9, 0.975]).iloc[0]
    return (
        float(pred.crps([y])[0]),
        float(pred.pit([y])[0]),
        bool(q[0.1] <= y <= q[0.9]),
        bool(q[0.025] <= y <= q[0.975]),
    )


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _skill(model: float, base: float) -> float | None:
    return 100.0 * (1.0 - model / base) if base > 0 else None


def _distribution_scores(done: pd.DataFrame, horizon: int) -> dict[str, Any]:
    """The served distribution's scores beside garch_ref's and the Gaussian's (AccuracyRow
    fields), on the scored rows that kept all three; the others are counted, with why."""
    done = done.sort_values("as_of", kind="stable")
    kept = {
        name: [_kept(v) for v in done[col]] if col in done else [None] * len(done)
        for col, name in DISTRIBUTION_COLUMNS.items()
    }
    y_all = np.log(
        done["actual"].to_numpy(dtype="float64") / done["last_close"].to_numpy(dtype="float64")
    )
    usable = [
        i
        for i in range(len(done))
        if np.isfinite(y_all[i]) and all(kept[name][i] is not None for name in kept)
    ]
    missing: dict[str, int] = {}
    stored = {
        name: [isinstance(v, str) and bool(v) for v in done[col]] if col in done else []
        for col, name in DISTRIBUTION_COLUMNS.items()
    }
    for i in sorted(set(range(len(done))) - set(usable)):
        unreadable = [n for n in kept if kept[n][i] is None and stored[n] and stored[n][i]]
        if unreadable:
            why = f"a stored {unreadable[0]} distribution is not valid ForecastDistribution JSON"
        elif kept["served"][i] is None:
            why = "recorded without a served distribution (before distributions were kept)"
        elif kept["garch_ref"][i] is None:
            why = "recorded without garch_ref at the same origin"
        elif kept["rolling_gaussian"][i] is None:
            why = "recorded without the 30-day Gaussian at the same origin"
        else:
            why = "the realised log return is not finite"
        missing[why] = missing.get(why, 0) + 1
    out: dict[str, Any] = {
        "n_distribution": len(usable),
        "n_without_distribution": len(done) - len(usable),
        "distribution_excluded_reason": "; ".join(f"{n}: {why}" for why, n in missing.items())
        or None,
    }
    if not usable:
        return out
    scores = {
        name: np.array([_one_score(kept[name][i], float(y_all[i])) for i in usable])  # type: ignore[arg-type]
        for name in kept
    }
    served, ref, gauss = (scores[n] for n in ("served", "garch_ref", "rolling_gaussian"))
    out["coverage_80"], out["coverage_95"] = float(served[:, 2].mean()), float(served[:, 3].mean())
    for prefix, block in (("reference", ref), ("gaussian", gauss)):
        base_crps = float(block[:, 0].mean())
        dm = dm_crps(served[:, 0], block[:, 0], int(horizon))
        out[f"crps_{prefix}"] = base_crps
        out[f"crps_skill_vs_{prefix}_pct"] = _skill(float(served[:, 0].mean()), base_crps)
        out[f"dm_pvalue_vs_{prefix}"] = _finite_or_none(dm.pvalue)
        out[f"{prefix}_coverage_80"] = float(block[:, 2].mean())
        out[f"{prefix}_coverage_95"] = float(block[:, 3].mean())
        out[f"{prefix}_pit_mean"] = float(block[:, 1].mean())
        out[f"{prefix}_pit_histogram"] = [float(v) for v in pit_histogram(block[:, 1], 10)]
    out["crps"] = float(served[:, 0].mean())
    out["pit_mean"] = float(served[:, 1].mean())
    out["pit_histogram"] = [float(v) for v in pit_histogram(served[:, 1], 10)]
    out["coverage_basis"] = "distribution"
    return out


def distribution_verdict(
    crps: float | None, crps_reference: float | None, pvalue: float | None, n: int
) -> str | None:
    """The served distribution against garch_ref in plain words, always with its p-value."""
    if crps is None or crps_reference is None:
        return None
    skill = _skill(crps, crps_reference)
    figure = "" if skill is None else f"CRPS skill {skill:+.1f}%, "
    if pvalue is None:
        side = "lower" if crps < crps_reference else "not lower"
        return f"CRPS {side} than garch_ref, too few forecasts to test ({figure}n={n})"
    if crps < crps_reference and pvalue < VERDICT_ALPHA:
        return f"better than garch_ref ({figure}p={pvalue:.3g}, n={n})"
    if crps > crps_reference and pvalue < VERDICT_ALPHA:
        return f"worse than garch_ref ({figure}p={pvalue:.3g}, n={n})"
    return f"not significantly better than garch_ref ({figure}p={pvalue:.3g}, n={n})"


def score_frame(frame: pd.DataFrame) -> list[AccuracyRow]:
    """Aggregate a frame from :meth:`Ledger.scored` into one :class:`AccuracyRow` per key."""
    rows: list[AccuracyRow] = []
    if frame.empty:
        return rows
    for (cid, mtype, h), g in frame.groupby(["crypto_id", "model_type", "horizon"], sort=True):
        done = g[np.isfinite(g["actual"].to_numpy(dtype="float64"))]
        a = done["actual"].to_numpy(dtype="float64")
        p = done["predicted_price"].to_numpy(dtype="float64")
        n = done["last_close"].to_numpy(dtype="float64")
        err, naive_err = np.abs(a - p), np.abs(a - n)
        mae, naive_mae = _safe_mean(err), _safe_mean(naive_err)
        mase = mae / naive_mae if mae is not None and naive_mae else None

        def coverage(lo: str, hi: str, d: pd.DataFrame = done, a: np.ndarray = a) -> float | None:
            lower = d[lo].to_numpy(dtype="float64")
            upper = d[hi].to_numpy(dtype="float64")
            ok = np.isfinite(lower) & np.isfinite(upper)
            return float(((a[ok] >= lower[ok]) & (a[ok] <= upper[ok])).mean()) if ok.any() else None

        dist = _distribution_scores(done, int(h))
        if not dist["n_distribution"]:  # an older ledger: the stored interval bounds
            covs = {"coverage_80": coverage("lower_80", "upper_80")}
            covs["coverage_95"] = coverage("lower_95", "upper_95")
            if covs["coverage_80"] is not None or covs["coverage_95"] is not None:
                dist.update(covs, coverage_basis="stored intervals")
        dist["distribution_verdict"] = distribution_verdict(
            dist.get("crps"),
            dist.get("crps_reference"),
            dist.get("dm_pvalue_vs_reference"),
            dist["n_distribution"],
        )
        rows.append(
            AccuracyRow(
                crypto_id=str(cid),
                model_type=str(mtype),
                horizon=int(h),
                n_forecasts=int(len(g)),
                n_scored=int(len(done)),
                n_pending=int(len(g) - len(done)),
                pending_reason=_pending_reason(g.drop(done.index)),
                mape=_safe_mean(err / np.abs(a) * 100.0),
                naive_mape=_safe_mean(naive_err / np.abs(a) * 100.0),
                mae=mae,
                naive_mae=naive_mae,
                mase=mase,
                first_target=done["target_time"].min().to_pydatetime() if len(done) else None,
                last_target=done["target_time"].max().to_pydatetime() if len(done) else None,
                **dist,
            )
        )
    return rows
