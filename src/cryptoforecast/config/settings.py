"""What the configuration may hold: one pydantic section per concern (each model's
hyperparameters, training, backtest, promotion gate, distribution, retraining, serving, demo) and
:class:`Settings`, which gathers them. Every section refuses unknown keys and out-of-range values:
every number is finite and has a lower and an upper bound, declared in its ``Field`` (so they show
in the JSON schema); the defaults here equal ``configs/model_config.yaml`` (a test keeps them
equal)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from cryptoforecast.assets import resolve_asset
from cryptoforecast.exceptions import DataError
from cryptoforecast.redaction import mask_url

__all__ = [
    "BacktestConfig",
    "BaseModelName",
    "CacheConfig",
    "CalibrationName",
    "DemoConfig",
    "DistributionCandidateName",
    "DistributionConfig",
    "EnsembleConfig",
    "FeatureGroupName",
    "FeatureSelectionConfig",
    "GuardConfig",
    "LightGBMConfig",
    "LSTMConfig",
    "MAX_OLDER_THAN_DAYS",
    "MAX_WINDOW_CANDLES",
    "MIN_OLDER_THAN_DAYS",
    "ModelName",
    "ModelsConfig",
    "PromotionGateConfig",
    "RefreshConfig",
    "RetrainConfig",
    "ServingConfig",
    "Settings",
    "ShrunkConfig",
    "TrainingConfig",
    "VolatilityName",
    "XGBoostConfig",
]


#: the longest window of candles anything is asked to use (a century of daily candles, more
#: than a decade of 4-hour ones): training windows, backtest origins, ``--days`` options
MAX_WINDOW_CANDLES = 100_000
#: retraining ages in days (``retrain.older_than_days``, ``POST /v1/retrain``): a day to a century
MIN_OLDER_THAN_DAYS = 1
MAX_OLDER_THAN_DAYS = 36_500


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class _BoosterSection(_Section):
    """The hyperparameters LightGBM and XGBoost share, with the same meaning, bounds and
    defaults (so the two boosters are configured alike)."""

    n_estimators: int = Field(500, ge=1, le=100_000)
    learning_rate: float = Field(0.03, gt=0, le=1)
    subsample: float = Field(0.8, gt=0, le=1)
    colsample_bytree: float = Field(0.8, gt=0, le=1)
    reg_lambda: float = Field(1.0, ge=0, le=10_000)
    early_stopping_rounds: int = Field(50, ge=1, le=100_000)


class LightGBMConfig(_BoosterSection):
    num_leaves: int = Field(15, ge=2, le=4096)
    max_depth: int = Field(-1, ge=-1, le=64, description="-1: no limit")
    min_child_samples: int = Field(20, ge=1, le=MAX_WINDOW_CANDLES)
    subsample_freq: int = Field(1, ge=0, le=1000)


class XGBoostConfig(_BoosterSection):
    max_depth: int = Field(4, ge=1, le=32)
    min_child_weight: float = Field(5.0, ge=0, le=10_000)


class LSTMConfig(_Section):
    lookback: int = Field(30, ge=2, le=365)
    hidden_size: int = Field(32, ge=1, le=1024)
    num_layers: int = Field(1, ge=1, le=4)
    dropout: float = Field(0.1, ge=0, lt=1)
    epochs: int = Field(40, ge=1, le=10_000)
    batch_size: int = Field(64, ge=1, le=65_536)
    learning_rate: float = Field(1e-3, gt=0, le=1)
    weight_decay: float = Field(1e-4, ge=0, le=1)
    patience: int = Field(5, ge=1, le=10_000)


BaseModelName = Literal["lightgbm", "xgboost", "lstm", "naive", "drift"]
ModelName = Literal["lightgbm", "xgboost", "lstm", "ensemble", "shrunk", "naive", "drift"]


def _default_bases() -> list[BaseModelName]:
    return ["lightgbm", "lstm"]


def _default_demo_models() -> list[ModelName]:
    return ["lightgbm", "lstm", "ensemble"]


class EnsembleConfig(_Section):
    base_models: list[BaseModelName] = Field(default_factory=_default_bases)
    meta: Literal["ridge", "lgbm", "mean"] = "ridge"
    inner_folds: int = Field(5, ge=2, le=20)


class ShrunkConfig(_Section):
    base: BaseModelName = "lightgbm"
    inner_folds: int = Field(3, ge=1, le=20)
    alpha: float = Field(0.05, gt=0, lt=1)


class ModelsConfig(_Section):
    """Users' own forecasters (``cryptoforecast.models.plugins``): imported only when named."""

    plugins: list[str] = Field(
        default_factory=list,
        description="forecaster classes to load at start-up: an entry-point name of group "
        "'cryptoforecast.models', 'package.module:Class' or 'path/to/file.py:Class'",
    )

    @field_validator("plugins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        # CRYPTOFORECAST_MODELS__PLUGINS=a.py:A,b : one name or several, without YAML quoting
        return [v.strip() for v in value.split(",")] if isinstance(value, str) else value

    @field_validator("plugins")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if any(not v.strip() for v in value) or len(set(value)) != len(value):
            raise ValueError(
                f"models.plugins must list distinct, non-empty plug-in names, got {value}"
            )
        return value


class TrainingConfig(_Section):
    days: int = Field(1095, ge=60, le=MAX_WINDOW_CANDLES, description="training window in candles")
    validation_size: int = Field(
        365, ge=10, le=MAX_WINDOW_CANDLES, description="walk-forward validation tail, in origins"
    )
    validation_retrain_every: int = Field(30, ge=1, le=MAX_WINDOW_CANDLES)
    seed: int = Field(42, ge=0, le=2**31 - 1, description="what every model library accepts")
    optuna_storage: str | None = Field(
        None, description="Optuna RDB URL; None: SQLite under $CRYPTOFORECAST_HOME"
    )

    @field_serializer("optuna_storage", when_used="json")
    def _masked(self, url: str | None) -> str | None:  # shown or stored: never the password
        return mask_url(url) if url is not None else None


#: the feature groups of ``features.catalog.GROUPS`` (a test keeps the two equal)
FeatureGroupName = Literal["technical", "price", "volume", "calendar", "cross_asset"]


def _default_exclude_groups() -> dict[int, list[FeatureGroupName]]:
    # the verdicts of benchmarks/bench_feature_ablation.py (benchmarks/README.md, "Feature
    # ablation"): a group that did not lower the walk-forward validation MASE in at least 2 of 3
    # yearly sub-periods before the served replays' period leaves that horizon's default set
    return {
        1: ["calendar", "price", "volume"],
        3: ["price", "volume"],
        7: ["calendar", "technical", "volume"],
        14: ["calendar", "price", "technical"],
    }


class FeatureSelectionConfig(_Section):
    top_k: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="keep the k most important features, ranked on training rows only",
    )
    exclude_groups: dict[int, list[FeatureGroupName]] = Field(
        default_factory=_default_exclude_groups,
        description="horizon (1-14 candles) -> feature groups left out of every model trained "
        "for it; defaults: the feature ablation's verdicts (benchmarks/README.md)",
    )

    @field_validator("exclude_groups")
    @classmethod
    def _known_horizons(
        cls, value: dict[int, list[FeatureGroupName]]
    ) -> dict[int, list[FeatureGroupName]]:
        for horizon, groups in value.items():
            if not 1 <= horizon <= 14:
                raise ValueError(
                    f"exclude_groups is keyed by horizon, a whole number of candles from 1 to 14, "
                    f"got {horizon}; e.g. {{7: [calendar]}}"
                )
            if len(set(groups)) != len(groups):
                raise ValueError(
                    f"exclude_groups[{horizon}] repeats a group: {groups}; name each group once"
                )
            if not {"technical", "price", "volume", "calendar"} - set(groups):
                raise ValueError(
                    f"exclude_groups[{horizon}] = {groups} leaves the models no feature; keep at "
                    "least one of technical, price, volume, calendar"
                )
        return dict(sorted(value.items()))

    def excluded_groups(self, horizon: int) -> tuple[str, ...]:
        """The feature groups left out of the models trained for ``horizon`` (none when the
        horizon has no entry)."""
        return tuple(self.exclude_groups.get(horizon, ()))


