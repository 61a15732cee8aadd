"""The accuracy page (``/accuracy``): the ledger scored now, with a rolling-MASE chart per key,
and the served distribution's CRPS, coverage and PIT beside garch_ref's and the 30-day
Gaussian's, with a plain verdict against garch_ref.

The rows are ``score_frame`` of the same scored frame ``GET /v1/accuracy`` scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from cryptoforecast.serving.dashboard.charts import LineSeries, line_chart
from cryptoforecast.serving.ledger import score_frame
from cryptoforecast.serving.predictor import Predictor
from cryptoforecast.serving.schemas import AccuracyRow

__all__ = ["ROLLING_WINDOW", "AccuracyKey", "AccuracyPage", "accuracy_page", "rolling_mase"]

#: scored forecasts per point of the rolling-MASE chart
ROLLING_WINDOW = 30


@dataclass(frozen=True)
class AccuracyKey:
    row: AccuracyRow
    beats_naive: bool | None
    chart: str | None


@dataclass(frozen=True)
class AccuracyPage:
    scored_at: datetime
    keys: list[AccuracyKey]
    any_scored: bool
    any_beats: bool
    any_distribution: bool = False


def rolling_mase(done: pd.DataFrame, window: int = ROLLING_WINDOW) -> pd.Series:
    """MASE of the last ``window`` scored forecasts (fewer while there are fewer), by target."""
    done = done.sort_values("target_time")
    a = done["actual"].to_numpy(dtype="float64")
    err = pd.Series(np.abs(a - done["predicted_price"].to_numpy(dtype="float64")))
    naive = pd.Series(np.abs(a - done["last_close"].to_numpy(dtype="float64")))
    w = max(1, min(window, len(done)))
    ratio = err.rolling(w).sum() / naive.rolling(w).sum().replace(0.0, np.nan)
    return pd.Series(ratio.to_numpy(), index=pd.DatetimeIndex(done["target_time"])).dropna()


def accuracy_page(pred: Predictor) -> AccuracyPage:
    """The ledger scored now: one entry per (coin, model type, horizon), with its chart."""
    now = pred.clock()
    frame = pred.ledger.scored(now=now)
    scored = frame[np.isfinite(frame["actual"].to_numpy(dtype="float64"))]
    by_key = dict(list(scored.groupby(["crypto_id", "model_type", "horizon"])))
    keys = []
    for row in score_frame(frame):
        chart = None
        done = by_key.get((row.crypto_id, row.model_type, row.horizon))
        if done is not None:
            roll = rolling_mase(done)
            if len(roll):
                w = min(ROLLING_WINDOW, row.n_scored)
                chart = line_chart(
                    [
                        LineSeries(
                            f"MASE of the last {w}",
                            [(t.to_pydatetime(), v) for t, v in roll.items()],
                        )
                    ],
                    f"{row.crypto_id} {row.model_type} h={row.horizon}: rolling MASE over the "
                    f"last {w} scored forecasts",
                    reference=(1.0, "naive = 1"),
                )
        beats = None if row.mase is None else row.mase < 1
        keys.append(AccuracyKey(row, beats, chart))
    return AccuracyPage(
        now,
        keys,
        any_scored=any(k.row.n_scored for k in keys),
        any_beats=any(k.beats_naive for k in keys),
        any_distribution=any(k.row.n_distribution for k in keys),
    )
