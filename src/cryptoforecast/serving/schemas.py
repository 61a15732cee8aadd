"""Response models of the prediction service (pydantic): what a forecast and a score look like.

Every number a client receives says where it came from: ``source`` is ``"model"`` or
``"technical_analysis_fallback"``, and a fallback always carries its ``fallback_reason``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from cryptoforecast.config import MAX_OLDER_THAN_DAYS, MIN_OLDER_THAN_DAYS
from cryptoforecast.models import CROSS_ASSET_MODEL_TYPES, MODEL_TYPES, model_types
from cryptoforecast.registry import DISTRIBUTION

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "RETRAINABLE_TYPES",
    "FALLBACK_REASONS",
    "AccuracyReport",
    "AccuracyRow",
    "BatchForecast",
    "Forecast",
    "ModelList",
    "PromoteRequest",
    "PublicModel",
    "RetrainRequest",
    "ForecastSource",
    "DistributionShape",
    "ForecastDistribution",
    "fallback_category",
]

ForecastSource = Literal["model", "technical_analysis_fallback"]

#: the fixed reasons a forecast falls back to technical analysis; a failure while predicting is
#: reported as ``"prediction failed: <error>"``.
FALLBACK_REASONS: tuple[str, ...] = (
    "no production model",
    "artifact missing",
    "integrity check failed",
    "prediction failed",
    "model library unavailable",
    "registry unavailable",
    "model trained after the forecast origin",
)


def fallback_category(reason: str | None) -> str:
    """The bounded label of a fallback reason (``"prediction failed: ..."`` -> its head)."""
    if not reason:
        return "none"
    head = reason.split(":", 1)[0].strip()
    return head if head in FALLBACK_REASONS else "other"


#: ``Forecast.intervals`` as published: pydantic would describe each ``[lower, upper]`` pair
#: with ``prefixItems``, which OpenAPI tools such as schemathesis cannot read; the JSON is the same
_INTERVALS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "coverage (e.g. 0.8) -> [lower, upper] price",
    "additionalProperties": {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 2,
        "maxItems": 2,
    },
}


#: ``Forecast`` fields that ``to_frame`` spreads over several columns (or leaves out: the
#: distribution's parameters are its quantiles there)
_EXPANDED_FIELDS = frozenset({"intervals", "quantiles", "p_move", "distribution"})


def _quantile_column(level: float) -> str:
    """The ``Forecast.to_frame`` column of a quantile level: ``0.05`` -> ``"q0.05"`` (the
    shortest decimal, so the columns of levels in (0, 1) sort in level order)."""
    return f"q{level:.10g}"


def _level_name(coverage: float) -> str:
    """An interval's coverage as a percentage name: ``0.8`` -> ``"80"``, ``0.975`` ->
    ``"97.5"`` (the suffix of ``lower_80``/``upper_80`` in ``Forecast.to_frame``)."""
    return f"{round(coverage * 100, 6):g}"


class DistributionShape(BaseModel):
    """The standardised shape ``Z`` of a forecast distribution (``StandardShape`` as JSON):
    ``normal`` (N(0, scale^2)), ``t`` (scale * T(df)) or ``empirical`` (sorted ``scores``)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["normal", "t", "empirical"]
    df: float | None = Field(default=None, description="degrees of freedom of a t shape")
    scale: float = Field(1.0, gt=0, description="scale of a normal or t shape")
    scores: list[float] = Field(
        default_factory=list, description="standardised scores of an empirical shape, sorted"
    )


