"""Serving a global model: one coin's features plus the cross-sectional ones, up to its origin.

A global model (``universe_`` set, :mod:`cryptoforecast.models.global_model`) reads how the coin
moved against the market. At serving time the market is the model's universe, each coin's
cached candles from the same source, cut at the forecast's origin (the coin's last candle): a
candle of another coin after the origin never reaches the forecast. The columns come from
:func:`~cryptoforecast.features.cross_section.cross_section_features`, the code training uses.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from cryptoforecast.features.cross_section import cross_section_features, market_closes

__all__ = ["with_cross_section"]


def with_cross_section(
    crypto_id: str,
    candles: pd.DataFrame,
    features: pd.DataFrame,
    universe: Sequence[str],
    load: Callable[[str], pd.DataFrame],
) -> pd.DataFrame:
    """``features`` of ``crypto_id`` joined with its cross-sectional features.

    ``load(coin)`` returns another coin's cached candles (``Predictor.candles``); rows after
    ``candles``' last time are dropped before anything is computed.
    """
    origin = candles.index[-1]
    market = {coin: candles if coin == crypto_id else load(coin).loc[:origin] for coin in universe}
    xs = cross_section_features(candles, market_closes(market))
    out = features.join(xs)
    out.attrs.update(features.attrs)
    return out
