"""The feature catalogue: every built-in feature with its group, inputs, lookback and meaning.

``FEATURE_GROUPS`` and ``docs/features.md`` are derived from :data:`SPECS`; a test checks that
:func:`~cryptoforecast.features.build_features` returns exactly these columns, in this order, and
that each column's first value appears exactly ``lookback - 1`` rows into the history.

Windows count candles: on daily candles ``ret_log_7`` spans a week, on 4h candles 28 hours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptoforecast.exceptions import ConfigError, FeatureError
from cryptoforecast.features.indicators import ema_window, wilder_window

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FEATURE_GROUPS",
    "FEATURE_SETS",
    "GROUPS",
    "SPECS",
    "FeatureSpec",
    "feature_names",
    "specs_for",
    "without_groups",
]

FEATURE_SETS: dict[str, tuple[str, ...]] = {
    "ohlcv_trades": ("open", "high", "low", "close", "volume", "quote_volume", "trades"),
    "ohlcv": ("open", "high", "low", "close", "volume"),
    "close_volume": ("close", "volume"),
}
"""Feature sets, richest first, with the candle columns each needs. ``build_features`` picks the
richest one the candles allow (CoinGecko candles carry only close and volume)."""

GROUPS: tuple[str, ...] = ("technical", "price", "volume", "calendar", "cross_asset")


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: its column name, group, the feature set that introduces it, lookback, meaning.

    ``needs`` is ``"close_volume"``, ``"ohlcv"``, ``"ohlcv_trades"`` or ``"market"``; ``lookback``
    is how many candles (the current one included) the value depends on.
    """

    name: str
    group: str
    needs: str
    lookback: int
    description: str


_SET_LEVEL = {"close_volume": 0, "ohlcv": 1, "ohlcv_trades": 2}


def _technical() -> list[FeatureSpec]:
    t, cv, ohlc = "technical", "close_volume", "ohlcv"
    out = [
        FeatureSpec(f"rsi_{n}", t, cv, wilder_window(n) + 1, f"RSI over {n} candles (0-100)")
        for n in (7, 14, 21)
    ]
    macd_line = ema_window(26)
    macd_sig = macd_line + ema_window(9) - 1
    out += [
        FeatureSpec("macd_12_26", t, cv, macd_line, "MACD line (EMA12 - EMA26) / close"),
        FeatureSpec(
            "macd_signal_12_26_9", t, cv, macd_sig, "MACD signal (EMA9 of the line) / close"
        ),
        FeatureSpec("macd_hist_12_26_9", t, cv, macd_sig, "MACD histogram (line - signal) / close"),
        FeatureSpec("bb_upper_dist_20_2", t, cv, 20, "upper Bollinger band (20, 2) / close - 1"),
        FeatureSpec("bb_lower_dist_20_2", t, cv, 20, "lower Bollinger band (20, 2) / close - 1"),
        FeatureSpec("bb_width_20_2", t, cv, 20, "Bollinger band width (upper - lower) / middle"),
        FeatureSpec("bb_pctb_20_2", t, cv, 20, "Bollinger %b: (close - lower) / (upper - lower)"),
        FeatureSpec("natr_14", t, ohlc, wilder_window(14) + 1, "ATR 14 / close"),
        FeatureSpec(
            "atr_ratio_14_50", t, ohlc, wilder_window(50) + 1, "ATR 14 / ATR 50 (volatility regime)"
        ),
        FeatureSpec("stoch_k_14_3", t, ohlc, 18, "slow stochastic %K (14, 3), 0-100"),
        FeatureSpec("stoch_d_14_3_3", t, ohlc, 18, "slow stochastic %D (14, 3, 3), 0-100"),
        FeatureSpec("cci_20", t, ohlc, 20, "commodity channel index over 20 candles"),
        FeatureSpec("willr_14", t, ohlc, 14, "Williams %R over 14 candles (-100-0)"),
        FeatureSpec("adx_14", t, ohlc, 2 * wilder_window(14), "ADX 14, trend strength (0-100)"),
        FeatureSpec("plus_di_14", t, ohlc, wilder_window(14) + 1, "+DI 14 (0-100)"),
        FeatureSpec("minus_di_14", t, ohlc, wilder_window(14) + 1, "-DI 14 (0-100)"),
        FeatureSpec("mfi_14", t, ohlc, 15, "money flow index over 14 candles (0-100)"),
    ]
    windows = (5, 10, 20, 50, 100, 200)
    out += [FeatureSpec(f"close_sma_{w}", t, cv, w, f"close / SMA {w} - 1") for w in windows]
    out += [
        FeatureSpec(f"close_ema_{w}", t, cv, ema_window(w), f"close / EMA {w} - 1") for w in windows
    ]
    for fast, slow in ((5, 20), (20, 50), (50, 200)):
        out.append(
            FeatureSpec(f"sma_cross_{fast}_{slow}", t, cv, slow, f"SMA {fast} / SMA {slow} - 1")
        )
    for fast, slow in ((5, 20), (20, 50), (50, 200)):
        out.append(
            FeatureSpec(
                f"ema_cross_{fast}_{slow}", t, cv, ema_window(slow), f"EMA {fast} / EMA {slow} - 1"
            )
        )
    return out