class ForecastDistribution(BaseModel):
    """The predictive distribution of the ``horizon``-candle log return:
    ``location + scale * Z``, ``Z`` a standardised :class:`DistributionShape` whose median is 0
    (so ``location`` is the median log return). Every other number of a forecast (its price,
    intervals, quantiles, ``p_up``, ``p_move``) is read off this one distribution."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="what made it, e.g. 'garch_ref (fallback)' (labelled)")
    location: float = Field(description="median log return over the horizon")
    scale: float = Field(gt=0, description="scale of the log return (sigma)")
    shape: DistributionShape


class Forecast(BaseModel):
    """One forecast of ``crypto_id``'s close ``horizon`` candles after ``as_of``: one predictive
    distribution (``distribution``) and every number read off it.

    The distribution is located at the served point forecast (the production model's, or the
    labelled technical-analysis fallback's) with its shape centred on 0, so ``predicted_return``
    is its median log return and ``predicted_price = last_close * exp(predicted_return)`` its
    median price. ``intervals`` maps a coverage (0.8, 0.95) to ``[lower, upper]`` in price: the
    distribution's 0.1/0.9 and 0.025/0.975 ``quantiles``. ``p_up`` and ``p_move`` come from it
    too; ``direction`` follows the median and is ``"flat"`` when ``p_up`` is within 0.02 of
    ``p_up_base_rate`` (the ``p_up`` of the same distribution at zero location), which
    ``p_up_is_base_rate`` says. Without a distribution (too little history) there are no
    intervals, quantiles or probabilities, and ``no_distribution_reason`` says why.

    The distribution is the production distribution version of the (coin, horizon), else the
    one stored with the production model (older registries), else the ``garch_ref`` fallback:
    ``distribution_source`` names it and why, ``distribution_model_id`` and
    ``distribution_version`` the registered version it came from, ``distribution_reason`` why.
    """

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    crypto_id: str
    horizon: int = Field(ge=1)
    interval: str = "1d"
    as_of: datetime = Field(description="time of the last candle the forecast saw (UTC)")
    target_time: datetime = Field(description="time of the candle whose close is forecast (UTC)")
    last_close: float
    predicted_price: float = Field(
        description="the median price of the predictive distribution, last_close * "
        "exp(predicted_return) (without a distribution: of the point forecast)"
    )
    predicted_return: float = Field(
        description="the median log return over the horizon: the served point forecast"
    )
    direction: Literal["up", "down", "flat"] = Field(
        description="the sign of the median; 'flat' when p_up is within 0.02 of its base rate"
    )
    intervals: Annotated[dict[float, tuple[float, float]], WithJsonSchema(_INTERVALS_SCHEMA)]
    quantiles: dict[float, float] | None = Field(
        default=None, description="price at each quantile level of the predictive distribution"
    )
    p_up: float | None = Field(default=None, description="probability the close is higher")
    p_up_base_rate: float | None = Field(
        default=None,
        description="p_up of the same distribution at zero location: what the shape alone says",
    )
    p_up_is_base_rate: bool = Field(
        default=False,
        description="true when p_up is within 0.02 of its base rate (it says nothing beyond "
        "the shape)",
    )
    p_move: dict[float, float] | None = Field(
        default=None, description="probability the |price change| exceeds each threshold"
    )
    distribution_source: str | None = Field(
        default=None,
        description="what made the distribution and why, e.g. 'har_rv v1.2.0 (distribution "
        "model 17, promotion gate passed: ...)' or 'garch_ref (fallback: no production "
        "distribution for bitcoin h=7)'",
    )
    distribution: ForecastDistribution | None = Field(
        default=None, description="the predictive distribution every number above is read off"
    )
    no_distribution_reason: str | None = Field(
        default=None, description="why the forecast has no distribution (too little history)"
    )
    distribution_model_id: int | None = Field(
        default=None,
        description="registry id of the version the distribution came from: the production "
        "distribution version, or (older registries) the production model it was stored with; "
        "null for the fallback",
    )
    distribution_version: str | None = Field(
        default=None, description="version of that registered model"
    )
    distribution_reason: str | None = Field(
        default=None,
        description="why this distribution serves: the production distribution version's "
        "promotion reason, or why it did not serve (none in production, its artifact failed "
        "its check, it reads 4h candles the source does not have, ...)",
    )
    model_type: str
    model_id: int | None = None
    model_version: str | None = None
    model_age_days: float | None = None
    source: ForecastSource
    fallback_reason: str | None = None
    cached: bool = False
    generated_at: datetime
    stale: bool = Field(
        False,
        description="true when a newer candle than as_of closed more than the grace period ago",
    )
    stale_reason: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """This forecast as a one-row DataFrame indexed by ``horizon``: its scalar fields
        (``as_of``, ``target_time``, ``predicted_price`` (the median), ``p_up``, ``source``,
        ``model_id``, ``distribution_source``, ...), then one column per quantile of its
        distribution (``q0.025`` ... ``q0.975``, named so they sort in level order), the
        ``lower_80``/``upper_80`` (...) bounds of each interval and ``p_move_0.05`` (...) per
        move threshold. Every value is one of the forecast's own fields, nothing recomputed;
        without a distribution there are no quantile, interval or ``p_move`` columns."""
        import pandas as pd

        row: dict[str, Any] = {
            name: getattr(self, name)
            for name in type(self).model_fields
            if name not in _EXPANDED_FIELDS and name != "horizon"
        }
        for level, price in sorted((self.quantiles or {}).items()):
            row[_quantile_column(level)] = price
        for coverage, (lower, upper) in sorted(self.intervals.items()):
            row[f"lower_{_level_name(coverage)}"] = lower
            row[f"upper_{_level_name(coverage)}"] = upper
        for threshold, probability in sorted((self.p_move or {}).items()):
            row[f"p_move_{threshold:.10g}"] = probability
        frame = pd.DataFrame([row], index=pd.Index([self.horizon], name="horizon"))
        frame.attrs.update(crypto_id=self.crypto_id, as_of=self.as_of, interval=self.interval)
        return frame

    def plot(
        self,
        closes: pd.Series | None = None,
        level: float | Iterable[float] = (80, 95),
        ax: Any = None,
        path: str | Path | None = None,
    ) -> Figure:
        """Plot this forecast: its median at ``target_time`` with a bar per interval ``level``
        (80 and 95 by default), over ``closes`` when given (see
        :func:`~cryptoforecast.serving.plotting.plot_forecast_path`, which this calls)."""
        from cryptoforecast.serving.plotting import plot_forecast_path

        return plot_forecast_path(self.to_frame(), closes=closes, level=level, ax=ax, path=path)


class AccuracyRow(BaseModel):
    """Live, out-of-sample accuracy of one (crypto_id, model_type, horizon) from the ledger.

    ``mase`` is the mean absolute error of the forecasts divided by that of the naive forecast
    (``last_close`` at forecast time) on the same scored forecasts; below 1 beats naive.
    ``pending_reason`` says why unscored forecasts are pending, with counts (e.g. targets after
    the last close of the embedded snapshot, which will never be scored from it).

    The served predictive distribution (of the log return ``log(actual / last_close)``) is
    scored on the forecasts that kept it together with ``garch_ref``'s and the 30-day rolling
    Gaussian's at the same origin (``n_distribution``); every figure of it (CRPS, coverage, PIT)
    stands beside theirs on the same forecasts. Forecasts recorded without them (an older
    ledger) are left out and counted (``n_without_distribution``).
    """

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    crypto_id: str
    model_type: str
    horizon: int
    n_forecasts: int
    n_scored: int
    n_pending: int
    pending_reason: str | None = None
    mape: float | None = None
    naive_mape: float | None = None
    mae: float | None = None
    naive_mae: float | None = None
    mase: float | None = None
    coverage_80: float | None = None
    coverage_95: float | None = None
    first_target: datetime | None = None
    last_target: datetime | None = None
    # the served predictive distribution, scored beside garch_ref and the 30-day Gaussian
    coverage_basis: Literal["distribution", "stored intervals"] | None = Field(
        default=None,
        description="what coverage_80/95 were computed from: the served distribution's quantiles "
        "on the rows that kept it (beside the references' on the same rows), or, on a ledger "
        "with no stored distribution, the stored interval bounds",
    )
    n_distribution: int = Field(
        0,
        description="scored forecasts whose served, garch_ref and Gaussian distributions were kept",
    )
    n_without_distribution: int = Field(
        0, description="scored forecasts left out of the distribution scores (none kept)"
    )
    distribution_excluded_reason: str | None = None
    crps: float | None = Field(
        default=None, description="mean CRPS of the served distribution (log-return units)"
    )
    crps_reference: float | None = Field(
        default=None, description="mean CRPS of garch_ref at the same origins (location 0)"
    )
    crps_gaussian: float | None = Field(
        default=None, description="mean CRPS of the 30-day rolling Gaussian at the same origins"
    )
    crps_skill_vs_reference_pct: float | None = Field(
        default=None, description="100 * (1 - crps / crps_reference): positive beats garch_ref"
    )
    crps_skill_vs_gaussian_pct: float | None = None
    dm_pvalue_vs_reference: float | None = Field(
        default=None, description="Diebold-Mariano (HAC, HLN) p-value on the per-forecast CRPS"
    )
    dm_pvalue_vs_gaussian: float | None = None
    reference_coverage_80: float | None = None
    reference_coverage_95: float | None = None
    gaussian_coverage_80: float | None = None
    gaussian_coverage_95: float | None = None
    pit_mean: float | None = Field(default=None, description="mean PIT (0.5 if unbiased)")
    reference_pit_mean: float | None = None
    gaussian_pit_mean: float | None = None
    pit_histogram: list[float] | None = Field(
        default=None, description="share of PIT values in 10 equal bins (0.1 each if calibrated)"
    )
    reference_pit_histogram: list[float] | None = None
    gaussian_pit_histogram: list[float] | None = None
    distribution_verdict: str | None = Field(
        default=None, description="the served distribution against garch_ref, in words, with p"
    )


class AccuracyReport(BaseModel):
    """``GET /v1/accuracy``: the ledger's scores at ``scored_at``."""

    scored_at: datetime
    accuracy: list[AccuracyRow]
    note: str = (
        "mase = MAE of the forecasts / MAE of the naive forecast (last close) on the same scored "
        "forecasts; below 1 beats naive. crps scores the served distribution of the log return "
        "beside garch_ref (crps_reference) and the 30-day Gaussian (crps_gaussian) on the same "
        "forecasts; a positive skill is a lower CRPS than that baseline"
    )


class BatchForecast(BaseModel):
    """``GET /v1/forecast?ids=...``: one forecast per id, in the order asked."""

    forecasts: list[Forecast]


class PublicModel(BaseModel):
    """A registered model as anyone may see it: ids, kind, version, stage and metrics.

    ``kind`` is ``point`` or ``distribution``; a distribution names its scale model in
    ``distribution`` (``har_rv``, ``garch_t``, ...; ``None`` for a point model).

    Artifact paths, file hashes, lineage (git commit, host) and ``created_by`` stay in the admin
    view (``GET /v1/admin/models``).
    """

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    model_id: int
    crypto_id: str
    model_type: str
    kind: str
    distribution: str | None = None
    horizon: int
    version: str
    status: str
    metrics: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    guard: str | None = Field(
        default=None,
        description="the live guard's evidence when it last demoted this model (losing to "
        "naive on its scored live forecasts); None: never demoted by it",
    )


class ModelList(BaseModel):
    """``GET /v1/models``: the registry listing, oldest first."""

    models: list[PublicModel]


class PromoteRequest(BaseModel):
    """Body of ``POST /v1/models/{model_id}/promote`` (optional)."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    reason: str = Field("promoted through the API", max_length=500)
    force: bool = Field(
        False,
        strict=True,  # an override is the JSON literal true, not "yes" or 1
        description="Promote a model whose latest promotion-gate decision did not pass (or that "
        "has none: registered by hand); the history records the override. Without it such a "
        "promotion is refused with a 409.",
    )


#: what ``POST /v1/retrain`` can retrain: every point model type and the distribution versions
RETRAINABLE_TYPES: tuple[str, ...] = (*MODEL_TYPES, DISTRIBUTION)


class RetrainRequest(BaseModel):
    """Body of ``POST /v1/retrain`` (optional).

    With ``crypto_id``: retrain that (crypto_id, model_type or lightgbm, horizon or 1) now.
    Without: retrain every tracked model older than ``older_than_days`` (default from config).
    Only what the job can run is accepted: ``older_than_days`` within the bounds of the config's
    ``retrain.older_than_days``, and with ``crypto_id`` a model type trained one coin at a time.
    A misspelt field is an error, not ignored.
    """

    model_config = ConfigDict(
        protected_namespaces=(),
        extra="forbid",
        # the rule of ``_one_coin_type``, published so the schema accepts exactly what the
        # service accepts: no cross-asset model type together with a crypto_id
        json_schema_extra={
            "not": {
                "required": ["crypto_id", "model_type"],
                "properties": {
                    "crypto_id": {"type": "string"},
                    "model_type": {"enum": list(CROSS_ASSET_MODEL_TYPES)},
                },
            }
        },
    )

    crypto_id: str | None = Field(default=None, max_length=64)
    model_type: (
        Annotated[str, WithJsonSchema({"type": "string", "enum": list(RETRAINABLE_TYPES)})] | None
    ) = Field(
        default=None,
        description=f"one of {', '.join(RETRAINABLE_TYPES)} ({DISTRIBUTION}: the coin's "
        "distribution versions, gated against garch_ref)",
    )
    horizon: int | None = Field(default=None, ge=1, le=14)
    older_than_days: float | None = Field(
        default=None,
        ge=MIN_OLDER_THAN_DAYS,
        le=MAX_OLDER_THAN_DAYS,
        description=f"{MIN_OLDER_THAN_DAYS} to {MAX_OLDER_THAN_DAYS} days, as the config's "
        "retrain.older_than_days",
    )

    @field_validator("horizon", "older_than_days", mode="before")
    @classmethod
    def _json_number(cls, value: Any) -> Any:
        # the schema says number: ``true`` or ``"7"`` would otherwise be read as one
        if isinstance(value, bool | str):
            raise ValueError(f"must be a JSON number, got {value!r}; e.g. 7")
        return value

    @field_validator("model_type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        known = (*model_types(), DISTRIBUTION)  # with the plug-ins loaded at start-up
        if value is not None and value not in known:
            raise ValueError(
                f"unknown model_type {value!r}; use one of {', '.join(known)} or omit it"
            )
        return value

    @model_validator(mode="after")
    def _one_coin_type(self) -> RetrainRequest:
        if self.crypto_id is not None and self.model_type in CROSS_ASSET_MODEL_TYPES:
            raise ValueError(
                f"model_type {self.model_type!r} is trained on many coins at once, not for one "
                "crypto_id: omit crypto_id to retrain the stale ones, or run 'cryptoforecast "
                f"train --model {self.model_type}' with the coins"
            )
        return self
