"""The fan chart of a forecast: recent closes, the median path and one band per interval level.

:func:`plot_forecast_path` draws a frame of :meth:`Forecast.to_frame
<cryptoforecast.serving.schemas.Forecast.to_frame>` rows (one horizon, or the path of
:meth:`Predictor.predict_path <cryptoforecast.serving.predictor.Predictor.predict_path>`) with
matplotlib, imported here when called (never at import time). Every number drawn is a column of
the frame: the ``lower_80``/``upper_80`` bounds of each level, the median ``predicted_price``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["CLOSES_SHOWN", "plot_forecast_path"]

#: candles of history drawn before the forecast origin
CLOSES_SHOWN = 90


def _levels(frame: pd.DataFrame, level: float | Iterable[float]) -> list[str]:
    """The column suffixes (``"80"``) of the requested interval levels (one or several), widest
    first; a ValueError naming the levels the frame has when one is missing."""
    if isinstance(level, int | float):
        level = [level]
    available = {
        float(c.removeprefix("lower_")): c.removeprefix("lower_")
        for c in frame.columns
        if c.startswith("lower_") and frame[c].notna().any()
    }
    names, missing = [], []
    for value in level:
        percent = float(value) * 100 if 0 < float(value) < 1 else float(value)
        found = [name for number, name in available.items() if math.isclose(number, percent)]
        names.extend(found[:1])
        if not found:
            missing.append(f"{float(value):g}")
    if missing or not names:
        have = ", ".join(available.values()) or "none (the forecast has no distribution)"
        raise ValueError(
            f"interval level {', '.join(missing) or 'none given'} is not in the forecast; its "
            f"levels are {have}: pass level= a subset of them (percentages, e.g. level=[80, 95])"
        )
    return sorted(names, key=float, reverse=True)


def _source_label(frame: pd.DataFrame) -> str:
    """What served the forecast, as a chart reads it: the model, or the labelled fallback."""
    parts = []
    served = zip(frame["source"], frame["model_type"], strict=True)
    for source, model_type in sorted({(str(s), str(m)) for s, m in served}):
        if source == "technical_analysis_fallback":
            parts.append(f"fallback ({model_type})")
        else:
            parts.append(f"model: {model_type}")
    return "; ".join(parts)


def _horizons(frame: pd.DataFrame) -> str:
    first, last = int(frame.index.min()), int(frame.index.max())
    return f"h={first}" if first == last else f"h={first}..{last}"


def plot_forecast_path(
    frame: pd.DataFrame,
    closes: pd.Series | None = None,
    level: float | Iterable[float] = (80, 95),
    ax: Any = None,
    path: str | Path | None = None,
) -> Figure:
    """Draw ``frame`` (rows of ``Forecast.to_frame``, indexed by horizon) as a fan chart.

    Args:
        frame: one row per horizon, all of one coin and origin (``as_of``).
        closes: the coin's closes up to the origin (a Series on a UTC DatetimeIndex); the last
            ``CLOSES_SHOWN`` are drawn, none after ``as_of``.
        level: interval levels as percentages (``[80, 95]``; ``0.8`` is read as 80); each must
            be one of the frame's ``lower_<level>`` columns, else a ValueError lists them.
        ax: a matplotlib Axes to draw on (default: a new figure's).
        path: when given, the figure is written there (the format from its suffix, e.g. PNG).

    Returns the matplotlib Figure (``pyplot`` is not used, so nothing is kept between calls; in
    Jupyter, ``%matplotlib inline`` displays it). A single horizon is drawn as its median with a
    bar per level; several as bands from the last close through each horizon's bounds.
    """
    import matplotlib.dates as mdates
    import pandas as pd
    from matplotlib.figure import Figure

    if frame.empty:
        raise ValueError(
            "the forecast frame has no rows: pass Forecast.to_frame() or predict_path()"
        )
    names = _levels(frame, level)
    coins = frame["crypto_id"].unique()
    origins = frame["as_of"].unique()
    if len(coins) != 1 or len(origins) != 1:
        raise ValueError(
            f"a fan chart draws one coin from one origin; the frame has coins {list(coins)} and "
            f"origins {[str(o) for o in origins]}"
        )
    frame = frame.sort_values("target_time")
    as_of = pd.Timestamp(origins[0])
    last_close = float(frame["last_close"].iloc[0])

    if ax is None:
        fig = Figure(figsize=(10, 5), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    if closes is not None and len(closes):
        shown = closes.loc[closes.index <= as_of].iloc[-CLOSES_SHOWN:]
        ax.plot(shown.index, shown.to_numpy(dtype=float), color="0.2", lw=1.2, label="close")
    times = [as_of, *frame["target_time"]]
    median = [last_close, *frame["predicted_price"].astype(float)]
    shades = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"]
    single = len(frame) == 1
    for i, name in enumerate(names):
        lower = frame[f"lower_{name}"].astype(float).to_numpy()
        upper = frame[f"upper_{name}"].astype(float).to_numpy()
        colour = shades[min(i, len(shades) - 1)]
        if single:
            centre = float(frame["predicted_price"].iloc[0])
            ax.errorbar(
                frame["target_time"],
                [centre],
                yerr=[[centre - lower[0]], [upper[0] - centre]],
                fmt="none",
                ecolor=colour,
                elinewidth=8 - 3 * min(i, 2),
                label=f"{name}% interval",
            )
        else:
            ax.fill_between(
                times,
                [last_close, *lower],
                [last_close, *upper],
                color=colour,
                alpha=0.6,
                lw=0,
                label=f"{name}% interval",
            )
    ax.plot(times, median, color="#d94801", lw=1.8, marker="o", ms=3, label="median forecast")
    ax.axvline(as_of, color="0.5", lw=0.8, ls=":")
    locator = mdates.AutoDateLocator(minticks=4, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_ylabel("price")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    daily = set(frame["interval"]) == {"1d"}  # a daily candle is named by its day
    origin = f"{as_of:%Y-%m-%d}" if daily else f"{as_of:%Y-%m-%d %H:%M} UTC"
    ax.set_title(
        f"{coins[0]}: forecast as of {origin}, {_horizons(frame)} ({_source_label(frame)})"
    )
    if path is not None:
        fig.savefig(path)
    return fig
