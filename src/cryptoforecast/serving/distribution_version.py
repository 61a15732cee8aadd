"""The production distribution version of a (coin, horizon): loaded once, checked, labelled.

A distribution is its own registered version: ``model_type``
:data:`~cryptoforecast.registry.DISTRIBUTION`, its scale model named in ``config["distribution"]``,
its artifact directory a saved distribution whose files are checked against their recorded
sha256 before anything is read, as a point model's are (:func:`load_distribution_version`, the
one place such an artifact is read).

It serves a forecast, located at the served point forecast, when it fits that forecast
(:func:`unusable_reason`): fitted on candles up to the forecast's origin only (its lineage and
its own ``train_end_``), for the forecast's candle interval, and, when it was fitted on 4h
candles, given 4h candles that reach the origin's close (the same model read on daily
candles alone is not the model that was validated, so it does not serve on them). Otherwise the
forecast says why (:class:`Unserved`) and the next source serves: the distribution stored with
the production point model (registries from before distribution versions), else the
``garch_ref`` fallback.

Every reason here may reach anonymous clients: it names model ids, versions, coins and times,
never a path, a URL or an error's message (an error by its type only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from cryptoforecast.exceptions import ArtifactError
from cryptoforecast.models.distribution import StoredDistribution, load_distribution
from cryptoforecast.redaction import hide_paths, redact
from cryptoforecast.serving.model_checks import is_missing, trained_after

if TYPE_CHECKING:
    from cryptoforecast.registry.record import ModelRecord, StageEvent

__all__ = [
    "LIBRARY_UNAVAILABLE",
    "ProductionDistribution",
    "Unserved",
    "load_distribution_version",
    "no_production_distribution",
    "promotion_reason",
    "unloadable",
    "unusable_reason",
]

#: why a distribution version whose library failed to import did not serve (retried: not cached)
LIBRARY_UNAVAILABLE = "model library unavailable"
#: the longest promotion reason a forecast repeats
MAX_REASON = 300


@dataclass(frozen=True)
class ProductionDistribution:
    """The production distribution version that serves a forecast: the loaded distribution,
    its registry id and version, why it is in production (its promotion's recorded reason) and
    the coin's 4h candles when it reads them."""

    model: StoredDistribution
    model_id: int
    version: str
    reason: str
    intraday: pd.DataFrame | None = None

    @property
    def label(self) -> str:
        """What made the distribution: ``har_rv v1.2.0 (distribution model 17)``."""
        return f"{self.model.volatility} v{self.version} (distribution model {self.model_id})"

    @property
    def source(self) -> str:
        """What made it and why it serves: ``har_rv v1.2.0 (distribution model 17, promotion
        gate passed: ...)``."""
        return f"{self.label[:-1]}, {self.reason})"


@dataclass(frozen=True)
class Unserved:
    """Why the production distribution version does not serve a forecast; ``retry``: the
    reason may pass by itself (a library that failed to import, 4h candles not refreshed yet),
    so the forecast is not cached."""

    reason: str
    retry: bool = False


def no_production_distribution(crypto_id: str, horizon: int) -> str:
    """``no production distribution for bitcoin h=7``."""
    return f"no production distribution for {crypto_id} h={horizon}"


def load_distribution_version(record: ModelRecord) -> StoredDistribution:
    """The distribution of a distribution version, its artifact's hashes checked first.

    Raises :class:`ArtifactError` on a missing, changed or added file, an unreadable artifact,
    or one that holds a distribution for another horizon than the record's.
    """
    path = record.verify()  # the hashes checked, the path confined to the artifact root
    model = load_distribution(path)
    if int(model.horizon) != record.horizon:
        raise ArtifactError(
            f"artifact {str(record.artifact_path)!r} holds a {model.volatility!r} distribution "
            f"for horizon {model.horizon!r}, but model {record.model_id} is registered for "
            f"h={record.horizon}; register it again with horizon={model.horizon!r}."
        )
    return model


def unloadable(record: ModelRecord, exc: Exception) -> Unserved:
    """Why ``record``'s distribution could not be loaded, by the kind of failure only."""
    name = f"distribution model {record.model_id}"
    if isinstance(exc, ImportError):  # the process's libraries, not the artifact
        return Unserved(f"{name}: {LIBRARY_UNAVAILABLE}", retry=True)
    if isinstance(exc, ArtifactError):
        return Unserved(
            f"{name}: {'artifact missing' if is_missing(record) else 'integrity check failed'}"
        )
    return Unserved(f"{name}: cannot load it: {type(exc).__name__}")


def promotion_reason(events: Iterable[StageEvent]) -> str:
    """The recorded reason of the version's latest move into production (a passed gate, a
    promotion or a rollback), shortened and with any path hidden; ``in production`` without
    one."""
    reason = ""
    for event in events:
        if event.to_status == "production" and event.from_status != "production":
            reason = event.reason.strip()
    if not reason:
        return "in production"
    reason = hide_paths(redact(reason))
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 3] + "..."


def unusable_reason(
    record: ModelRecord, model: StoredDistribution, origin: pd.Timestamp, interval: str
) -> str | None:
    """Why the loaded distribution of ``record`` must not serve a forecast from the candle
    ``origin`` of ``interval`` candles: it forecasts from other candles, or it was fitted on
    candles after the origin (its forecast would be in-sample); ``None`` when it may serve."""
    name = f"distribution model {record.model_id}"
    fitted_on = (record.lineage or {}).get("interval") or "1d"
    if fitted_on != interval:
        return f"{name} forecasts from {fitted_on} candles, not {interval}"
    if trained_after(record, origin) is not None:
        last = (record.lineage or {}).get("last_candle")
        return f"{name} was trained on candles up to {last}, after this forecast's last candle"
    end = getattr(model, "train_end_", None)  # a saved DistributionForecaster knows its own
    try:
        fitted_to = pd.Timestamp(end) if end else None
    except (TypeError, ValueError):
        fitted_to = None
    if fitted_to is not None:
        fitted_to = fitted_to.tz_localize("UTC") if fitted_to.tzinfo is None else fitted_to
        if fitted_to > origin:
            return (
                f"{name} was fitted on candles up to {fitted_to.isoformat()}, after this "
                f"forecast's last candle {origin.isoformat()}"
            )
    return None