def _price() -> list[FeatureSpec]:
    p, cv, ohlc = "price", "close_volume", "ohlcv"
    out = [
        FeatureSpec(f"ret_log_{k}", p, cv, k + 1, f"log return over {k} candles")
        for k in (1, 3, 7, 14, 30)
    ]
    out += [
        FeatureSpec(
            f"mom_adj_{k}",
            p,
            cv,
            k + 1,
            f"risk-adjusted momentum: ret_log_{k} / (vol_{k} * sqrt({k}))",
        )
        for k in (14, 30)
    ]
    out += [
        FeatureSpec(
            f"acc_{k}",
            p,
            cv,
            2 * k + 1,
            f"acceleration: ret_log_{k} minus its value {k} candles earlier",
        )
        for k in (3, 7, 14)
    ]
    out += [
        FeatureSpec(f"vol_{k}", p, cv, k + 1, f"std of 1-candle log returns over {k} candles")
        for k in (7, 14, 30)
    ]
    out.append(FeatureSpec("vol_ratio_7_30", p, cv, 31, "vol_7 / vol_30"))
    out += [
        FeatureSpec(f"parkinson_{k}", p, ohlc, k, f"Parkinson high-low volatility over {k} candles")
        for k in (14, 30)
    ]
    out += [
        FeatureSpec(
            f"garman_klass_{k}", p, ohlc, k, f"Garman-Klass OHLC volatility over {k} candles"
        )
        for k in (14, 30)
    ]
    out += [
        FeatureSpec(f"zscore_{k}", p, cv, k, f"z-score of close against the last {k} closes")
        for k in (20, 50)
    ]
    for k in (20, 50, 200):
        out.append(
            FeatureSpec(f"dist_high_{k}", p, cv, k, f"close / highest close of {k} candles - 1")
        )
        out.append(
            FeatureSpec(f"dist_low_{k}", p, cv, k, f"close / lowest close of {k} candles - 1")
        )
    out += [
        FeatureSpec(
            "candle_body", p, ohlc, 1, "(close - open) / (high - low); 0 for a flat candle"
        ),
        FeatureSpec("candle_upper_shadow", p, ohlc, 1, "(high - max(open, close)) / (high - low)"),
        FeatureSpec("candle_lower_shadow", p, ohlc, 1, "(min(open, close) - low) / (high - low)"),
        FeatureSpec("range_log", p, ohlc, 1, "ln(high / low) of the candle"),
        FeatureSpec("gap_open", p, ohlc, 2, "ln(open / previous close)"),
    ]
    return out


def _volume() -> list[FeatureSpec]:
    v, cv, tr = "volume", "close_volume", "ohlcv_trades"
    return [
        FeatureSpec("volume_ratio_7", v, cv, 7, "volume / mean volume of the last 7 candles"),
        FeatureSpec("volume_ratio_30", v, cv, 30, "volume / mean volume of the last 30 candles"),
        FeatureSpec("volume_mom_7", v, cv, 14, "ln(volume of the last 7 candles / the 7 before)"),
        FeatureSpec(
            "volume_mom_30", v, cv, 60, "ln(volume of the last 30 candles / the 30 before)"
        ),
        FeatureSpec("volume_z_30", v, cv, 30, "z-score of volume against the last 30 candles"),
        FeatureSpec("obv_z_20", v, cv, 20, "z-score of on-balance volume within 20 candles"),
        FeatureSpec("obv_z_50", v, cv, 50, "z-score of on-balance volume within 50 candles"),
        FeatureSpec(
            "obv_flow_20", v, cv, 21, "OBV change over 20 candles / volume over 20 candles"
        ),
        FeatureSpec(
            "pv_corr_20", v, cv, 21, "correlation of 1-candle returns and volume, 20 candles"
        ),
        FeatureSpec(
            "pv_corr_50", v, cv, 51, "correlation of 1-candle returns and volume, 50 candles"
        ),
        FeatureSpec(
            "qvpt_ratio_7_30", v, tr, 30, "quote volume per trade, last 7 / last 30 candles"
        ),
        FeatureSpec("trades_ratio_7_30", v, tr, 30, "trades per candle, last 7 / last 30 candles"),
        FeatureSpec("vwap_dist_1", v, tr, 1, "close / candle VWAP (quote volume / volume) - 1"),
        FeatureSpec("vwap_dist_7", v, tr, 7, "close / VWAP of the last 7 candles - 1"),
    ]


