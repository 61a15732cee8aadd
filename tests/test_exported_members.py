"""Every name has one home: each package's public names are pinned here, a package exports only
names its own modules define, only ``__init__`` re-exports, and code outside a package uses only
the names the package exports (the package facade is the API in use)."""

from __future__ import annotations

import ast
import importlib
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "cryptoforecast"

#: each package's public names (its ``__all__``): change this table on purpose, never by accident
PINNED = """
cryptoforecast.backtest:
    AdaptiveIntervals DistributionWalk FitCache ForecastBacktester ModelTrainer
    backtester_from level_tag trainer_for walk_combination walk_distribution
cryptoforecast.cli:
    COMMANDS CommandEntry LazyGroup app main
cryptoforecast.config:
    BacktestConfig BaseModelName CONFIG_ENV CacheConfig CalibrationName DemoConfig
    DistributionConfig ENV_PREFIX EnsembleConfig FeatureGroupName FeatureSelectionConfig
    GuardConfig HOME_CONFIG
    LSTMConfig
    LightGBMConfig MAX_OLDER_THAN_DAYS MAX_WINDOW_CANDLES MIN_OLDER_THAN_DAYS ModelName
    ModelsConfig PromotionGateConfig RefreshConfig RetrainConfig ServingConfig Settings ShrunkConfig
    TrainingConfig VolatilityName XGBoostConfig config_file config_sources load_config
cryptoforecast.data:
    CACHE_SHARING_FIX CandleCache FILE_SOURCE INTERVALS INTRADAY_INTERVAL LIVE_SOURCES
    LIVE_SOURCE_NAMES OHLCV_COLUMNS SOURCES as_of_instant atomic_write_bytes check_interval
    companion_intervals find_gaps import_coin import_coins load_ohlcv parse_time refresh_series shared_file_lock validate_candles
cryptoforecast.data.sources:
    BinanceSource CSVSource CandleSource CoinGeckoSource SnapshotSource
cryptoforecast.evaluation:
    ARL0 BacktestRun CALIBRATED_THRESHOLDS DETECTION_DELAY_P95 DMResult GUARD_REASON GuardParams GuardTrip GuardWalk
    LossGuard calibrate_threshold crps_ensemble cusum_run detection_delays guard_params
    guard_walk simulate_differentials crps_from_quantiles crps_gaussian crps_student_t
    diebold_mariano dm_crps format_price mase pit_histogram render_report scorecard
    scorecard_table summarise_distribution summarise_results verdict write_report
cryptoforecast.features:
    FEATURE_GROUPS FEATURE_SETS FeatureSpec Leak LookaheadReport build_features
    check_lookahead cross_section_features detect_feature_set feature_names
    load_feature_function log_return_to_price make_target market_closes min_history_rows
    price_to_log_return specs_for target_name warmup_rows without_groups
cryptoforecast.models:
    BaseForecaster COIN_LEVEL CROSS_ASSET_MODEL_TYPES ConformalCalibrator DriftForecaster
    EnsembleForecaster Forecaster GlobalLightGBMForecaster LSTMForecaster LightGBMForecaster
    MODEL_CLASSES MODEL_TYPES NaiveForecaster QuantileProbabilities ShrunkForecaster
    TIME_LEVEL TechnicalAnalysisForecaster XGBoostForecaster check_is_fitted context_rows
    load_forecaster load_registered make_forecaster model_class params_for resolve_purge
    train_rows walk_forward_splits ENTRY_POINT_GROUP Plugin load_plugins model_classes
    model_types plugin_for
cryptoforecast.models.distribution:
    BASELINES COMBINATION COMBINATION_LEVELS COMBINATION_MIN_SCORED COMBINATION_SHARPNESS
    COMBINATION_WINDOW CONFORMAL_WINDOW Calibration CombinedDistribution DistributionForecaster
    GarchRef MarketData PredictiveDistribution QUANTILES REFERENCE_MIN_RETURNS REFERENCE_WINDOW
    ScoreCalibrator StandardShape StoredDistribution VOLATILITY_MODELS calibrated_shape
    check_calibration check_levels combination_weights coverage_levels fitted_weights
    load_attached load_distribution make_calibrator make_volatility_model realized_measures
    save_attached
cryptoforecast.registry:
    DISTRIBUTION KINDS kind_of ModelRecord ModelRegistry SCHEMA_VERSION STAGES StageEvent URL_FORMS UTCDateTime
    compute_lineage default_registry default_registry_url make_engine model_registry
cryptoforecast.replay:
    ServedBacktest backtest_served guard_lines report_runs train_candidates
cryptoforecast.serving:
    AccuracyRow COVERAGES Forecast ForecastDistribution Ledger PredictionUnavailable Predictor TTLCache
    as_predictive create_app create_service plot_forecast_path
cryptoforecast.serving.dashboard:
    dashboard_router
cryptoforecast.serving.routes:
    ADMIN_TOKEN_ENV MAX_BATCH
cryptoforecast.training:
    DistributionGateDecision DistributionTraining Fitted GLOBAL_MODEL GateDecision StaleModel
    TRAINABLE_MODELS trainable_models TopKFeatures TrainingData TrainingResult TrainingSummary ValidationMetrics
    config_record decide_distributions decide_family train_distributions
    fit_and_validate fit_forecaster global_summaries model_params prepare_training_data
    register_trained resolve_settings retrain_job retrain_stale stale_models summarise_model
    train_global_model train_many train_model train_model_for_crypto with_top_features
"""
PUBLIC: dict[str, set[str]] = {
    block.split(":")[0]: set(block.split(":", 1)[1].split())
    for block in PINNED.strip().split("\ncryptoforecast")
    if block
}
PUBLIC = {(k if k.startswith(ROOT) else ROOT + k): v for k, v in PUBLIC.items()}


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / ROOT).rglob("*.py"))}


