"""Cross-sectional features: a coin's returns against the market's, from candles up to each row.

The global model (:mod:`cryptoforecast.models.global_model`) pools the rows of every coin; the
per-coin features (``build_features``) are scale-free already, and these add what only the other
coins can tell: how the coin moved relative to the market. The market is the *universe* of coins
the model was trained on, held as a wide frame of closes (one column per coin,
:func:`market_closes`).

For ``k`` in :data:`WINDOWS` (log returns over ``k`` candles):

- ``xs_mkt_ret_k``: the equal-weight market return (mean over the coins quoted at both ends);
- ``xs_rel_mkt_k``: the coin's return minus the market's;
- ``xs_rel_btc_k``: the coin's return minus bitcoin's (only when bitcoin is in the universe);
- ``xs_rank_ret_7``: the coin's 7-candle return as a percentile rank among the universe (0..1).

Every value at time ``t`` reads only closes at or before ``t`` of every coin (row shifts and
row-wise means, never a window ahead and nothing fitted), so a change to any coin's candles
after ``t`` leaves the row at ``t`` unchanged; ``check_lookahead(cross_section_features, ohlcv,
market=closes)`` checks it and the tests run it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cryptoforecast.exceptions import DataError

__all__ = ["REFERENCE_COIN", "WINDOWS", "cross_section_features", "market_closes"]

#: return windows (candles) of the cross-sectional features
WINDOWS: tuple[int, ...] = (1, 7, 30)
#: the coin other coins are also measured against, when it is in the universe
REFERENCE_COIN = "bitcoin"


def market_closes(candles: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The universe's closes as one wide frame: a column per coin, the union of their times.

    A coin not quoted at a time has NaN there (nothing is filled forward or back).
    """
    if not candles:
        raise DataError("the market needs the candles of at least one coin; got none")
    cols = {}
    for coin, frame in candles.items():
        if not isinstance(frame, pd.DataFrame) or "close" not in frame.columns:
            raise DataError(
                f"candles of {coin!r} have no 'close' column (got "
                f"{type(frame).__name__}); load them with load_ohlcv"
            )
        cols[str(coin)] = frame["close"].astype("float64")
    return pd.DataFrame(cols).sort_index()


def _log_returns(closes: pd.DataFrame, k: int) -> pd.DataFrame:
    values = closes.to_numpy(dtype="float64")
    out = np.full_like(values, np.nan)
    if len(values) > k:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[k:] = np.log(values[k:] / values[:-k])
    return pd.DataFrame(out, index=closes.index, columns=closes.columns)


def cross_section_features(ohlcv: pd.DataFrame, market: pd.DataFrame) -> pd.DataFrame:
    """Cross-sectional features of the coin whose candles are ``ohlcv``, on ``ohlcv``'s index.

    ``market`` is :func:`market_closes` of the universe (it may or may not hold this coin; the
    coin's own closes are always those of ``ohlcv``). Market rows after the coin's last candle
    are ignored, so the caller may pass a market that runs further.
    """
    if "close" not in ohlcv.columns:
        raise DataError(f"cross-sectional features need a 'close' column; got {list(ohlcv)[:8]}")
    if market.shape[1] == 0:
        raise DataError("the market frame has no coins; build it with market_closes(candles)")
    index = ohlcv.index
    mkt = market.loc[market.index <= index[-1]] if len(index) else market.iloc[:0]
    own = ohlcv["close"].astype("float64")
    out: dict[str, pd.Series] = {}
    for k in WINDOWS:
        wide = _log_returns(mkt, k)
        own_k = _log_returns(own.to_frame("own"), k)["own"]
        mkt_k = wide.mean(axis=1, skipna=True).reindex(index)
        out[f"xs_mkt_ret_{k}"] = mkt_k
        out[f"xs_rel_mkt_{k}"] = own_k - mkt_k
        if REFERENCE_COIN in wide.columns:
            out[f"xs_rel_btc_{k}"] = own_k - wide[REFERENCE_COIN].reindex(index)
    wide7 = _log_returns(mkt, 7).reindex(index)
    own7 = _log_returns(own.to_frame("own"), 7)["own"]
    n = wide7.notna().sum(axis=1)
    below = wide7.lt(own7, axis=0).sum(axis=1)
    rank = below / (n - 1).where(n > 1)
    out["xs_rank_ret_7"] = rank.clip(0.0, 1.0).where(own7.notna())
    frame = pd.DataFrame(out, index=index)
    return frame.replace([np.inf, -np.inf], np.nan)