def _calendar() -> list[FeatureSpec]:
    c, cv = "calendar", "close_volume"
    return [
        FeatureSpec("day_of_week", c, cv, 1, "day of week of the candle open, 0 = Monday"),
        FeatureSpec("month", c, cv, 1, "month, 1-12"),
        FeatureSpec("quarter", c, cv, 1, "quarter, 1-4"),
        FeatureSpec("is_weekend", c, cv, 1, "1 on Saturday and Sunday (UTC)"),
        FeatureSpec("dow_sin", c, cv, 1, "sin(2 pi day_of_week / 7)"),
        FeatureSpec("dow_cos", c, cv, 1, "cos(2 pi day_of_week / 7)"),
        FeatureSpec("month_sin", c, cv, 1, "sin(2 pi (month - 1) / 12)"),
        FeatureSpec("month_cos", c, cv, 1, "cos(2 pi (month - 1) / 12)"),
        FeatureSpec("doy_sin", c, cv, 1, "sin(2 pi (day_of_year - 1) / 365.25)"),
        FeatureSpec("doy_cos", c, cv, 1, "cos(2 pi (day_of_year - 1) / 365.25)"),
    ]


def _cross_asset() -> list[FeatureSpec]:
    x, m = "cross_asset", "market"
    out = [
        FeatureSpec(f"mkt_ret_log_{k}", x, m, k + 1, f"market log return over {k} candles")
        for k in (1, 7, 30)
    ]
    out += [
        FeatureSpec("mkt_vol_30", x, m, 31, "std of market 1-candle log returns over 30 candles"),
        FeatureSpec("rel_ret_log_7", x, m, 8, "ret_log_7 - mkt_ret_log_7"),
        FeatureSpec("rel_ret_log_30", x, m, 31, "ret_log_30 - mkt_ret_log_30"),
    ]
    for k in (30, 90):
        out.append(
            FeatureSpec(
                f"beta_mkt_{k}", x, m, k + 1, f"beta of 1-candle returns to the market, {k} candles"
            )
        )
        out.append(
            FeatureSpec(
                f"corr_mkt_{k}",
                x,
                m,
                k + 1,
                f"correlation of 1-candle returns with the market, {k} candles",
            )
        )
    return out


SPECS: tuple[FeatureSpec, ...] = (
    *_technical(),
    *_price(),
    *_volume(),
    *_calendar(),
    *_cross_asset(),
)
"""Every built-in feature, in column order within each group."""

FEATURE_GROUPS: dict[str, list[str]] = {
    group: [s.name for s in SPECS if s.group == group] for group in GROUPS
}
"""Group name -> feature names (every feature of the richest set, cross-asset ones included)."""


def specs_for(feature_set: str = "ohlcv_trades", market: bool = False) -> list[FeatureSpec]:
    """The features ``build_features`` returns for ``feature_set``, with or without a market."""
    if feature_set not in FEATURE_SETS:
        raise FeatureError(
            f"unknown feature_set {feature_set!r}; use one of {', '.join(FEATURE_SETS)}"
        )
    level = _SET_LEVEL[feature_set]
    chosen = [
        s
        for s in SPECS
        if (s.needs == "market" and market)
        or (s.needs != "market" and _SET_LEVEL[s.needs] <= level)
    ]
    order = {g: i for i, g in enumerate(GROUPS)}
    return sorted(chosen, key=lambda s: order[s.group])


def feature_names(feature_set: str = "ohlcv_trades", market: bool = False) -> list[str]:
    """Column names, in order, that ``build_features`` returns for ``feature_set``."""
    return [s.name for s in specs_for(feature_set, market)]


def without_groups(features: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """``features`` without the columns of the feature ``groups`` (its ``attrs`` kept): what a
    model trained with ``feature_selection.exclude_groups`` is fitted on.

    Raises :class:`ConfigError` for a group not in :data:`GROUPS`, or when nothing would be left.
    """
    unknown = [g for g in groups if g not in FEATURE_GROUPS]
    if isinstance(groups, str) or unknown:
        raise ConfigError(
            f"unknown feature group(s) {unknown or groups!r} to exclude; name groups from "
            f"{', '.join(GROUPS)}, e.g. ['calendar']"
        )
    drop = [c for g in groups for c in FEATURE_GROUPS[g] if c in features.columns]
    if not drop:
        return features
    kept = features.drop(columns=drop)
    if kept.shape[1] == 0:
        raise ConfigError(
            f"excluding the feature groups {list(groups)} leaves none of the "
            f"{features.shape[1]} features built; keep at least one group"
        )
    kept.attrs.update(features.attrs)
    return kept