@cache
def _packages() -> tuple[str, ...]:
    return tuple(m for m, p in _modules().items() if p.name == "__init__.py" and m != ROOT)


@cache
def _tree(module: str) -> ast.Module:
    return ast.parse(_modules()[module].read_text(encoding="utf-8"))


@cache
def _defined(module: str) -> frozenset[str]:
    """Names a module binds at top level by a definition (not by an import)."""
    names: set[str] = set()
    for node in _tree(module).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return frozenset(names)


def _all(module: str) -> list[str]:
    for node in _tree(module).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return [ast.literal_eval(e) for e in node.value.elts]  # type: ignore[attr-defined]
    return []


def _package_of(module: str) -> str | None:
    """The innermost package (other than the root) that holds ``module``."""
    inside = [p for p in _packages() if module.startswith(p + ".")]
    return max(inside, key=len) if inside else None


def test_the_pinned_table_names_every_package() -> None:
    assert set(PUBLIC) == set(_packages())


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_a_package_exports_exactly_its_pinned_names(package: str) -> None:
    assert sorted(_all(package)) == sorted(PUBLIC[package]), (
        f"{package}.__all__ changed: update PINNED in this test on purpose, or restore it"
    )


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_a_package_exports_only_names_its_own_modules_define(package: str) -> None:
    module = importlib.import_module(package)
    for name in _all(package):
        homes = [
            m
            for m in _modules()
            if (m == package or m.startswith(package + ".")) and name in _defined(m)
        ]
        assert len(homes) == 1, f"{package}.{name} is defined in {homes or 'none of its modules'}"
        assert getattr(module, name) is not None


def test_only_package_inits_re_export() -> None:
    offenders = {
        m: sorted(set(_all(m)) - _defined(m))
        for m, path in _modules().items()
        if path.name != "__init__.py" and set(_all(m)) - _defined(m)
    }
    assert offenders == {}, "a module's __all__ lists names it imports (define or drop them)"


def test_code_outside_a_package_uses_only_its_exported_names() -> None:
    offenders: list[str] = []
    for module in _modules():
        for node in ast.walk(_tree(module)):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            target = node.module
            package = target if target in _packages() else _package_of(target)
            if package is None or module == package or module.startswith(package + "."):
                continue
            exported = set(_all(package))
            offenders += [
                f"{module}: from {target} import {a.name}"
                for a in node.names
                if a.name not in exported and f"{target}.{a.name}" not in _modules()
            ]
    assert offenders == [], "\n".join(offenders)
