"""``Predictor``: production model -> labelled, cached forecast (technical-analysis fallback).

Per request: cached candles -> the registry's production record and production distribution
version (kept until the registry's change stamp moves: a write of any process is seen at the
next request) -> cache lookup keyed by ``(crypto_id, horizon, model_type, last candle time, model_id,
..., distribution model_id)`` (a new candle or a promotion of either changes the key) ->
``build_features`` (the code training uses) -> ``predict`` and ``predict_interval`` -> the
predictive distribution located at that point -> :class:`Forecast`, appended to the ledger
unless it is back-dated (asked for with ``as_of``: see :meth:`Predictor.predict`).

The distribution is the production distribution version of the (coin, horizon), whatever point
model serves (:mod:`~cryptoforecast.serving.distribution_version`: loaded and hash-checked once
per version, read on the coin's 4h candles when it was fitted on them); else the one stored with
the production model (older registries); else the ``garch_ref`` fallback. The forecast names
which (``distribution_source``, ``distribution_model_id``, ``distribution_version``) and why
(``distribution_reason``); a version that cannot serve (its artifact fails its check, it was
fitted after the origin, the source has no 4h candles for it) hands over to the next, labelled.

When there is no production model, its artifact is missing or fails its sha256 check, its
lineage shows it was trained on candles after the forecast's last candle (an in-sample forecast,
which must not reach the ledger as out-of-sample), its library fails to import (not cached, so
the next request tries again), or the model raises while predicting,
``TechnicalAnalysisForecaster`` answers instead and the forecast
says so: ``source="technical_analysis_fallback"`` with ``fallback_reason``. Never silently.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from cryptoforecast.assets import Asset, file_asset, resolve_asset
from cryptoforecast.config import Settings, load_config
from cryptoforecast.data import load_ohlcv
from cryptoforecast.data.cache import CandleCache
from cryptoforecast.data.live import INTRADAY_INTERVAL, companion_intervals
from cryptoforecast.data.loader import LIVE_SOURCES
from cryptoforecast.data.schema import check_interval
from cryptoforecast.data.times import as_of_instant, parse_time
from cryptoforecast.exceptions import ArtifactError, ConfigError, CryptoForecastError, DataError
from cryptoforecast.features import build_features, warmup_rows
from cryptoforecast.models import load_plugins, model_types
from cryptoforecast.models.catalog import load_registered
from cryptoforecast.models.distribution import REFERENCE_WINDOW, StoredDistribution
from cryptoforecast.paths import home_dir
from cryptoforecast.redaction import hide_paths, redact
from cryptoforecast.registry import DISTRIBUTION, ModelRegistry
from cryptoforecast.serving.cache import TTLCache
from cryptoforecast.serving.cross_section import with_cross_section
from cryptoforecast.serving.distribution import (
    MOVE_THRESHOLDS,
    Baselines,
    ReferenceFit,
    baseline_distributions,
    fit_reference,
)
from cryptoforecast.serving.distribution_version import (
    ProductionDistribution,
    Unserved,
    load_distribution_version,
    no_production_distribution,
    promotion_reason,
    unloadable,
    unusable_reason,
)
from cryptoforecast.serving.failures import unavailable
from cryptoforecast.serving.freshness import staleness
from cryptoforecast.serving.ledger import Ledger, default_ledger_url
from cryptoforecast.serving.model_checks import is_missing, missing_plugin, trained_after
from cryptoforecast.serving.point_forecast import (
    FALLBACK_MODEL_TYPE,
    Bands,
    PointForecast,
    predict_last,
    technical_forecast,
)
from cryptoforecast.serving.production_lookups import ProductionLookups
from cryptoforecast.serving.response import build_forecast
from cryptoforecast.serving.schemas import Forecast
from cryptoforecast.serving.state import CandleContents, CandleState, ServingState

if TYPE_CHECKING:
    from cryptoforecast.models.base import Forecaster
    from cryptoforecast.registry.record import ModelRecord

__all__ = ["MAX_HORIZON", "Predictor", "PredictionUnavailable"]

#: what a loaded-once cache holds (a point model or a stored distribution)
T = TypeVar("T")

log = logging.getLogger(__name__)

MAX_HORIZON = 14
#: the fallback reason when a model's library failed to import (never cached, never a verdict
#: on the artifact)
LIBRARY_UNAVAILABLE = "model library unavailable"
#: candles of history on top of the feature warm-up that the point forecast reads (the
#: technical-analysis fallback is fitted on them)
EXTRA_HISTORY = 400
#: candles the distribution reads: ``garch_ref`` is fitted on the last 1,500 returns
DISTRIBUTION_HISTORY = REFERENCE_WINDOW + 1


class PredictionUnavailable(CryptoForecastError):
    """Neither the production model nor the technical-analysis fallback could forecast."""

    def __init__(self, message: str, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public


def _point_load_failure(record: ModelRecord, exc: Exception) -> str:
    """Why the point model ``record`` did not load (``exc``), by the kind of failure only: the
    fallback reason of its forecasts and what ``/healthz`` says of it."""
    if isinstance(exc, ImportError):  # the process's libraries, not the artifact: try again later
        return f"{LIBRARY_UNAVAILABLE}: model {record.model_id} ({record.model_type})"
    if isinstance(exc, ArtifactError):
        return "artifact missing" if is_missing(record) else "integrity check failed"
    plugin = missing_plugin(record) if isinstance(exc, ConfigError) else None
    return plugin or f"prediction failed: cannot load model {record.model_id}: {type(exc).__name__}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Prepared:
    """What one request is answered from, read once: the checked asset id and horizon, its
    candles, the production record (or why there is none), the production distribution version
    (or why there is none) and the forecast cache's key."""

    crypto_id: str
    horizon: int
    candles: pd.DataFrame
    record: ModelRecord | None
    reason: str | None
    key: tuple[Any, ...]
    distribution: ModelRecord | None = None
    distribution_reason: str | None = None


