"""Features and targets: candles in, a leak-free feature matrix and h-step log-return targets out.

* :func:`build_features` - 60+ scale-free columns in groups (:data:`FEATURE_GROUPS`).
* :func:`make_target` - ``log(close[t+h] / close[t])``; :func:`log_return_to_price` and
  :func:`price_to_log_return` convert between returns and prices.
* :func:`warmup_rows` - leading rows that are NaN because a window is not yet full.
* :func:`without_groups` - a feature frame without some groups' columns.
* :func:`check_lookahead` - proves a feature function never looks at later candles.
"""

from __future__ import annotations

from cryptoforecast.features.catalog import (
    FEATURE_GROUPS,
    FEATURE_SETS,
    FeatureSpec,
    feature_names,
    specs_for,
    without_groups,
)
from cryptoforecast.features.cross_section import cross_section_features, market_closes
from cryptoforecast.features.featureset import (
    build_features,
    detect_feature_set,
    min_history_rows,
    warmup_rows,
)
from cryptoforecast.features.leakage import (
    Leak,
    LookaheadReport,
    check_lookahead,
    load_feature_function,
)
from cryptoforecast.features.target import (
    log_return_to_price,
    make_target,
    price_to_log_return,
    target_name,
)

__all__ = [
    "FEATURE_GROUPS",
    "FEATURE_SETS",
    "FeatureSpec",
    "Leak",
    "LookaheadReport",
    "build_features",
    "check_lookahead",
    "detect_feature_set",
    "feature_names",
    "log_return_to_price",
    "make_target",
    "min_history_rows",
    "price_to_log_return",
    "specs_for",
    "target_name",
    "warmup_rows",
    "cross_section_features",
    "load_feature_function",
    "market_closes",
    "without_groups",
]