class BacktestConfig(_Section):
    initial_train_size: int = Field(730, ge=30, le=MAX_WINDOW_CANDLES)
    test_size: int = Field(30, ge=1, le=MAX_WINDOW_CANDLES)
    step_size: int = Field(30, ge=1, le=MAX_WINDOW_CANDLES)
    retrain_frequency: int = Field(30, ge=1, le=MAX_WINDOW_CANDLES)
    window: Literal["expanding", "sliding"] = "expanding"
    interval_coverage: list[float] = Field(default_factory=lambda: [0.8, 0.95])

    @field_validator("interval_coverage")
    @classmethod
    def _coverage_in_range(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError(
                "give at least one coverage strictly between 0 and 1, e.g. [0.8, 0.95]"
            )
        for c in value:
            if not 0 < c < 1:
                raise ValueError(f"each coverage must be strictly between 0 and 1, got {c}")
        return value


class CacheConfig(_Section):
    ttl_seconds: int = Field(300, ge=0, le=86_400)


class PromotionGateConfig(_Section):
    max_mase: float = Field(1.0, gt=0, le=100)
    require_dm_direction: bool = True
    max_dm_pvalue: float | None = Field(0.05, gt=0, le=1)
    holm: bool = True
    candidates: list[str] = Field(
        default_factory=lambda: ["lightgbm", "xgboost", "lstm", "ensemble"],
        description="model types competing for one (coin, horizon): the Holm family",
    )
    stability_periods: int = Field(3, ge=1, le=100)
    stability_min_wins: int = Field(2, ge=0, le=100)
    retire_on_fail: bool = True


VolatilityName = Literal[
    "rolling_gaussian", "ewma_t", "garch_t", "garch_ref", "har_rv", "lightgbm_vol"
]
#: the calibration choices of a stored distribution (those of the models' calibration module)
CalibrationName = Literal["none", "conformal", "conformal_window", "aci", "blend"]

#: the scale models that may compete as distribution versions (``garch_ref`` is the bar they must
#: beat, not a candidate)
DistributionCandidateName = Literal[
    "rolling_gaussian", "ewma_t", "garch_t", "har_rv", "lightgbm_vol", "combination"
]


def _default_distribution_candidates() -> list[DistributionCandidateName]:
    return ["garch_t", "har_rv", "ewma_t", "lightgbm_vol", "combination"]


class DistributionConfig(_Section):
    """The candidates trained, gated against ``garch_ref`` and registered as distribution
    versions of each (coin, horizon), and ``model``: an optional scale model stored inside each
    point model's artifact (``None`` by default: it is not gated, so it serves only where the
    (coin, horizon) has no production distribution version, before the ``garch_ref``
    fallback)."""

    model: VolatilityName | None = None
    calibration: CalibrationName = Field(
        "none",
        description="shape of the stored distribution: none (the scale model's parametric "
        "shape), conformal, conformal_window, aci or blend; 'none' on the per-year evidence "
        "(benchmarks/README.md)",
    )
    calibration_fraction: float = Field(
        0.3, gt=0, lt=1, description="share of the window whose scores calibrate the shape"
    )
    candidates: list[DistributionCandidateName] = Field(
        default_factory=_default_distribution_candidates,
        description="scale models trained as distribution versions of each (coin, horizon), each "
        "with `calibration`, and gated against garch_ref (the Holm family)",
    )
    garch_gjr: bool = Field(
        False, description="fit the garch_t candidate as GJR-GARCH(1,1,1)-t (a leverage term)"
    )

    @field_validator("candidates")
    @classmethod
    def _distinct_candidates(
        cls, value: list[DistributionCandidateName]
    ) -> list[DistributionCandidateName]:
        if not value or len(set(value)) != len(value):
            raise ValueError(
                f"distribution candidates must be a non-empty list without repeats, got {value}; "
                "e.g. [garch_t, har_rv, ewma_t, lightgbm_vol]"
            )
        return value


class RetrainConfig(_Section):
    older_than_days: int = Field(7, ge=MIN_OLDER_THAN_DAYS, le=MAX_OLDER_THAN_DAYS)
    schedule_every_hours: float | None = Field(
        None,
        ge=1 / 3600,
        le=8760,
        description="run the stale-model retraining inside the service this often (a second to "
        "a year)",
    )


class GuardConfig(_Section):
    """The live guard on every production point model (``cryptoforecast.evaluation.guard``): a
    one-sided CUSUM of the standardised loss differential against naive. Its thresholds are
    calibrated for the default ``drift``, ``window``, ``min_errors`` and ``clip`` (in-control
    average run length 2,000 origins); changing those needs ``thresholds``."""

    enabled: bool = Field(True, description="demote a production model the guard finds losing")
    drift: float = Field(0.5, gt=0, le=10, description="CUSUM reference value k, in sd units")
    window: int = Field(90, ge=2, le=MAX_WINDOW_CANDLES, description="errors in the scale")
    min_errors: int = Field(30, ge=2, le=MAX_WINDOW_CANDLES, description="errors before a test")
    clip: float = Field(4.0, gt=0, le=100, description="each standardised error clipped to +-")
    thresholds: dict[int, float] | None = Field(
        None, description="threshold per horizon (None: the calibrated ones)"
    )
    every_minutes: float = Field(
        60.0, ge=1 / 60, le=525_600, description="how often the service runs the guard"
    )

    @field_validator("thresholds")
    @classmethod
    def _positive_thresholds(cls, value: dict[int, float] | None) -> dict[int, float] | None:
        for h, t in (value or {}).items():
            if not 1 <= h <= 14 or not 0 < t <= 1000:
                raise ValueError(
                    f"each guard threshold maps a horizon from 1 to 14 to a number in (0, 1000], "
                    f"got {h}: {t}"
                )
        return value


class RefreshConfig(_Section):
    """The service's background candle refresher (live sources only)."""

    enabled: bool = True
    delay_seconds: float = Field(30.0, ge=0, le=3600, description="wait after a candle closes")
    jitter_seconds: float = Field(30.0, ge=0, le=3600, description="plus up to this, at random")
    retry_seconds: float = Field(
        60.0, gt=0, le=3600, description="first back-off after a failed refresh (doubles)"
    )
    lock_retry_seconds: float = Field(
        60.0, gt=0, le=3600, description="how often another process retries to take over"
    )


class ServingConfig(_Section):
    stale_grace_seconds: float = Field(
        3600.0,
        ge=0,
        le=30 * 86_400,
        description="a forecast is stale when a newer candle closed more than this long ago "
        "(at most 30 days)",
    )
    refresh: RefreshConfig = Field(default_factory=RefreshConfig)


def _check_horizons(value: list[int]) -> list[int]:
    bad = [h for h in value if not 1 <= h <= 14]
    if bad or not value:
        raise ValueError(
            f"horizons must be a non-empty list of whole days from 1 to 14, got {value}"
        )
    return sorted(set(value))


class DemoConfig(_Section):
    crypto_id: str = "bitcoin"
    horizons: list[int] = Field(default_factory=lambda: [1, 7])
    models: list[ModelName] = Field(default_factory=_default_demo_models)
    backtest_days: int = Field(365, ge=30, le=MAX_WINDOW_CANDLES)
    retrain_frequency: int = Field(90, ge=1, le=MAX_WINDOW_CANDLES)
    lstm_epochs: int = Field(15, ge=1, le=10_000)

    @field_validator("crypto_id")
    @classmethod
    def _known_asset(cls, value: str) -> str:
        try:
            return resolve_asset(value).id
        except DataError as exc:
            raise ValueError(f"{exc}; use a known asset id such as 'bitcoin'") from None

    @field_validator("horizons")
    @classmethod
    def _horizons_in_range(cls, value: list[int]) -> list[int]:
        return _check_horizons(value)


class Settings(_Section):
    horizons: list[int] = Field(default_factory=lambda: [1, 3, 7, 14])
    lightgbm: LightGBMConfig = Field(default_factory=LightGBMConfig)
    xgboost: XGBoostConfig = Field(default_factory=XGBoostConfig)
    lstm: LSTMConfig = Field(default_factory=LSTMConfig)
    ensemble: EnsembleConfig = Field(default_factory=EnsembleConfig)
    shrunk: ShrunkConfig = Field(default_factory=ShrunkConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    feature_selection: FeatureSelectionConfig = Field(default_factory=FeatureSelectionConfig)
    backtest: BacktestConfig = Field(default_factory=BacktestConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    promotion_gate: PromotionGateConfig = Field(default_factory=PromotionGateConfig)
    distribution: DistributionConfig = Field(default_factory=DistributionConfig)
    retrain: RetrainConfig = Field(default_factory=RetrainConfig)
    guard: GuardConfig = Field(default_factory=GuardConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)
    demo: DemoConfig = Field(default_factory=DemoConfig)

    @field_validator("horizons")
    @classmethod
    def _horizons_in_range(cls, value: list[int]) -> list[int]:
        return _check_horizons(value)

    def model_params(self, model_type: str) -> dict[str, Any]:
        """Hyperparameters of ``model_type`` as plain keyword arguments."""
        section = getattr(self, model_type, None)
        return section.model_dump() if isinstance(section, BaseModel) else {}
