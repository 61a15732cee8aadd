"""Configuration: ``configs/model_config.yaml`` validated with pydantic, overridable by environment.

Resolution order (later wins):

1. the defaults declared in :mod:`~cryptoforecast.config.settings` (identical to ``configs/model_config.yaml``; a test keeps them equal);
2. one YAML file, the first of: the ``path`` argument (``config show --path``),
   ``$CRYPTOFORECAST_CONFIG``, ``$CRYPTOFORECAST_HOME/config.yaml`` when it exists. The current
   directory is never searched, so a ``configs/`` folder that happens to be there changes nothing;
   :func:`config_sources` says which file and variables were read;
3. environment variables ``CRYPTOFORECAST_<SECTION>__<KEY>=value`` (``__`` separates nesting,
   values parsed as YAML scalars), e.g. ``CRYPTOFORECAST_LIGHTGBM__NUM_LEAVES=31`` or
   ``CRYPTOFORECAST_CACHE__TTL_SECONDS=60``.

A bad value raises :class:`~cryptoforecast.exceptions.ConfigError` naming the key, the value and
what is allowed (every number is finite, between the bounds its field declares). Hyperparameters reach models as plain keyword arguments (``cfg.lightgbm.model_dump()``).

The sections and :class:`Settings` live in :mod:`~cryptoforecast.config.settings`; the file and
environment resolution and :func:`load_config` in :mod:`~cryptoforecast.config.loader`.
"""

from __future__ import annotations

from cryptoforecast.config.loader import (
    CONFIG_ENV,
    ENV_PREFIX,
    HOME_CONFIG,
    config_file,
    config_sources,
    load_config,
)
from cryptoforecast.config.settings import (
    MAX_OLDER_THAN_DAYS,
    MAX_WINDOW_CANDLES,
    MIN_OLDER_THAN_DAYS,
    BacktestConfig,
    BaseModelName,
    CacheConfig,
    CalibrationName,
    DemoConfig,
    DistributionConfig,
    EnsembleConfig,
    FeatureGroupName,
    FeatureSelectionConfig,
    GuardConfig,
    LightGBMConfig,
    LSTMConfig,
    ModelName,
    ModelsConfig,
    PromotionGateConfig,
    RefreshConfig,
    RetrainConfig,
    ServingConfig,
    Settings,
    ShrunkConfig,
    TrainingConfig,
    VolatilityName,
    XGBoostConfig,
)

__all__ = [
    "BacktestConfig",
    "BaseModelName",
    "CONFIG_ENV",
    "CacheConfig",
    "CalibrationName",
    "DemoConfig",
    "DistributionConfig",
    "ENV_PREFIX",
    "EnsembleConfig",
    "FeatureGroupName",
    "FeatureSelectionConfig",
    "GuardConfig",
    "HOME_CONFIG",
    "LSTMConfig",
    "LightGBMConfig",
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
    "config_file",
    "config_sources",
    "load_config",
]