class Predictor:
    """Forecasts from the registry's production models, cached, labelled and ledgered.

    Args:
        registry: a ``ModelRegistry`` (default: one on ``$CRYPTOFORECAST_REGISTRY_URL`` or the
            SQLite registry under ``$CRYPTOFORECAST_HOME``, created on first use).
        source: candle source for ``load_ohlcv`` (``snapshot``, ``csv``, ``binance``, ...):
            ``csv`` reads the coins imported with ``cryptoforecast data import``, or ``path``.
        cache_ttl: seconds a forecast stays cached (0 disables the cache).
        clock: returns the current UTC datetime (inject a fake one in tests).
        end: forecast "as of" this time, as ``as_of`` of :meth:`predict` means it (the forms of
            :mod:`cryptoforecast.data.times`; :class:`DataError` for any other); ``None`` = the
            latest candle. Unlike ``as_of``, forecasts of a predictor set to an earlier time on
            purpose (a replay, a test of the ledger) are recorded as ``record`` says.
        interval: candle interval (``1d`` or ``4h``).
        ledger: where non-cached forecasts are appended (default: :class:`Ledger` on the
            registry's database or ``$CRYPTOFORECAST_HOME/ledger.db``); ``record=False`` skips it.
        history: candles to load (default: feature warm-up + ``DISTRIBUTION_HISTORY``, of
            which the point forecast reads the last warm-up + ``EXTRA_HISTORY``).
        move_thresholds: |price change| fractions for ``Forecast.p_move`` (default 5% and 10%).
        stale_grace_seconds: a forecast is ``stale`` when a candle newer than its ``as_of``
            closed more than this long ago (checked again on every cache hit).
        state: where what is computed once per candle is kept (:mod:`.state`: the features,
            the ``garch_ref`` fit, the baselines and the technical forecast), so a cache miss on
            candles already seen fits nothing (default: in memory, and on disk under
            ``$CRYPTOFORECAST_HOME/state``, created on first use).
        path: with ``source="csv"``, a CSV file of candles, read for any coin id asked
            (nothing is imported); ``None`` reads the imported coins.
        settings: whose ``models.plugins`` are loaded the first time a production record (or a
            ``model_type`` asked for) needs a plug-in this process has not loaded (default:
            :func:`~cryptoforecast.config.load_config`, read then, never at construction).
    """

    def __init__(
        self,
        registry: Any = None,
        source: str = "snapshot",
        cache_ttl: float = 300,
        clock: Callable[[], datetime] | None = None,
        end: Any = None,
        interval: str = "1d",
        ledger: Ledger | None = None,
        record: bool = True,
        history: int | None = None,
        move_thresholds: tuple[float, ...] = MOVE_THRESHOLDS,
        stale_grace_seconds: float = 3600.0,
        state: ServingState | None = None,
        path: str | Path | None = None,
        settings: Settings | None = None,
    ) -> None:
        if path is not None and source != "csv":
            raise DataError(
                f"path= is a CSV file of candles, read by source='csv', not source={source!r}; "
                "pass source='csv' with it, or drop path="
            )
        self._registry = registry
        self.source = source
        self.path = path
        self.cache_ttl = cache_ttl
        self.clock = clock or _utcnow
        self.end = end
        self.interval = interval
        self._ledger = ledger
        self.record = record
        self.history = history
        self.move_thresholds = tuple(move_thresholds)
        self.stale_grace_seconds = stale_grace_seconds
        self.cache: TTLCache[tuple[Any, ...], Forecast] = TTLCache(
            cache_ttl, clock=lambda: self.clock().timestamp()
        )
        self._models: dict[int, Forecaster] = {}
        self._distributions: dict[int, StoredDistribution] = {}
        self._promotions: dict[tuple[int, datetime], str] = {}
        #: production records kept while the registry's change stamp stays
        self._lookups: ProductionLookups[ModelRecord | None] = ProductionLookups(
            lambda: self.registry
        )
        self._warmup_rows: int | None = None
        #: the last candle state got: (the candles, weakly; their series and point rows; state)
        self._last_state: tuple[weakref.ref[pd.DataFrame], tuple[Any, ...], CandleState] | None
        self._last_state = None
        #: by series, the last candles' contents (copied) with their point rows and state
        self._seen: dict[tuple[str, str, str], tuple[CandleContents, int, CandleState]] = {}
        self._state = state
        self._lock = threading.Lock()
        self.ledger_errors = 0
        self._settings = settings
        self._plugins_lock = threading.Lock()
        self._plugins_loaded = False

    # -- collaborators, created on first use ---------------------------------------------------
    @property
    def registry(self) -> Any:
        if self._registry is None:
            with self._lock:
                if self._registry is None:
                    self._registry = ModelRegistry()
        return self._registry

    @property
    def state(self) -> ServingState:
        """What is computed once per candle and kept (see :mod:`.state`)."""
        if self._state is None:
            with self._lock:
                if self._state is None:
                    self._state = ServingState(directory=home_dir() / "state")
        return self._state

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            with self._lock:
                if self._ledger is None:
                    self._ledger = Ledger(default_ledger_url(getattr(self._registry, "url", None)))
        return self._ledger

    @property
    def end(self) -> Any:
        """The time every forecast is made "as of" unless a call gives ``as_of`` (``None``:
        the latest candle); checked when set."""
        return self._end

    @end.setter
    def end(self, value: Any) -> None:
        if value is not None:
            parse_time(value, "end")
        self._end = value

    @property
    def loaded_models(self) -> dict[int, Forecaster]:
        """Models loaded so far, by model_id (each is loaded once and reused)."""
        return dict(self._models)

    # -- inputs --------------------------------------------------------------------------------
    @staticmethod
    def check_horizon(horizon: Any) -> int:
        if (
            isinstance(horizon, bool)
            or not isinstance(horizon, int)
            or not 1 <= horizon <= MAX_HORIZON
        ):
            raise DataError(
                f"horizon must be a whole number of candles from 1 to {MAX_HORIZON}, "
                f"got {horizon!r}"
            )
        return horizon

    @staticmethod
    def check_model_type(model_type: str | None) -> str | None:
        known = model_types()  # the built-ins and the plug-ins loaded at start-up
        if model_type is not None and model_type not in known:
            raise ConfigError(
                f"unknown model_type {model_type!r}; use one of {', '.join(known)} or omit it"
            )
        return model_type

    def _warmup(self) -> int:
        """The features' warm-up rows (a property of the feature code: read once)."""
        if self._warmup_rows is None:
            try:
                self._warmup_rows = int(warmup_rows())
            except TypeError:  # a signature that needs arguments: be generous
                self._warmup_rows = 250
        return self._warmup_rows

    def _history_rows(self) -> int:
        if self.history is not None:
            return int(self.history)
        return self._warmup() + max(EXTRA_HISTORY, DISTRIBUTION_HISTORY)

    def point_candles(self, candles: pd.DataFrame) -> pd.DataFrame:
        """The last of ``candles`` the point forecast reads (all of them when ``history`` is
        set); the distribution reads every candle loaded."""
        if self.history is not None:
            return candles
        return candles.iloc[-(self._warmup() + EXTRA_HISTORY) :]

    def candles(self, crypto_id: str) -> pd.DataFrame:
        """The candles a forecast of ``crypto_id`` is built from (as of ``end``)."""
        return self.candles_as_of(crypto_id, self.end)

    def candles_as_of(self, crypto_id: str, as_of: Any) -> pd.DataFrame:
        """The candles known at ``as_of`` (closed by then; ``None``: the latest), as many as
        the features need."""
        return load_ohlcv(
            crypto_id,
            days=self._history_rows(),
            interval=self.interval,
            source=self.source,
            as_of=as_of,
            path=self.path,
        )

    def asset(self, crypto_id: str) -> Asset:
        """The asset ``crypto_id`` names: any id when candles come from ``path``."""
        return file_asset(crypto_id) if self.path is not None else resolve_asset(crypto_id)

    def features(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Features from the same code training uses."""
        return build_features(candles)

    def _model_features(
        self, crypto_id: str, candles: pd.DataFrame, features: pd.DataFrame, model: Forecaster
    ) -> pd.DataFrame:
        """A global model (one with a ``universe_``) also reads the market's candles, each coin's
        loaded up to this forecast's origin (whatever ``end`` or ``as_of`` chose it)."""
        universe = getattr(model, "universe_", None)
        if not universe:
            return features
        closed = candles.index[-1] + check_interval(self.interval)  # when the origin closed
        return with_cross_section(
            crypto_id, candles, features, universe, lambda c: self.candles_as_of(c, closed)
        )

    def candle_state(self, crypto_id: str, candles: pd.DataFrame) -> CandleState:
        """What is kept from exactly these ``candles`` of ``crypto_id`` (see :mod:`.state`)."""
        rows = (
            len(candles)
            if self.history is not None
            else min(len(candles), self._warmup() + EXTRA_HISTORY)
        )  # len(self.point_candles(candles)), without the slice
        series = (self.source, crypto_id, self.interval)
        last = self._last_state  # the same frame again (the steps of one request): no digest
        if last is not None and last[0]() is candles and last[1] == (series, rows):
            return last[2]
        contents = CandleContents.of(candles)
        seen = self._seen.get(series)  # the last request's candles of the series: compared, not
        if seen is not None and seen[1] == rows and seen[0] == contents:  # hashed again
            state = seen[2]
        else:
            state = self.state.get(series, candles, rows)
            self._seen[series] = (contents, rows, state)
        self._last_state = (weakref.ref(candles), (series, rows), state)
        return state

    def reference_fit(self, crypto_id: str, candles: pd.DataFrame) -> ReferenceFit:
        """``garch_ref`` fitted on ``candles``, once per candle state: every horizon of these
        candles reads the same fit."""
        state = self.candle_state(crypto_id, candles)
        if state.reference is None:
            state.reference = fit_reference(candles)
        return state.reference

    def baseline_distributions(
        self, crypto_id: str, horizon: int, candles: pd.DataFrame | None = None
    ) -> Baselines:
        """``garch_ref`` (the cached fit) and the 30-day Gaussian at the last of ``candles``
        (default: the predictor's), location 0: what the ledger keeps beside the served one."""
        asset = self.asset(crypto_id)
        candles = self.candles(asset.id) if candles is None else candles
        state = self.candle_state(asset.id, candles)
        kept = state.baselines.get(horizon)
        if kept is None:
            kept = baseline_distributions(candles, horizon, self.reference_fit(asset.id, candles))
            state.baselines[horizon] = kept
        return kept

    def warm(self, crypto_id: str, horizons: Iterable[int]) -> CandleState:
        """Compute now what a forecast of ``crypto_id``'s latest candles reads for each of
        ``horizons`` (the features, the ``garch_ref`` fit, the baselines and the technical
        forecast; see :mod:`.state`) and keep it, so the first request on these candles fits
        nothing: the candle refresher calls it when a new candle arrives. Nothing is recorded
        or cached as a forecast. Raises what computing it raises (the caller logs it)."""
        asset = self.asset(crypto_id)
        wanted = [self.check_horizon(h) for h in horizons]
        candles = self.candles(asset.id)
        recent = self.point_candles(candles)
        state = self.candle_state(asset.id, candles)
        if state.features is None:
            state.features = self.features(recent)
        self.reference_fit(asset.id, candles)
        for horizon in wanted:
            self.baseline_distributions(asset.id, horizon, candles)
            if horizon not in state.technical:
                state.technical[horizon] = self._fallback(recent, state.features, horizon)
        if self.end is None:  # the live state: kept for the next process too
            self.state.save((self.source, asset.id, self.interval), state)
        return state

    def intraday(self, crypto_id: str, candles: pd.DataFrame) -> pd.DataFrame | None:
        """The coin's 4h candles up to the close of the last of ``candles``, where the source
        already holds them (the embedded snapshot, or a live source's local cache, which the
        refresher and ``data update`` keep beside the daily candles; nothing is fetched here);
        ``None`` for 4h forecasts, when there are none, or when they stop before that close (a
        4h refresh that failed): a distribution fitted on them would read the last day's
        figures from the daily candle instead, which is not what it was fitted on."""
        if self.interval != "1d":
            return None
        closed = candles.index[-1] + check_interval(self.interval)
        try:
            if self.source == "snapshot":
                frame = load_ohlcv(
                    crypto_id, interval=INTRADAY_INTERVAL, source="snapshot", as_of=closed
                )
            elif self.source in LIVE_SOURCES or (self.source == "csv" and self.path is None):
                cached = CandleCache().read(self.source, crypto_id, INTRADAY_INTERVAL)
                if cached is None:
                    return None
                frame = cached[cached.index + check_interval(INTRADAY_INTERVAL) <= closed]
            else:
                return None
        except CryptoForecastError as exc:
            log.info("no 4h candles of %s for its distribution: %s", crypto_id, redact(exc))
            return None
        frame = frame[frame.index >= candles.index[0]]
        if not len(frame) or frame.index[-1] + check_interval(INTRADAY_INTERVAL) < closed:
            return None
        return frame

    def _no_intraday(self, crypto_id: str, name: str) -> Unserved:
        """Why ``name`` (a distribution fitted on 4h candles) has none to read for
        ``crypto_id``: the source has none (CoinGecko, CSV files), or they have not been
        refreshed up to the forecast's last close (retried: not cached)."""
        if self.source == "snapshot" or companion_intervals(self.source, self.interval):
            return Unserved(
                f"{name} reads 4h candles, and the {self.source} 4h candles of {crypto_id} do "
                "not reach this forecast's last close (`cryptoforecast data update "
                f"{crypto_id}` fetches them)",
                retry=self.source != "snapshot",
            )
        if self.source == "csv" and self.path is None:
            return Unserved(
                f"{name} reads 4h candles, and no 4h candles of {crypto_id} reaching this "
                "forecast's last close were imported (`cryptoforecast data import "
                f"{crypto_id} FILE.csv --interval 4h`)"
            )
        return Unserved(f"{name} reads 4h candles, which source {self.source} does not have")

    # -- registry ------------------------------------------------------------------------------
    def production_record(
        self, crypto_id: str, horizon: int, model_type: str | None
    ) -> ModelRecord | None:
        """The registry's production record for the key (with no model_type: the best point
        model, by validation MASE, as ``ModelRegistry.get_production_model`` ranks them)."""
        record: ModelRecord | None = self.registry.get_production_model(
            crypto_id, model_type, horizon=horizon
        )
        return record

    def production_distribution(self, crypto_id: str, horizon: int) -> ModelRecord | None:
        """The registry's production distribution version of the (coin, horizon), or None."""
        record: ModelRecord | None = self.registry.get_production_distribution(crypto_id, horizon)
        return record

    def load_configured_plugins(self) -> None:
        """Load the plug-ins ``settings.models.plugins`` names, once per predictor (called the
        first time a record or a ``model_type`` needs a plug-in that is not loaded, so a
        predictor built in Python serves plug-in models without a ``load_plugins`` call).

        Only what the configuration names is imported, never what a record names, and only on
        the main thread (``models.plugins``): elsewhere a plug-in not loaded yet is a
        ConfigError, which a forecast answers with the labelled fallback. The service loads them
        at start-up (``create_app``) and passes its settings, so a request imports nothing."""
        with self._plugins_lock:
            if self._plugins_loaded:
                return
            self._plugins_loaded = True  # tried once: a plug-in that fails is not imported again
            load_plugins(self._settings if self._settings is not None else load_config())

    def load_model(self, record: ModelRecord) -> Forecaster:
        """The fitted model of ``record``, loaded (and sha256-verified) once, then reused; the
        configured plug-ins are loaded first when the record needs one that is not loaded."""
        if record.model_id not in self._models and missing_plugin(record) is not None:
            self.load_configured_plugins()
        return self._loaded(self._models, record, load_registered)

    def load_distribution(self, record: ModelRecord) -> StoredDistribution:
        """The distribution of the distribution version ``record``, loaded (and
        sha256-verified) once, then reused."""
        return self._loaded(self._distributions, record, load_distribution_version)

    def load_failure(self, record: ModelRecord) -> str | None:
        """Why the production model ``record`` (a point model or a distribution version) cannot
        load here, in the words a forecast's fallback reason uses (the kind of failure, never a
        path); ``None`` when it loads. Loaded once and kept, as a forecast would load it, so a
        model that loads costs nothing the next time; one that does not is tried again, so a
        restored artifact counts at once."""
        try:
            if record.kind == DISTRIBUTION:
                self.load_distribution(record)
            else:
                self.load_model(record)
        except Exception as exc:
            if record.kind == DISTRIBUTION:
                reason = unloadable(record, exc).reason
            else:
                reason = _point_load_failure(record, exc)
            log.warning(
                "model %s (%s): %s: %s", record.model_id, record.crypto_id, reason, redact(exc)
            )
            return reason
        return None

    def _loaded(
        self, loaded: dict[int, T], record: ModelRecord, load: Callable[[ModelRecord], T]
    ) -> T:
        """``loaded[record.model_id]``, or ``load(record)`` kept there the first time."""
        item = loaded.get(record.model_id)
        if item is None:
            item = load(record)
            with self._lock:
                loaded[record.model_id] = item
        return item

    def promotion(self, record: ModelRecord) -> str:
        """Why ``record`` is in production (its promotion's recorded reason), read once per
        promotion; ``in production`` when the history cannot be read."""
        key = (record.model_id, record.updated_at)
        reason = self._promotions.get(key)
        if reason is None:
            try:
                reason = promotion_reason(self.registry.history(model_id=record.model_id))
            except Exception as exc:  # the distribution still serves; the label says less
                log.warning("cannot read the history of model %s: %s", record.model_id, redact(exc))
                return "in production"
            with self._lock:
                self._promotions[key] = reason
        return reason

    # -- prediction ----------------------------------------------------------------------------
    def _prepare(
        self, crypto_id: str, horizon: int, model_type: str | None, as_of: Any = None
    ) -> Prepared:
        """Checked inputs, candles, the production record (or why there is none), cache key."""
        asset = self.asset(crypto_id)
        horizon = self.check_horizon(horizon)
        if model_type is not None and model_type not in model_types():
            self.load_configured_plugins()  # a plug-in's model type, named before it is loaded
        model_type = self.check_model_type(model_type)
        candles = self.candles(asset.id) if as_of is None else self.candles_as_of(asset.id, as_of)
        record: ModelRecord | None = None
        reason: str | None = None
        distribution: ModelRecord | None = None
        why: str | None = None
        stamp = self._lookups.stamp()
        try:
            record = self._lookups.get(
                stamp,
                ("point", asset.id, horizon, model_type),
                lambda: self.production_record(asset.id, horizon, model_type),
            )
        except Exception as exc:  # a database or driver error: still answer, labelled
            # the reason reaches anonymous clients: the error's kind, never its URL or paths
            reason = why = unavailable("registry", exc)  # (not asked again for the distribution)
            log.warning("the registry failed for %s: %s", asset.id, redact(exc))
        if record is None and reason is None:
            reason = "no production model"
        if why is None:
            try:
                distribution = self._lookups.get(
                    stamp,
                    ("distribution", asset.id, horizon),
                    lambda: self.production_distribution(asset.id, horizon),
                )
            except Exception as exc:  # the fallback distribution serves, labelled
                why = unavailable("registry", exc)
                log.warning("the registry failed for %s: %s", asset.id, redact(exc))
        if distribution is None and why is None:
            why = no_production_distribution(asset.id, horizon)
        key = (
            asset.id,
            horizon,
            model_type,
            candles.index[-1],
            record.model_id if record else None,
            self.interval,
            as_of is not None,  # a back-dated answer is never the live one (it is not recorded)
            distribution.model_id if distribution else None,
        )
        return Prepared(asset.id, horizon, candles, record, reason, key, distribution, why)

    def _answer_cached(self, hit: Forecast, as_of: Any) -> Forecast:
        """A cached forecast, marked cached, its staleness judged again at the current time."""
        return hit.model_copy(update={"cached": True, **self._staleness(hit.as_of, as_of)})

    def _staleness(self, last_candle: Any, as_of: Any = None) -> dict[str, Any]:
        """``stale`` and ``stale_reason`` of a forecast from ``last_candle`` (see ``freshness``).

        A forecast "as of" a past time (``as_of``, else the predictor's ``end``) is judged at
        that time: :func:`~cryptoforecast.data.times.as_of_instant`, as its candles were chosen.
        """
        now = self.clock()
        when = self.end if as_of is None else as_of
        if when is not None:
            now = min(now, as_of_instant(when, "end" if as_of is None else "as_of").to_pydatetime())
        s = staleness(last_candle, self.interval, now, self.stale_grace_seconds, self.source)
        return {"stale": s.stale, "stale_reason": s.reason}

    def predict(
        self, crypto_id: str, horizon: int = 1, model_type: str | None = None, as_of: Any = None
    ) -> Forecast:
        """Forecast ``crypto_id``'s close ``horizon`` candles ahead (see the module docstring).

        ``as_of`` forecasts from what was known at that time (default: the predictor's ``end``,
        else the latest candle), e.g. ``predict("bitcoin", 7, as_of="2025-01-01")``:

        - a date (``2025-01-01``) means that day's close: the daily candle dated that day (for 4h
          candles, the day's last one, which closes at midnight UTC);
        - a date-time means the last candle that had closed at or before it: a 1d candle dated D
          closes at D+1 00:00 UTC, a 4h candle four hours after it opens, so
          ``2025-01-01T00:00:01`` is answered from the daily candle of 2024-12-31. A date-time
          with ``Z`` or an offset (``+02:00``) is converted to UTC; one without is UTC;
        - staleness is judged at that time too;
        - anything else (empty, ``nan``, ``NaT``, ``-1``, ``now``, out of 1970-01-01 ..
          2261-12-31) raises :class:`DataError` naming ``as_of``, the value and these forms
          (the API answers 422).

        A forecast asked for with ``as_of`` is back-dated, whatever time it names (even one at or
        after the latest candle): it is never recorded in the ledger, so no live score counts
        it, and it is cached apart from the live forecast of the same candle.

        Raises :class:`DataError` for an unknown id, a bad horizon or a bad ``as_of``,
        :class:`ConfigError` for an unknown model type, :class:`PredictionUnavailable` when even
        the fallback fails.
        """
        prepared = self._prepare(crypto_id, horizon, model_type, as_of)
        hit = self.cache.get(prepared.key)
        if hit is not None:
            return self._answer_cached(hit, as_of)

        asset_id, horizon, candles = prepared.crypto_id, prepared.horizon, prepared.candles
        production = self._distribution_version(
            asset_id, candles, horizon, prepared.distribution, prepared.distribution_reason
        )
        forecast = self._compute(
            asset_id, candles, horizon, prepared.record, prepared.reason, as_of, production
        )
        retry = isinstance(production, Unserved) and production.retry
        if not retry and not (forecast.fallback_reason or "").startswith(LIBRARY_UNAVAILABLE):
            # a failed import (or 4h candles not refreshed yet) is not kept: the next request
            # retries
            self.cache.set(prepared.key, forecast)
        if self.record and as_of is None:  # a back-dated forecast is not a live one
            try:
                kept = self.baseline_distributions(asset_id, horizon, candles)
                self.ledger.record(
                    forecast, self.source, reference=kept.reference, gaussian=kept.gaussian
                )
            except Exception as exc:  # the forecast is still good; the ledger failure is logged
                self.ledger_errors += 1
                log.warning("could not append the forecast to the ledger: %s", redact(exc))
        return forecast

    def _compute(
        self,
        crypto_id: str,
        candles: pd.DataFrame,
        horizon: int,
        record: ModelRecord | None,
        reason: str | None,
        as_of: Any = None,
        production: ProductionDistribution | Unserved | None = None,
    ) -> Forecast:
        recent = self.point_candles(candles)
        state = self.candle_state(crypto_id, candles)
        kept = (set(state.baselines), set(state.technical))
        if state.features is None:
            state.features = self.features(recent)
        features = state.features
        answer: PointForecast | str | None = reason
        if record is not None:
            answer = self._model_forecast(crypto_id, recent, features, record, state)
        if not isinstance(answer, PointForecast):
            answer = self._fallback_forecast(crypto_id, recent, features, horizon, answer, state)
        intraday = None
        # 4h candles only for a stored distribution fitted on them: serving reads what training did
        if answer.distribution is not None and answer.distribution.uses_intraday_:
            intraday = self.intraday(crypto_id, candles)
        baseline = None
        if answer.distribution is None and not isinstance(production, ProductionDistribution):
            baseline = self.baseline_distributions(crypto_id, horizon, candles).reference
        if (
            as_of is None
            and self.end is None
            and kept
            != (
                set(state.baselines),
                set(state.technical),
            )
        ):  # the live state, newly computed: kept for the next process too
            self.state.save((self.source, crypto_id, self.interval), state)
        now = self.clock()
        return build_forecast(
            crypto_id,
            candles,
            horizon,
            answer,
            interval=self.interval,
            now=now,
            move_thresholds=self.move_thresholds,
            staleness=self._staleness(candles.index[-1], as_of),
            reference=None if baseline is not None else self.reference_fit(crypto_id, candles),
            intraday=intraday,
            production=production,
            baseline=baseline,
            memo=state.served,
        )

    def _distribution_version(
        self,
        crypto_id: str,
        candles: pd.DataFrame,
        horizon: int,
        record: ModelRecord | None,
        reason: str | None,
    ) -> ProductionDistribution | Unserved:
        """The production distribution version ready to serve from ``candles`` (loaded once,
        fitted up to their last candle, with the 4h candles it reads), or why it cannot."""
        if record is None:
            return Unserved(reason or no_production_distribution(crypto_id, horizon))
        try:
            model = self.load_distribution(record)
        except Exception as exc:
            unserved = unloadable(record, exc)
            log.warning(
                "distribution model %s (%s h=%s): %s: %s",
                record.model_id,
                crypto_id,
                horizon,
                unserved.reason,
                redact(exc),
            )
            return unserved
        why = unusable_reason(record, model, candles.index[-1], self.interval)
        if why is not None:
            return Unserved(why)
        intraday = None
        if model.uses_intraday_:
            intraday = self.intraday(crypto_id, candles)
            if intraday is None:
                return self._no_intraday(crypto_id, f"distribution model {record.model_id}")
        return ProductionDistribution(
            model, record.model_id, record.version, self.promotion(record), intraday
        )

    def _model_forecast(
        self,
        crypto_id: str,
        candles: pd.DataFrame,
        features: pd.DataFrame,
        record: ModelRecord,
        state: CandleState | None = None,
    ) -> PointForecast | str:
        """The production model's forecast (kept in ``state`` for the next request on these
        candles, unless the model reads other coins' candles too), or why it cannot give one (a
        fallback reason)."""
        reason = trained_after(record, candles.index[-1])
        if reason is not None:
            return reason
        try:
            model = self.load_model(record)
        except Exception as exc:
            reason = _point_load_failure(record, exc)
            log.warning("model %s (%s): %s: %s", record.model_id, crypto_id, reason, redact(exc))
            return reason
        try:
            key = (record.model_id, record.artifact_relpath)
            own = state is not None and not getattr(model, "universe_", None)
            kept = state.points.get(key) if own and state is not None else None
            if kept is None:
                kept = predict_last(
                    model,
                    self._model_features(crypto_id, candles, features, model),
                    float(candles["close"].iloc[-1]),
                )
                if own and state is not None:
                    state.points[key] = kept
            point, bands = kept
        except Exception as exc:
            # the reason is public: the package's own words (without paths or secrets), or only
            # the kind of a library's error; the log has the rest
            reason = f"prediction failed: {type(exc).__name__}"
            if isinstance(exc, CryptoForecastError):
                reason += f": {hide_paths(redact(exc))}"
            log.warning("model %s (%s): %s: %s", record.model_id, crypto_id, reason, redact(exc))
            return reason
        return PointForecast(
            point,
            bands,
            record.model_type,
            "model",
            record=record,
            distribution=getattr(model, "distribution_", None),
        )

    def _fallback_forecast(
        self,
        crypto_id: str,
        candles: pd.DataFrame,
        features: pd.DataFrame,
        horizon: int,
        reason: str | None,
        state: CandleState | None = None,
    ) -> PointForecast:
        """The technical-analysis forecast (kept in ``state`` for the next request on these
        candles), labelled with why the production model did not answer;
        :class:`PredictionUnavailable` when it fails too."""
        assert reason is not None
        try:
            kept = state.technical.get(horizon) if state is not None else None
            point, bands = kept if kept is not None else self._fallback(candles, features, horizon)
            if state is not None:
                state.technical[horizon] = (point, bands)
        except Exception as exc:
            raise PredictionUnavailable(
                f"no forecast for {crypto_id!r} h={horizon}: the production model was unusable "
                f"({reason}) and the technical-analysis fallback failed too ({type(exc).__name__}: "
                f"{hide_paths(redact(exc))}). Check the market data for {crypto_id!r} (source "
                f"{self.source!r}).",
                public=f"no forecast for {crypto_id} h={horizon}: {reason}, and the "
                f"technical-analysis fallback failed ({type(exc).__name__})",
            ) from exc
        return PointForecast(
            point,
            bands,
            FALLBACK_MODEL_TYPE,
            "technical_analysis_fallback",
            fallback_reason=reason,
        )

    def _fallback(
        self, candles: pd.DataFrame, features: pd.DataFrame, horizon: int
    ) -> tuple[float, Bands]:
        """Fit the technical-analysis forecaster on this history only and predict the last row."""
        return technical_forecast(candles, features, horizon)

    # -- forecasts as data ---------------------------------------------------------------------
    def predict_path(
        self,
        crypto_id: str,
        horizons: Iterable[int] = range(1, MAX_HORIZON + 1),
        model_type: str | None = None,
        as_of: Any = None,
    ) -> pd.DataFrame:
        """The forecasts of ``crypto_id`` at each of ``horizons`` from one origin, as one frame:
        :meth:`predict` per horizon (same options, same errors, ledgered as it does), each row
        its :meth:`Forecast.to_frame`, indexed by horizon in increasing order. ``attrs`` holds
        ``crypto_id``, ``as_of`` (the last candle seen) and ``interval``.

        ``predict_path("bitcoin", range(1, 15), as_of="2025-01-01")`` is the 14-day path from
        that day's close; plot it with :meth:`plot_path` or
        :func:`~cryptoforecast.serving.plotting.plot_forecast_path`.
        """
        wanted = sorted({self.check_horizon(h) for h in horizons})
        if not wanted:
            raise DataError(
                f"horizons is empty: give whole numbers of candles from 1 to {MAX_HORIZON}, "
                f"e.g. range(1, {MAX_HORIZON + 1})"
            )
        for _attempt in range(2):  # a candle closing mid-path moves the origin: take it again
            rows = [self.predict(crypto_id, h, model_type, as_of).to_frame() for h in wanted]
            frame = pd.concat(rows)
            if frame["as_of"].nunique() == 1:
                frame.attrs.update(rows[0].attrs)
                return frame
        raise PredictionUnavailable(
            f"the candles of {crypto_id!r} kept changing while its forecast path was made "
            f"(origins {sorted(map(str, frame['as_of'].unique()))}); ask again"
        )

    def plot_path(
        self,
        crypto_id: str,
        horizons: Iterable[int] = range(1, MAX_HORIZON + 1),
        level: float | Iterable[float] = (80, 95),
        model_type: str | None = None,
        as_of: Any = None,
        ax: Any = None,
        path: Any = None,
    ) -> Any:
        """:meth:`predict_path` drawn as a fan chart over the coin's recent closes (up to the
        origin), e.g. ``plot_path("bitcoin", level=[80, 95], path="fan.png")``; returns the
        matplotlib Figure (see :func:`~cryptoforecast.serving.plotting.plot_forecast_path`)."""
        from cryptoforecast.serving.plotting import plot_forecast_path

        frame = self.predict_path(crypto_id, horizons, model_type, as_of)
        candles = self.candles_as_of(frame.attrs["crypto_id"], self.end if as_of is None else as_of)
        closes = candles["close"].loc[: frame.attrs["as_of"]]
        return plot_forecast_path(frame, closes=closes, level=level, ax=ax, path=path)
